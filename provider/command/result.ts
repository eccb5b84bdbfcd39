import { EXIT, MARK, Script } from "./script";

/** What came back from running a script, before interpretation. */
export interface RawOutput {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** A successful script: its captured sections by name (stdout of each `capture`), and its stderr. */
export interface ScriptResult {
  sections: Record<string, string>;
  stderr: string;
}

export type FailureKind = "failed" | "refused" | "lockTimeout" | "timeout" | "connection";

/**
 * A script that did not succeed, with everything a user needs to act and nothing secret: the target
 * (user@host:port), the operation, the step that failed, the exit code and that step's stderr.
 */
export class HostCommandError extends Error {
  constructor(
    readonly target: string,
    readonly operation: string,
    readonly kind: FailureKind,
    readonly step: string | undefined,
    readonly exitCode: number | null,
    readonly detail: string,
    /**
     * The script changes the host (it holds a VG lock) and was sent, but no exit status came back: it may have done
     * all, some or none of its work (undone or journaled on the host), and the client cannot tell which.
     */
    readonly outcomeUnknown = false,
  ) {
    super(HostCommandError.describe(target, operation, kind, step, exitCode, detail));
    this.name = "HostCommandError";
  }

  private static describe(target: string, operation: string, kind: FailureKind, step: string | undefined,
    exitCode: number | null, detail: string): string {
    const where = `${target}: ${operation}`;
    const text = detail.trim() || "(no output)";
    switch (kind) {
      case "refused": return `${where}: ${text}`;
      case "lockTimeout": return `${where}: ${text}`;
      case "timeout": return `${where}: timed out${step ? ` in step "${step}"` : ""}: ${text}`;
      case "connection": return `${where}: ${text}`;
      default: return `${where}: step "${step ?? "start"}" failed (exit ${exitCode ?? "none"}): ${text}`;
    }
  }
}

/** Splits stdout into the sections the script marked. */
export function parseSections(stdout: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let name: string | undefined;
  let lines: string[] = [];
  for (const line of stdout.split("\n")) {
    if (name === undefined) {
      if (line.startsWith(MARK.section)) { name = line.slice(MARK.section.length); lines = []; }
    } else if (line === MARK.end) {
      sections[name] = (sections[name] ?? "") + lines.join("\n").replace(/\n$/, "");
      name = undefined;
    } else {
      lines.push(line);
    }
  }
  return sections;
}

/** Interprets a script's raw output: the sections on success; throws a HostCommandError otherwise. */
export function interpret(target: string, script: Script, raw: RawOutput): ScriptResult {
  if (raw.exitCode === 0) return { sections: parseSections(raw.stdout), stderr: stripMarks(raw.stderr) };

  const { step, since, refusal, left } = readStderr(raw.stderr);
  const detail = (refusal ?? since.join("\n")) + (left ? LEFT[left] : "");
  const kind: FailureKind =
    raw.exitCode === EXIT.lockTimeout && refusal ? "lockTimeout" : raw.exitCode === EXIT.refused && refusal ? "refused" : "failed";
  const signal = raw.signal ? ` (killed by ${raw.signal})` : "";
  throw new HostCommandError(target, script.operation, kind, step, raw.exitCode, detail + signal);
}

/**
 * What a script's stderr says: the last step it started (undo steps aside), the lines printed since then, and a
 * refusal of its own (`__fail`) if it made one.
 */
export function readStderr(stderr: string): { step?: string; since: string[]; refusal?: string; left?: Left } {
  let step: string | undefined;
  let since: string[] = [];
  let refusal: string | undefined;
  let left: Left | undefined;
  for (const line of stderr.split("\n")) {
    if (line.startsWith(MARK.left)) {
      const what = line.slice(MARK.left.length);
      if (what === "undone" || what === "journal") left = what;
    } else if (line.startsWith(MARK.step)) {
      const s = line.slice(MARK.step.length);
      if (s !== "undo") { step = s; since = []; }
    } else if (line.startsWith(MARK.fail)) {
      refusal = line.slice(MARK.fail.length);
    } else if (line.trim() !== "") {
      since.push(line);
    }
  }
  return { step, since, refusal, left };
}

type Left = "undone" | "journal";
/** What a failed operation left on the host, told after its error. */
const LEFT: Record<Left, string> = {
  undone: "\n(the operation's earlier steps were undone on the host: nothing of it is left there)",
  journal: "\n(the host's journal, LV tags, records where the operation stopped: the next pulumi up finishes it)",
};

function stripMarks(stderr: string): string {
  return stderr.split("\n").filter((l) => !l.startsWith(MARK.step)).join("\n");
}
