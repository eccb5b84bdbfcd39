#!/usr/bin/env node
// The `pulumi-lvm` command (package.json `bin`).
import { inspectCommand } from "./inspect/cli";

// This file runs as dist/provider/cli.js: the package's root is two levels up.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require("../../package.json") as { version: string };

const USAGE = `usage: pulumi-lvm <command> [options]

commands:
  inspect [user@]host[:port]  show a host's VM storage and what needs care; changes nothing (inspect --help for its options)
  --version                   print pulumi-lvm's version
  --help                      print this help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "inspect") return inspectCommand(rest);
  if (command === "--version") {
    process.stdout.write(`${version}\n`);
    return 0;
  }
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
