import { TestHost } from "../host/testHost";
import { installWrapper, removeWrappers } from "./guest";

/**
 * Fault injection on the test guest: wrappers placed first on the PATH every operation script uses
 * (/usr/local/sbin) count the calls that change something (LVM's lv* tools and those that add and remove devices,
 * and qemu-img's writing subcommands) in
 * the order they happen, and the N-th one is made to go wrong:
 * - `fail`: the command fails without doing anything, as a real tool failure would;
 * - `drop`: the SSH session that runs the operation is killed (its sshd process, SIGKILL), then the command runs
 *   anyway: the connection is cut while the step runs, and the host goes on without the client;
 * - `power`: the command starts, runs for the armed delay (or until it has written the armed number of bytes), and
 *   is then frozen (SIGSTOP) where it is, mid-way (or, if it was quicker, just after it ended, before the script goes
 *   on); the wrapper reports which in `cut` and blocks, so
 *   the test can cut the guest's power there (waitForCut, TestHost.powerCycle). Work the kernel does for the command
 *   (a pvmove's mirror, a snapshot merge) goes on until the power goes.
 * Every counted call is logged, so a test can say which step each N was. The state lives on /run, which a boot
 * empties: after a power cut the wrappers (on the root disk, so still installed) run every command untouched.
 */
export type FaultKind = "fail" | "drop" | "power";

const DIR = "/run/pulumi-lvm-faults";
const LVM_TOOLS = ["lvcreate", "lvremove", "lvrename", "lvchange", "lvconvert", "lvextend", "pvcreate", "vgextend", "vgchange", "pvmove", "vgreduce", "pvremove"];
const WRITING_QEMU_IMG = ["create", "commit", "rebase", "resize", "convert"];

const wrapper = (real: string, counted: string) => `#!/bin/sh
${counted}
[ -d ${DIR} ] || exec ${real} "$@"
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
    power)
      ${real} "$@" & c=$!
      want=$(cat ${DIR}/written)
      if [ "$want" -gt 0 ]; then
        i=0
        while [ "$(awk '/^wchar:/ { print $2 }' /proc/$c/io 2>/dev/null)" -lt "$want" ] 2>/dev/null && [ "$i" -lt 2000 ]; do
          sleep 0.005; i=$((i + 1))
        done
      else
        sleep "$(cat ${DIR}/delay)"
      fi
      kill -STOP "$c" 2>/dev/null
      case "$(cut -d' ' -f3 /proc/$c/stat 2>/dev/null)" in T|t) state=mid-way ;; *) state=ended ;; esac
      echo "$state" > ${DIR}/cut.new && mv ${DIR}/cut.new ${DIR}/cut
      exec sleep 3600 ;;
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

/** When a `power` fault freezes its command: after `delay` seconds, or once it has written `written` bytes. */
export type PowerCut = { delay: number } | { written: number };

/** From now on, the `at`-th counted call goes wrong as `kind` (a `power` one frozen at `cut`); the count starts again at 0. */
export async function arm(h: TestHost, at: number, kind: FaultKind, cut: PowerCut = { delay: 0 }): Promise<void> {
  const [delay, written] = "written" in cut ? [0, cut.written] : [cut.delay, 0];
  await h.exec(`mkdir -p ${DIR}; rm -f ${DIR}/cut; echo 0 > ${DIR}/count; : > ${DIR}/log; echo ${at} > ${DIR}/at; ` +
    `echo ${kind} > ${DIR}/kind; echo ${delay} > ${DIR}/delay; echo ${written} > ${DIR}/written`);
}

/** No fault; returns the calls counted since the last arm (none after a power cut: /run is empty after a boot). */
export async function disarm(h: TestHost): Promise<string[]> {
  const log = await h.exec(`cat ${DIR}/log 2>/dev/null; [ ! -d ${DIR} ] || echo 0 > ${DIR}/at`);
  return log.split("\n").filter(Boolean);
}

/** Whether the fault state is gone, as it must be after a boot (the wrappers then pass every command through). */
export async function faultStateGone(h: TestHost): Promise<boolean> {
  return (await h.exec(`[ -d ${DIR} ] && echo armed || echo gone`)).trim() === "gone";
}

/**
 * Waits until an armed `power` fault holds its step (the operation `running` is then stuck there), and returns
 * whether the command was frozen mid-way or had already ended, with the calls counted so far; undefined when the
 * operation ended first (it has fewer steps than `at`).
 */
export async function waitForCut(h: TestHost, running: Promise<unknown>): Promise<{ state: string; calls: string[] } | undefined> {
  let ended = false;
  void running.finally(() => { ended = true; });
  for (;;) {
    const out = await h.exec(`cat ${DIR}/cut 2>/dev/null && echo --- && cat ${DIR}/log || true`);
    if (out.trim()) {
      const [state, log] = out.split("---\n");
      return { state: state.trim(), calls: log.split("\n").filter(Boolean) };
    }
    if (ended) return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
}
