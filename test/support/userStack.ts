// Runs one engine operation on a user's project (its compiled program in `<project>/bin`), in a process of its own so
// that it runs under the Node binary the caller chose: `node userStack.js <project> <state file> <up|preview|destroy>`, with the
// stack config as JSON in USER_STACK_CONFIG. The engine, the program and the dynamic-provider plugin all use the
// project's own @pulumi/pulumi and its installed pulumi-lvm. Prints one JSON line: the result and the Node version.
import * as path from "path";
import { ConfigValue, Engine } from "../engine/driver";
import { changes } from "./engine";

async function main() {
  const [project, state, operation] = process.argv.slice(2);
  const programDir = path.join(project, "bin");
  const engine = new Engine({
    programDir,
    stateFile: path.join(project, state),
    project: "user-project",
    stack: "test",
    config: JSON.parse(process.env.USER_STACK_CONFIG ?? "{}") as Record<string, ConfigValue>,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const program = () => require(path.join(programDir, "index.js"));
  const result = operation === "destroy" ? await engine.destroy()
    : operation === "preview" ? await engine.preview(program) : await engine.up(program);
  process.stdout.write(`${JSON.stringify({ ok: result.ok, node: process.version, failures: result.failures,
    changes: changes(result).map((s) => `${s.op} ${s.type} ${s.name}`) })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
