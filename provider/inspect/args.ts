import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { checkConnection, Connection, ConnectionArgs } from "../ssh";
import { vgNameProblem } from "../validate";

export const USAGE = `usage: pulumi-lvm inspect [user@]host[:port] [options]

Shows a host's VM storage: volume groups, VM disks, volume chains, thick snapshots and their fill, other LVs, then
warnings with what to do. Exit code: 0 no warnings, 1 warnings, 2 error. Changes nothing on the host.

Connection (as the provider's connection; user defaults to root, port to 22):
  -i, --identity FILE              private key file (default: ssh-agent, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa)
      --identity-password-env VAR  the key's passphrase is in environment variable VAR
      --password-env VAR           log in with the password in environment variable VAR
      --host-key KEY               pin the host key: "ssh-ed25519 AAAA..." or "SHA256:..."
      --known-hosts FILE           known_hosts file to verify the host key with (default ~/.ssh/known_hosts)
      --sudo                       run through sudo -n (for a user other than root)
      --jump [user@]host[:port]    reach the host through this jump host (same credentials)
      --jump-host-key KEY          pin the jump host's key
Output:
      --vg NAME                    only this volume group
      --json                       the report as JSON (the model is described in the README)
      --no-color                   no colors (they are used only on a terminal, and never with NO_COLOR set)
  -h, --help                       this help
`;

/** A command line that cannot be run: the message names the flag. */
export class UsageError extends Error {}

export interface InspectArgs {
  connection: Connection;
  vg?: string;
  json: boolean;
  noColor: boolean;
}

/** What the arguments read from outside the command line: tests give their own. */
export interface ArgsEnvironment {
  env: NodeJS.ProcessEnv;
  readFile(file: string): string;
  exists(file: string): boolean;
  home: string;
}

const OPTIONS = {
  "identity": { type: "string", short: "i" },
  "identity-password-env": { type: "string" },
  "password-env": { type: "string" },
  "host-key": { type: "string" },
  "known-hosts": { type: "string" },
  "sudo": { type: "boolean" },
  "jump": { type: "string" },
  "jump-host-key": { type: "string" },
  "vg": { type: "string" },
  "json": { type: "boolean" },
  "no-color": { type: "boolean" },
  "help": { type: "boolean", short: "h" },
} as const;

/** The flag (or argument) each connection field comes from, for messages. */
const FLAG_OF: Record<string, string> = {
  host: "[user@]host[:port]", port: "[user@]host[:port]", user: "[user@]host[:port]", privateKey: "-i/--identity",
  privateKeyPassword: "--identity-password-env", password: "--password-env", hostKey: "--host-key",
  knownHostsPath: "--known-hosts", sudo: "--sudo",
};
const JUMP_FLAG_OF: Record<string, string> = { ...FLAG_OF, host: "--jump", port: "--jump", user: "--jump", hostKey: "--jump-host-key" };

const DEFAULT_KEYS = ["id_ed25519", "id_ecdsa", "id_rsa"];

/** The command line after `inspect`: the options, or `help`. Throws UsageError. Never puts a secret in a message. */
export function parseInspectArgs(argv: string[], environment: ArgsEnvironment): InspectArgs | "help" {
  const { values, positionals } = (() => {
    try {
      return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? "which host? give [user@]host[:port]" : `one host at a time (got ${positionals.join(", ")})`);
  }
  if (values.vg !== undefined) {
    const problem = vgNameProblem(values.vg);
    if (problem) throw new UsageError(`--vg: a volume group name ${problem}`);
  }

  const credentials: Partial<ConnectionArgs> = {};
  const identity = values.identity ?? defaultKey(environment);
  if (identity !== undefined) credentials.privateKey = readKey(identity, environment, values.identity === undefined);
  if (values["identity-password-env"] !== undefined) {
    credentials.privateKeyPassword = fromEnv("--identity-password-env", values["identity-password-env"], environment);
  }
  if (values["password-env"] !== undefined) credentials.password = fromEnv("--password-env", values["password-env"], environment);
  if (credentials.privateKey === undefined && credentials.password === undefined && !environment.env.SSH_AUTH_SOCK) {
    throw new UsageError("no way to log in: give -i/--identity FILE or --password-env VAR, or run an ssh-agent (SSH_AUTH_SOCK)");
  }
  const common = {
    ...credentials,
    ...(values["known-hosts"] !== undefined ? { knownHostsPath: values["known-hosts"] } : {}),
  };
  const input: ConnectionArgs = {
    ...parseTarget(positionals[0]),
    ...common,
    ...(values["host-key"] !== undefined ? { hostKey: values["host-key"] } : {}),
    ...(values.sudo ? { sudo: true } : {}),
    ...(values.jump !== undefined ? {
      proxy: {
        ...parseTarget(values.jump), ...common,
        ...(values["jump-host-key"] !== undefined ? { hostKey: values["jump-host-key"] } : {}),
      },
    } : {}),
  };
  if (values["jump-host-key"] !== undefined && values.jump === undefined) throw new UsageError("--jump-host-key needs --jump");

  const { connection, failures } = checkConnection(input, "");
  if (!connection) {
    throw new UsageError(failures.map(({ property, reason }) => {
      const [first, field] = property.split(".");
      const flag = first === "proxy" ? JUMP_FLAG_OF[field] ?? "--jump" : FLAG_OF[first] ?? first;
      if (field === "privateKey" || first === "privateKey") return `${flag}: ${identity} is not a private key file (OpenSSH, PEM or PuTTY format)`;
      return `${flag}: ${reason}`;
    }).join("\n"));
  }
  return { connection, ...(values.vg !== undefined ? { vg: values.vg } : {}), json: values.json ?? false, noColor: values["no-color"] ?? false };
}

/**
 * `[user@]host[:port]`; an IPv6 address takes brackets when a port follows (`[2001:db8::1]:2222`). A port that is not
 * a number is passed on as NaN, for the connection schema to refuse by name.
 */
export function parseTarget(text: string): { host: string; user?: string; port?: number } {
  const at = text.lastIndexOf("@");
  const user = at >= 0 ? text.slice(0, at) : undefined;
  const rest = at >= 0 ? text.slice(at + 1) : text;
  let host = rest;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2];
  } else if (rest.split(":").length === 2) {
    [host, port] = rest.split(":");
  }
  return {
    host,
    ...(user !== undefined ? { user } : {}),
    ...(port !== undefined ? { port: /^\d+$/.test(port) ? Number(port) : Number.NaN } : {}),
  };
}

function defaultKey(environment: ArgsEnvironment): string | undefined {
  if (environment.env.SSH_AUTH_SOCK) return undefined; // the agent holds the user's keys
  return DEFAULT_KEYS.map((k) => path.join(environment.home, ".ssh", k)).find((f) => environment.exists(f));
}

function readKey(file: string, environment: ArgsEnvironment, isDefault: boolean): string {
  const resolved = file.replace(/^~(?=$|\/)/, environment.home);
  try {
    return environment.readFile(resolved);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? "unreadable";
    throw new UsageError(`-i/--identity: cannot read ${resolved} (${why})${isDefault ? " (the default key)" : ""}`);
  }
}

function fromEnv(flag: string, name: string, environment: ArgsEnvironment): string {
  const value = environment.env[name];
  if (value === undefined) throw new UsageError(`${flag}: environment variable ${name} is not set`);
  return value;
}

/** The real environment of the command. */
export function processEnvironment(): ArgsEnvironment {
  return {
    env: process.env,
    readFile: (f) => fs.readFileSync(f, "utf8"),
    exists: (f) => fs.existsSync(f),
    home: os.homedir(),
  };
}
