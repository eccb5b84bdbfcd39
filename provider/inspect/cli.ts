import { HostSession } from "../resource";
import { closeAll, Connection, connectionSecrets, hostFor, scrubText } from "../ssh";
import { InspectArgs, parseInspectArgs, processEnvironment, ArgsEnvironment, USAGE, UsageError } from "./args";
import { inspectHost } from "./index";
import { renderReport } from "./render";

/** Exit codes: CI gates on them. */
export const EXIT = { clean: 0, warnings: 1, error: 2 } as const;

export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
  environment: ArgsEnvironment;
  /** How a connection becomes a host to run scripts on: the shared SSH pool, or a test's fake. */
  connect(connection: Connection): HostSession;
}

const defaultIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, environment: processEnvironment(), connect: hostFor });

/** `pulumi-lvm inspect ...`: prints the report (or the error) and resolves with the exit code. */
export async function inspectCommand(argv: string[], io: Io = defaultIo()): Promise<number> {
  let args: InspectArgs | "help";
  try {
    args = parseInspectArgs(argv, io.environment);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`pulumi-lvm inspect: ${e.message}\n(pulumi-lvm inspect --help for the options)\n`);
    return EXIT.error;
  }
  if (args === "help") {
    io.stdout.write(USAGE);
    return EXIT.clean;
  }
  try {
    const report = await inspectHost(io.connect(args.connection), { vg: args.vg });
    const color = !args.noColor && io.environment.env.NO_COLOR === undefined && io.stdout.isTTY === true;
    io.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, { color }));
    return report.warnings.length > 0 ? EXIT.warnings : EXIT.clean;
  } catch (e) {
    const message = scrubText((e as Error).message, connectionSecrets(args.connection));
    io.stderr.write(`pulumi-lvm inspect: ${message}\n${hint(message)}`);
    return EXIT.error;
  } finally {
    await closeAll();
  }
}

/** The connection's messages speak of its fields; a command-line user needs the flag. */
function hint(message: string): string {
  const unknown = /unknown host key: the host presented \S+ key (SHA256:[A-Za-z0-9+/]+)/.exec(message);
  if (unknown) return `To trust this key, run again with --host-key ${unknown[1]} (or add the line above to your known_hosts).\n`;
  if (/HOST KEY MISMATCH/.test(message)) return "Check the key on the host itself before you change --host-key or known_hosts.\n";
  if (/no passphrase given/.test(message)) return "The key file is encrypted: pass its passphrase with --identity-password-env VAR.\n";
  return "";
}
