#!/usr/bin/env node
// The `pulumi-lvm` command (package.json `bin`).
import { inspectCommand } from "./inspect/cli";

const USAGE = `usage: pulumi-lvm inspect [user@]host[:port] [options]   (pulumi-lvm inspect --help for the options)\n`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "inspect") return inspectCommand(rest);
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(`${command === undefined ? "" : `pulumi-lvm: unknown command ${JSON.stringify(command)}\n`}${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`pulumi-lvm: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
