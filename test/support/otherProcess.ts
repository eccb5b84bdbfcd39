import { spawn } from "child_process";
import * as path from "path";
import { Engine, Result } from "../engine/driver";

/**
 * Runs one engine operation of a program in a process of its own: the Pulumi runtime is process-wide, so a second
 * stack operating at the same time as this process's needs one, as a second `pulumi up` would. `program` names an
 * export of `module` (a built file under dist/test) that takes `args` and returns the program.
 */
export function upInOtherProcess(o: { module: string; program: string; args: unknown; stateFile: string; op: "up" | "destroy" }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename], { env: { ...process.env, PULUMI_LVM_OTHER_PROCESS: JSON.stringify(o) }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as Result);
      } catch {
        reject(new Error(`the other process exited ${code} without a result: ${out.slice(-500)}`));
      }
    });
  });
}

async function main(o: { module: string; program: string; args: unknown; stateFile: string; op: "up" | "destroy" }): Promise<void> {
  const engine = new Engine({ programDir: path.resolve(__dirname, ".."), stateFile: o.stateFile, project: "other", stack: "test", log: () => undefined });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const make = require(o.module)[o.program] as (args: unknown) => () => void;
  const result = o.op === "up" ? await engine.up(make(o.args)) : await engine.destroy();
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
  process.exit(0);
}

if (require.main === module && process.env.PULUMI_LVM_OTHER_PROCESS) {
  main(JSON.parse(process.env.PULUMI_LVM_OTHER_PROCESS)).catch((e) => { console.error(e); process.exit(1); });
}
