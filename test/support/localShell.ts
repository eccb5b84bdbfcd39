import { spawn } from "child_process";
import { CommandRunner, interpret, ProgressLines, Script, ScriptResult } from "../../provider/command";
import { reportProgress } from "../../provider/progress";

/**
 * Runs scripts with the local /bin/sh exactly as the SSH layer runs them remotely (script on stdin), progress marks
 * on stderr going to reportProgress as they arrive.
 */
export class LocalShell implements CommandRunner {
  readonly target = "local";
  run(script: Script): Promise<ScriptResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-s"], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      const stderrLines = new ProgressLines(reportProgress, (text) => (stderr += text));
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d: Buffer) => stderrLines.write(d));
      child.on("error", reject);
      child.on("close", (exitCode, signal) => {
        stderrLines.end();
        try { resolve(interpret(this.target, script, { exitCode, signal: signal ?? undefined, stdout, stderr })); } catch (e) { reject(e); }
      });
      child.stdin.end(script.text());
    });
  }
}
