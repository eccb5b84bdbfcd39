import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Engine, EngineOptions, Result, Step } from "../engine/driver";

/** An engine with its own state file, logging the plan to a buffer (echoed when PULUMI_LVM_TEST_VERBOSE is set). */
export function testEngine(project = "e2e", options: Partial<EngineOptions> = {}): { engine: Engine; lines: string[]; stateFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-e2e-"));
  const lines: string[] = [];
  const stateFile = path.join(dir, "state.json");
  const engine = new Engine({
    // The plugin's working directory: inside the repository, so `require("pulumi-lvm")` resolves to this build.
    programDir: path.resolve(__dirname, ".."),
    stateFile,
    project,
    stack: "test",
    log: (line) => {
      lines.push(line);
      if (process.env.PULUMI_LVM_TEST_VERBOSE) console.log(`      ${line}`);
    },
    ...options,
  });
  return { engine, lines, stateFile };
}

/** The steps of a result that change something (or drifted, for a refresh). */
export function changes(r: Result): Step[] {
  return r.steps.filter((s) => s.op !== "same" && !(s.op === "read" && s.changedFields.length === 0 && !s.gone));
}

/** Fails with the engine's own failure text when an operation did not succeed. */
export function mustSucceed(r: Result): Result {
  if (!r.ok) throw new Error(`operation failed:\n${r.failures.map((f) => `${f.name ?? ""} ${f.property ?? ""} ${f.reason}`).join("\n")}`);
  return r;
}

/** How long named steps took, for the line a suite prints at its end. */
export function stopwatch() {
  const timings: string[] = [];
  const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    try { return await run(); } finally { timings.push(`${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`); }
  };
  return { timings, timed };
}
