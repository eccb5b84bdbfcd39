import { spawn } from "child_process";
import { CommandRunner, interpret, Script, ScriptResult } from "../../provider/command";

/** Runs scripts with the local /bin/sh exactly as the SSH layer runs them remotely (script on stdin). */
export class LocalShell implements CommandRunner {
  readonly target = "local";
  run(script: Script): Promise<ScriptResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-s"], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (exitCode, signal) => {
        try { resolve(interpret(this.target, script, { exitCode, signal: signal ?? undefined, stdout, stderr })); } catch (e) { reject(e); }
      });
      child.stdin.end(script.text());
    });
  }
}
