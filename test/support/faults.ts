import { TestHost } from "../host/testHost";
import { installWrapper, removeWrappers, WRAPPERS } from "./guest";

/**
 * Fault injection on the test guest: wrappers placed first on the PATH every operation script uses
 * (/usr/local/sbin) count the calls that change something (STEP_COMMANDS) in the order they happen, and the N-th one
 * is made to go wrong:
 * - `fail`: the command fails without doing anything, as a real tool failure would;
 * - `drop`: the SSH session that runs the operation is killed (its sshd process, SIGKILL; a detached export worker has
 *   none, so every SSH session of the guest is), then the command runs anyway: the connection is cut while the step
 *   runs, and the host goes on without the client;
 * - `power`: the command starts and is frozen (SIGSTOP) where its `cut` says: a delay after it started, once it has
 *   written so many bytes, or just after it `ended`, before the script hears of it. The wrapper reports in `cut` whether
 *   the command was frozen `mid-way` or had already ended, and holds the step, so the test can cut the guest's power
 *   there (waitForCut, TestHost.powerCycle) or, when the freeze came too late, let the step go on (release). Work the
 *   kernel does for the command (a pvmove's mirror, a snapshot merge) goes on until the power goes.
 * Every counted call is logged, so a test can say which step each N was. The state lives on /run, which a boot
 * empties: after a power cut the wrappers (on the root disk, so still installed) run every command untouched.
 */
export type FaultKind = "fail" | "drop" | "power";

const DIR = "/run/pulumi-lvm-faults";

/**
 * Every command an operation script runs that changes LVM metadata, a device or an image. Each call of one is a step,
 * unless `step` (the body of a shell function of the call's arguments) says otherwise: then only the calls for which
 * it returns 0 are, and the others, which only look, pass straight through, uncounted. The wrappers are made from this
 * list, and test/unit/faultSteps.test.ts checks that every such command the provider's sources name is on it.
 */
export const STEP_COMMANDS: ReadonlyArray<{ command: string; step?: string }> = [
  ...["lvcreate", "lvremove", "lvrename", "lvchange", "lvconvert", "lvextend", "lvreduce", "lvresize"].map((command) => ({ command })),
  ...["vgcreate", "vgremove", "vgextend", "vgreduce", "vgchange", "vgrename", "vgcfgrestore"].map((command) => ({ command })),
  ...["pvcreate", "pvremove", "pvmove", "pvchange", "pvresize"].map((command) => ({ command })),
  // Without --all (or an --offset to erase) wipefs only lists signatures.
  { command: "wipefs", step: `for a; do case "$a" in -a|--all|-o|--offset|--offset=*|-[!-]*a*) return 0 ;; esac; done; return 1` },
  { command: "blkdiscard" },
  // dd writing onto a device.
  { command: "dd", step: `for a; do case "$a" in of=/dev/*) return 0 ;; esac; done; return 1` },
  // qemu-img's subcommands that write an image; `create -o help` is the preflight's question, `snapshot -l` a listing.
  { command: "qemu-img", step: `case "$1" in create|commit|rebase|resize|convert|amend|snapshot|bitmap|dd) ;; *) return 1 ;; esac
  for a; do case "$a" in help|\\?) return 1 ;; -l) [ "$1" != snapshot ] || return 1 ;; esac; done` },
];

/** The wrapper of `command` (found at install as @REAL@), counting the calls `step` says are steps. */
const wrapper = (step: string | undefined) => `#!/bin/sh
real=@REAL@
is_step() {
  ${step ?? "return 0"}
}
is_step "$@" || exec "$real" "$@"
[ -d ${DIR} ] || exec "$real" "$@"
n=$(( $(cat ${DIR}/count 2>/dev/null || echo 0) + 1 ))
echo "$n" > ${DIR}/count
echo "$n $(basename "$0") $*" >> ${DIR}/log
[ "$n" = "$(cat ${DIR}/at 2>/dev/null)" ] || exec "$real" "$@"
case "$(cat ${DIR}/kind)" in
  fail) echo "injected failure at call $n: $(basename "$0") $*" >&2; exit 1 ;;
  drop)
    p=$$
    while [ "$p" -gt 1 ]; do
      case "$(cat /proc/$p/comm)" in sshd*) kill -9 "$p"; exec "$real" "$@" ;; esac
      p=$(cut -d' ' -f4 /proc/$p/stat)
    done
    # A detached worker: no session of its own, so every SSH session (not the listener, whose parent is init) goes.
    echo detached > ${DIR}/dropped
    for s in /proc/[0-9]*; do
      case "$(cat $s/comm 2>/dev/null)" in sshd*) [ "$(cut -d' ' -f4 $s/stat)" = 1 ] || kill -9 "\${s#/proc/}" ;; esac
    done
    exec "$real" "$@" ;;
esac
# power: run the command, freeze it where the cut says, report, and hold the step.
"$real" "$@" & c=$!
me=$(readlink /proc/$$/exe)
case "$(cat ${DIR}/mode)" in
  ended) wait "$c"; status=$? ;;
  written)
    want=$(cat ${DIR}/amount); i=0
    while [ "$(awk '/^wchar:/ { print $2 }' /proc/$c/io 2>/dev/null)" -lt "$want" ] 2>/dev/null && [ "$i" -lt 4000 ]; do
      case "$(cut -d' ' -f3 /proc/$c/stat 2>/dev/null)" in Z|"") break ;; esac # it ended short of that
      sleep 0.005; i=$((i + 1))
    done
    kill -STOP "$c" 2>/dev/null ;;
  delay)
    # From the moment the command runs (the forked shell has exec'd it), not from the fork.
    while [ "$(readlink /proc/$c/exe 2>/dev/null)" = "$me" ]; do sleep 0.002; done
    sleep "$(cat ${DIR}/amount)"
    kill -STOP "$c" 2>/dev/null ;;
esac
case "$(cut -d' ' -f3 /proc/$c/stat 2>/dev/null)" in T|t) state=mid-way ;; *) state=ended ;; esac
echo "$state" > ${DIR}/cut.new && mv ${DIR}/cut.new ${DIR}/cut
while [ ! -e ${DIR}/release ]; do sleep 0.2; done
kill -CONT "$c" 2>/dev/null
[ -n "\${status:-}" ] || { wait "$c"; status=$?; }
exit "$status"
`;

const COMMANDS = STEP_COMMANDS.map((s) => s.command);

export async function installFaultWrappers(h: TestHost): Promise<void> {
  // Each wrapper calls its command where the system has it: found with the system's PATH, which has no wrappers.
  await h.exec(`set -e\nmkdir -p ${DIR}\n${STEP_COMMANDS.map((s) => `${installWrapper(s.command, wrapper(s.step))}
real=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin; command -v ${s.command}) || { echo "${s.command} is not installed on the test host" >&2; exit 1; }
sed -i "s|@REAL@|$real|" ${WRAPPERS}/${s.command}`).join("\n")}`);
  await disarm(h);
}

export async function removeFaultWrappers(h: TestHost): Promise<void> {
  await h.exec(`rm -rf ${DIR}; ${removeWrappers(COMMANDS)}`);
}

/**
 * When a `power` fault freezes its command: `delay` seconds after it started, once it has `written` that many bytes,
 * or once it has `ended` (the step done on the host, the script not told).
 */
export type PowerCut = { delay: number } | { written: number } | "ended";

/** The cuts to try in turn until one freezes a command mid-way: `cut`, then ever earlier ones (none for "ended"). */
export function earlierCuts(cut: PowerCut): PowerCut[] {
  if (cut === "ended") return [cut];
  if ("delay" in cut) {
    const cuts: PowerCut[] = [];
    for (let d = cut.delay; d >= 0.01; d /= 2) cuts.push({ delay: Number(d.toFixed(3)) });
    return cuts;
  }
  const cuts: PowerCut[] = [];
  for (let w = cut.written; w >= 64 * 1024; w = Math.floor(w / 2)) cuts.push({ written: w });
  return cuts;
}

/** A power cut is what it says it is: `mid-way` unless it was asked for once the command `ended`. */
export function cutProblem(cut: PowerCut, state: string): string | undefined {
  const want = cut === "ended" ? "ended" : "mid-way";
  return state === want ? undefined : `the command was frozen ${state}, not ${want}`;
}

export const describeCut = (cut: PowerCut) =>
  cut === "ended" ? "once it had ended" : "written" in cut ? `once it wrote ${cut.written} bytes` : `${cut.delay} s after it started`;

/** From now on, the `at`-th counted call goes wrong as `kind` (a `power` one frozen at `cut`); the count starts again at 0. */
export async function arm(h: TestHost, at: number, kind: FaultKind, cut: PowerCut = { delay: 0.3 }): Promise<void> {
  const [mode, amount] = cut === "ended" ? ["ended", 0] : "written" in cut ? ["written", cut.written] : ["delay", cut.delay];
  await h.exec(`mkdir -p ${DIR}; rm -f ${DIR}/cut ${DIR}/release ${DIR}/dropped; echo 0 > ${DIR}/count; : > ${DIR}/log; echo ${at} > ${DIR}/at; ` +
    `echo ${kind} > ${DIR}/kind; echo ${mode} > ${DIR}/mode; echo ${amount} > ${DIR}/amount`);
}

/** No fault; returns the calls counted since the last arm (none after a power cut: /run is empty after a boot). */
export async function disarm(h: TestHost): Promise<string[]> {
  const log = await h.exec(`cat ${DIR}/log 2>/dev/null; [ ! -d ${DIR} ] || echo 0 > ${DIR}/at`);
  return log.split("\n").filter(Boolean);
}

/**
 * Whether the last `drop` cut the connection under a detached process (an export's worker): one that outlives the
 * connection, so the client may reconnect and the run succeed.
 */
export async function droppedUnderDetached(h: TestHost): Promise<boolean> {
  return (await h.exec(`cat ${DIR}/dropped 2>/dev/null || true`)).trim() === "detached";
}

/** Lets a step held by a `power` fault go on, with no power cut: its command ends and the script hears its result. */
export async function release(h: TestHost): Promise<void> {
  await h.exec(`touch ${DIR}/release`);
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

/**
 * The step count an operation's scenario declares against the steps an attempt without a fault counted: a change in
 * either is a change in what the suite faults, to be made on purpose.
 */
export function stepCountProblem(declared: number, calls: readonly string[]): string | undefined {
  return calls.length === declared ? undefined
    : `counted ${calls.length} steps where the scenario declares ${declared}; if the operation changed on purpose, update the scenario:\n  ${calls.join("\n  ")}`;
}
