import { TestHost } from "../host/testHost";
import { installWrapper, removeWrappers } from "./guest";

/**
 * Fault injection on the test guest: wrappers placed first on the PATH every operation script uses
 * (/usr/local/sbin) count the calls that change something (LVM's lv* tools and those that add and remove devices,
 * and qemu-img's writing subcommands) in
 * the order they happen, and the N-th one is made to go wrong:
 * - `fail`: the command fails without doing anything, as a real tool failure would;
 * - `drop`: the SSH session that runs the operation is killed (its sshd process, SIGKILL), then the command runs
 *   anyway: the connection is cut while the step runs, and the host goes on without the client.
 * Every counted call is logged, so a test can say which step each N was.
 */
export type FaultKind = "fail" | "drop";

const DIR = "/run/pulumi-lvm-faults";
const LVM_TOOLS = ["lvcreate", "lvremove", "lvrename", "lvchange", "lvconvert", "lvextend", "pvcreate", "vgextend", "pvmove", "vgreduce", "pvremove"];
const WRITING_QEMU_IMG = ["create", "commit", "rebase", "resize", "convert"];

const wrapper = (real: string, counted: string) => `#!/bin/sh
${counted}
n=$(( $(cat ${DIR}/count 2>/dev/null || echo 0) + 1 ))
echo "$n" > ${DIR}/count
echo "$n $(basename "$0") $*" >> ${DIR}/log
if [ "$n" = "$(cat ${DIR}/at 2>/dev/null)" ]; then
  case "$(cat ${DIR}/kind)" in
    fail) echo "injected failure at call $n: $(basename "$0") $*" >&2; exit 1 ;;
    drop)
      p=$$
      while [ "$p" -gt 1 ]; do
        case "$(cat /proc/$p/comm)" in sshd*) kill -9 "$p"; break ;; esac
        p=$(cut -d' ' -f4 /proc/$p/stat)
      done ;;
  esac
fi
exec ${real} "$@"
`;

export async function installFaultWrappers(h: TestHost): Promise<void> {
  const scripts = [
    ...LVM_TOOLS.map((t) => [t, wrapper(`/usr/sbin/${t}`, "")]),
    // Reads (qemu-img info, measure, check) are not steps: they pass straight through, uncounted.
    // (`qemu-img create -o help` is the preflight's question, not a step.)
    ["qemu-img", wrapper("/usr/bin/qemu-img", `case "$1 $*" in *" -o help"*) exec /usr/bin/qemu-img "$@" ;; esac
case "$1" in ${WRITING_QEMU_IMG.join("|")}) ;; *) exec /usr/bin/qemu-img "$@" ;; esac`)],
  ];
  await h.exec(`mkdir -p ${DIR}\n${scripts.map(([name, text]) => installWrapper(name, text)).join("\n")}`);
  await disarm(h);
}

export async function removeFaultWrappers(h: TestHost): Promise<void> {
  await h.exec(`rm -rf ${DIR}; ${removeWrappers([...LVM_TOOLS, "qemu-img"])}`);
}

/** From now on, the `at`-th counted call goes wrong as `kind`; the count starts again at 0. */
export async function arm(h: TestHost, at: number, kind: FaultKind): Promise<void> {
  await h.exec(`echo 0 > ${DIR}/count; : > ${DIR}/log; echo ${at} > ${DIR}/at; echo ${kind} > ${DIR}/kind`);
}

/** No fault; returns the calls counted since the last arm. */
export async function disarm(h: TestHost): Promise<string[]> {
  const log = await h.exec(`cat ${DIR}/log 2>/dev/null; echo 0 > ${DIR}/at`);
  return log.split("\n").filter(Boolean);
}
