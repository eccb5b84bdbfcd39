import { quote, quoteArgv } from "./quote";

/**
 * Constant shell code, written in this repository. Interpolation is refused at run time (and `never[]` refuses
 * it at compile time): data reaches a script only as quoted argv elements or quoted variables.
 */
export interface ShellCode {
  readonly code: string;
  readonly brand: "ShellCode";
}
export function sh(strings: TemplateStringsArray, ...values: never[]): ShellCode {
  if (values.length > 0 || strings.length !== 1) throw new Error("sh`` takes constant code only; pass data as vars");
  return { code: strings[0], brand: "ShellCode" };
}

export type Argv = readonly string[];

/** Markers the script writes so the caller can tell sections of output and the failing step apart. */
export const MARK = {
  step: "::pulumi-lvm:step ",
  fail: "::pulumi-lvm:fail ",
  section: "::pulumi-lvm:section ",
  end: "::pulumi-lvm:end",
  /** What a failed script left behind: `undone` (its undo steps ran) or `journal` (it failed past forgetUndos). */
  left: "::pulumi-lvm:left ",
  /** A line for the person waiting (provider/progress.ts), passed on as it arrives and kept out of the error text. */
  progress: "::pulumi-lvm:progress ",
} as const;

/**
 * How `__progress` reads a long command's own progress output: qemu-img -p's `    (42.00/100%)`, pvmove's
 * `/dev/vdb: Moved: 42.00%`, dd status=progress's `<bytes> bytes (...) copied, ...` and blkdiscard --verbose --step's
 * `<dev>: Zero-filled <bytes> bytes from the offset <offset>` (the last two against a total of bytes).
 */
export type ProgressFormat = "qemu-img" | "pvmove" | "dd" | "blkdiscard";

/**
 * Seconds between looks at a long command's progress (the first is after 1 s); a line is printed on a new 10% step,
 * else every 3rd look.
 */
export const PROGRESS_LOOK_SECONDS = 2;

/** Exit codes the scripts use for their own refusals, so callers can type the error. */
export const EXIT = { refused: 65, lockTimeout: 75 } as const;

const VAR_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * `__progress <text> <format> <total bytes> <command...>` runs a command that takes minutes as `run` would (its
 * status is the function's, its output ends on stderr), while a watcher looks at its progress output after 1 s, then
 * every PROGRESS_LOOK_SECONDS, and prints `<text> 42%` as a progress mark: on each new 10% step, else at most every third
 * look, and only when the figure moved. The command writes to a file rather than a pipe, so nothing buffers its
 * output, no reader's end can stop it, and its exit status is its own; its output other than progress is copied to
 * stderr when it ends, where a failure's text is expected. (stdbuf makes a command that prints with stdio, such as
 * blkdiscard, write each line as it goes.) Without a temporary file the command runs plainly, without progress.
 * The watcher runs with its own `sleep` off the channel, so sshd never waits for it, and ends once its shell is gone.
 */
const PROGRESS = `__progress_read() {
  awk -v mode="$1" -v format="$__pformat" -v total="$__ptotal" '
    function percent(r,   f, n) {
      if (format == "qemu-img" && r ~ /^ *[(][0-9.]+[/]100%[)] *$/) { sub(/^ *[(]/, "", r); return r + 0 }
      if (format == "pvmove" && r ~ /: Moved: *[0-9.]+% *$/) { sub(/.*: Moved: */, "", r); return r + 0 }
      if (format == "dd" && total > 0 && r ~ /^[0-9]+ bytes .* copied/) return 100 * (r + 0) / total
      if (format == "blkdiscard" && total > 0 && r ~ /: Zero-filled [0-9]+ bytes from the offset [0-9]+ *$/) {
        n = split(r, f, " "); return 100 * (f[n - 5] + f[n]) / total
      }
      return -1
    }
    {
      n = split($0, records, "\\r")
      for (i = 1; i <= n; i++) {
        p = percent(records[i])
        if (p >= 0) last = p
        else if (mode == "rest" && records[i] ~ /[^ ]/) print records[i]
      }
    }
    END { if (mode == "last" && last != "") printf "%d\\n", (last > 100 ? 100 : last) }'
}
__progress_watch() {
  trap - EXIT
  __plooks=0 __pshown='' __ppause=1
  while sleep "$__ppause" </dev/null >/dev/null 2>&1 && kill -0 "$$" 2>/dev/null; do
    __plooks=$((__plooks + 1)) __ppause=${PROGRESS_LOOK_SECONDS}
    __pnow=$(tail -c 1024 "$__pfile" 2>/dev/null | __progress_read last 2>/dev/null) || continue
    [ -n "$__pnow" ] && [ "$__pnow" != "$__pshown" ] || continue
    if [ -z "$__pshown" ] || [ $((__pnow / 10)) -gt $((__pshown / 10)) ] || [ "$__plooks" -ge 3 ]; then
      printf '${MARK.progress}%s %s%%\\n' "$__ptext" "$__pnow" >&2
      __pshown=$__pnow __plooks=0
    fi
  done
}
__progress() {
  __ptext=$1 __pformat=$2 __ptotal=$3
  shift 3
  if ! __pfile=$(mktemp /dev/shm/pulumi-lvm-progress.XXXXXX 2>/dev/null || mktemp 2>/dev/null); then
    "$@" </dev/null >&2
    return
  fi
  if command -v stdbuf >/dev/null 2>&1; then set -- stdbuf -oL "$@"; fi
  __progress_watch </dev/null &
  __pwatch=$!
  __prc=0
  "$@" </dev/null >"$__pfile" 2>&1 || __prc=$?
  kill "$__pwatch" 2>/dev/null || true
  wait "$__pwatch" 2>/dev/null || true
  __progress_read rest <"$__pfile" >&2 || { [ "$__prc" -ne 0 ] || __prc=1; }
  rm -f "$__pfile"
  return "$__prc"
}
`;

const PRELUDE = `set -eu
export LC_ALL=C LANG=C LVM_SUPPRESS_FD_WARNINGS=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
__undos=''
__journaled=''
__finals=''
__step() { printf '${MARK.step}%s\\n' "$1" >&2; }
__fail() { printf '${MARK.fail}%s\\n' "$1" >&2; exit "\${2:-${EXIT.refused}}"; }
__section() { printf '${MARK.section}%s\\n' "$1"; }
__end() { printf '\\n${MARK.end}\\n'; }
__run_finals() {
  __f=$__finals; __finals=''; __frc=0
  for __x in $__f; do "$__x" </dev/null >&2 || __frc=1; done
  return "$__frc"
}
__on_exit() {
  __rc=$?
  set +e
  if [ -n "$__finals" ]; then
    if [ "$__rc" -eq 0 ]; then __step finally; else __step undo; fi
    __run_finals || { echo "a final step failed" >&2; [ "$__rc" -ne 0 ] || __rc=1; }
  fi
  if [ "$__rc" -ne 0 ] && [ -n "$__undos" ]; then
    __step undo
    for __u in $__undos; do "$__u" </dev/null >&2 || true; done
    printf '${MARK.left}undone\\n' >&2
  elif [ "$__rc" -ne 0 ] && [ -n "$__journaled" ]; then
    printf '${MARK.left}journal\\n' >&2
  fi
  exit "$__rc"
}
trap __on_exit EXIT
${PROGRESS}`;

/**
 * One host operation as one script. It travels on one SSH channel as stdin of `sh -s`, so every command in it
 * gets `</dev/null`: nothing may read (and eat) the rest of the script, and nothing can prompt.
 *
 * - `run` runs a command; a failure stops the script (set -e) and names the step.
 * - `capture` runs a command whose stdout the caller wants back under a section name (like `$(...)`, without its
 *   final newline).
 * - `code` runs constant shell code with quoted variables, for checks and loops that would otherwise cost a round trip.
 * - `undo` registers a command that runs, newest first, only if the script later fails: half-done work is undone
 *   on the host itself, even if the connection is lost.
 * - `finally` registers commands that run exactly once: where `runFinally` says, or when the script exits before
 *   reaching that point (success or failure, before any undo). For hooks such as a filesystem thaw.
 * - `lock` serializes the whole script against other operations on the same VG, from any process.
 */
export class Script {
  private readonly body: string[] = [];
  private undoCount = 0;
  private finalCount = 0;
  private locked = false;

  constructor(readonly operation: string) {}

  /** Whether the script changes the host: every such script holds its VG's lock (`lock`). */
  get changesHost(): boolean {
    return this.locked;
  }

  run(step: string, argv: Argv): this {
    this.body.push(`__step ${quote(step)}`, `${quoteArgv(argv)} </dev/null >&2`);
    return this;
  }

  /**
   * Like `run`, for a command that takes minutes: while it runs, its own progress output (read as `format` says;
   * `totalBytes` is what a count of bytes is out of) is reported as `<text> 42%` lines (PROGRESS).
   */
  runWithProgress(step: string, argv: Argv, progress: { text: string; format: ProgressFormat; totalBytes?: number }): this {
    this.body.push(`__step ${quote(step)}`,
      `__progress ${quoteArgv([progress.text, progress.format, String(progress.totalBytes ?? 0), ...argv])}`);
    return this;
  }

  capture(section: string, argv: Argv): this {
    this.body.push(`__step ${quote(section)}`, `__section ${quote(section)}`, `${quoteArgv(argv)} </dev/null`, "__end");
    return this;
  }

  /**
   * Constant code run in the current shell; `vars` become quoted shell variables it can read and `args` its
   * positional parameters ("$@"), for lists such as devices.
   */
  code(step: string, code: ShellCode, vars: Record<string, string> = {}, args: readonly string[] = []): this {
    this.body.push(`__step ${quote(step)}`, ...this.emit(code, vars, args));
    return this;
  }

  /** Like `code`, but what the code prints on stdout is returned under `section`. */
  captureCode(section: string, code: ShellCode, vars: Record<string, string> = {}, args: readonly string[] = []): this {
    this.body.push(`__step ${quote(section)}`, `__section ${quote(section)}`, ...this.emit(code, vars, args), "__end");
    return this;
  }

  private emit(code: ShellCode, vars: Record<string, string>, args: readonly string[]): string[] {
    const lines: string[] = [];
    for (const [name, value] of Object.entries(vars)) {
      if (!VAR_NAME.test(name)) throw new Error(`bad script variable name ${name}`);
      lines.push(`${name}=${quote(value)}`);
    }
    lines.push(args.length > 0 ? `set -- ${args.map(quote).join(" ")}` : "set --");
    lines.push(`{\n${code.code}\n} </dev/null`);
    return lines;
  }

  /**
   * From here on the script outlives its client (a dropped connection, a killed provider): a hang-up or a broken
   * channel no longer kills the shell; its next write to the channel fails instead, and it ends there through its
   * undo steps. Nothing survives SIGKILL (a client's command timeout): what must never be left behind needs a sweep.
   */
  outliveClient(): this {
    this.body.push("trap '' HUP PIPE");
    return this;
  }

  undo(argv: Argv): this {
    const fn = `__undo_${++this.undoCount}`;
    this.body.push(`${fn}() { ${quoteArgv(argv)}; }`, `__undos="${fn} $__undos"`);
    return this;
  }

  /**
   * The point of no return: the undo steps registered so far are dropped, as a step after this one has changed
   * what they would undo (e.g. removed an LV they would restore from). A failure from here on is finished by the
   * next run, from a journal the script wrote before this point.
   */
  forgetUndos(): this {
    this.body.push("__undos=''", "__journaled=1");
    return this;
  }

  finally(argv: Argv): this {
    const fn = `__final_${++this.finalCount}`;
    this.body.push(`${fn}() { ${quoteArgv(argv)}; }`, `__finals="$__finals ${fn}"`);
    return this;
  }

  /** Runs the `finally` commands registered so far, now, as a step; a failure fails the script. */
  runFinally(step: string): this {
    this.body.push(`__step ${quote(step)}`, "__run_finals");
    return this;
  }

  /**
   * Holds /run/lock/pulumi-lvm/<vg>.lock (flock) from here to the end of the script. A locked script changes the
   * host, so from here it also outlives its client (see outliveClient): a lost connection ends it through its undo
   * steps, never in the middle of one.
   */
  lock(vg: string, timeoutSeconds: number): this {
    if (this.locked) throw new Error("a script takes one lock");
    if (!/^[A-Za-z0-9+_.-]+$/.test(vg) || vg.startsWith("-") || vg === "." || vg === "..") {
      throw new Error(`not a valid VG name for a lock: ${JSON.stringify(vg)}`);
    }
    this.locked = true;
    const { file, owner } = vgLockFiles(vg);
    this.code("lock", LOCK, {
      lock_file: file,
      lock_owner_file: owner,
      lock_timeout: String(Math.max(0, Math.floor(timeoutSeconds))),
      lock_what: this.operation,
      lock_exit: String(EXIT.lockTimeout),
    });
    return this.outliveClient();
  }

  /**
   * The whole script text. It ends by reporting that it is done: when the client is gone (the connection cut during
   * the last step), that write fails, so the script ends through its undo steps (or its journal) instead of finishing
   * a change that nobody will record — the next run would find an object it has no record of.
   */
  text(): string {
    return `${PRELUDE}${this.body.join("\n")}\n__step done\n`;
  }
}

/**
 * The flock file of a VG's host-side lock and the file naming its holder. `Script.lock` holds it for a whole script;
 * a detached host process that changes the VG (an export's worker removing its temporary snapshot) takes the same.
 */
export function vgLockFiles(vg: string): { file: string; owner: string } {
  return { file: `/run/lock/pulumi-lvm/${vg}.lock`, owner: `/run/lock/pulumi-lvm/${vg}.owner` };
}

/**
 * Every process costs a slow host about a tenth of a second, and this runs in every operation: the folder is made only
 * when missing, and the holder's start is its owner file's time, read only by a waiter that timed out.
 */
const LOCK = sh`[ -d /run/lock/pulumi-lvm ] || mkdir -p /run/lock/pulumi-lvm
exec 9>>"$lock_file"
if ! flock -w "$lock_timeout" 9; then
  __fail "timed out after \${lock_timeout}s waiting for the lock $lock_file, held by: $(cat "$lock_owner_file" 2>/dev/null || echo unknown), since $(date -u -r "$lock_owner_file" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')" "$lock_exit"
fi
printf '%s (pid %s)\\n' "$lock_what" "$$" > "$lock_owner_file"`;
