import { z } from "zod";
import { hinted, parseInput } from "../validate/messages";
import { parsePublicKeyLine } from "./hostKeys";

/**
 * How to reach one host over SSH, with field names like pulumi-command's `connection`.
 * `proxy` is a jump host described the same way (its own `sudo` and `commandTimeoutSeconds` are unused:
 * it runs no commands, it only forwards the connection).
 */
export interface Connection {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  /** Defaults to $SSH_AUTH_SOCK at connect time. */
  agentSocketPath?: string;
  /** An OpenSSH public key line (`ssh-ed25519 AAAA... comment`) or a `SHA256:...` fingerprint. */
  hostKey?: string;
  insecureSkipHostKeyCheck: boolean;
  knownHostsPath: string;
  proxy?: Connection;
  /** Run every script through `sudo -n`. */
  sudo: boolean;
  connectTimeoutSeconds: number;
  commandTimeoutSeconds: number;
}

/** What a user may write: every field with a default is optional. */
export type ConnectionArgs = Pick<Connection, "host"> & Partial<Omit<Connection, "host" | "proxy">> & { proxy?: ConnectionArgs };

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** "host is required: ..." for a missing field, "port must be a number" for a wrong type. */
const typeError = (field: string, what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${field} is required: ${what}` : `${field} must be ${what}`;
const text = (field: string, what = "a string") => z.string({ error: typeError(field, what) });
const nonEmpty = (field: string, what?: string) => text(field, what).min(1, { error: `${field} must not be empty` });
const flag = (field: string) => z.boolean({ error: typeError(field, "true or false") }).default(false);
const seconds = (field: string, fallback: number) =>
  z.number({ error: typeError(field, "a number of seconds") })
    .positive({ error: `${field} must be greater than 0` })
    .max(7 * 24 * 3600, { error: `${field} must be at most a week (604800)` })
    .default(fallback);

/**
 * A host name (at most 253 characters, as DNS allows) or an address; an IPv6 address without brackets, maybe with a
 * zone (`fe80::1%eth0`). Nothing else reaches the network, and nothing that reads as an option.
 */
function hostProblem(host: string): string | undefined {
  if (host.startsWith("-")) return "host must not start with '-'";
  if (host.length > 253) return "host must be at most 253 characters";
  if (!/^[A-Za-z0-9._:%-]+$/.test(host)) return "host must be a host name or address: letters, digits and . _ - : % (an IPv6 address without brackets)";
  return undefined;
}

/** A user name as useradd makes them (a final $ for machine accounts), and nothing that reads as an option. */
function userProblem(user: string): string | undefined {
  if (user.startsWith("-")) return "user must not start with '-'";
  if (!/^[A-Za-z0-9._-]+\$?$/.test(user)) return "user must be a user name: letters, digits and . _ - (and a final $)";
  return undefined;
}

/** One failure, the first problem found, rather than one per rule broken (an empty value fails as such already). */
const firstProblem = (problem: (value: string) => string | undefined) => (value: string, ctx: z.RefinementCtx) => {
  const message = value === "" ? undefined : problem(value);
  if (message) ctx.addIssue({ code: "custom", message });
};

/** The input schema: unknown fields are errors (`strictObject`), and every message names its field. */
export const ConnectionSchema: z.ZodType<Connection, ConnectionArgs> = hinted(z.lazy(() => z.strictObject({
  host: nonEmpty("host", 'a host name or address like "192.0.2.10"').superRefine(firstProblem(hostProblem)),
  port: z.number({ error: typeError("port", "a number") })
    .int({ error: "port must be an integer between 1 and 65535" })
    .min(1, { error: "port must be an integer between 1 and 65535" })
    .max(65535, { error: "port must be an integer between 1 and 65535" })
    .default(22),
  user: nonEmpty("user").superRefine(firstProblem(userProblem)).default("root"),
  password: nonEmpty("password").optional(),
  privateKey: nonEmpty("privateKey")
    .refine((k) => /PRIVATE KEY|PuTTY-User-Key-File/.test(k), { error: "privateKey must be the text of a private key (OpenSSH, PEM or PuTTY format), not a path" })
    .optional(),
  privateKeyPassword: text("privateKeyPassword").optional(),
  agentSocketPath: nonEmpty("agentSocketPath").optional(),
  hostKey: nonEmpty("hostKey")
    .refine((k) => FINGERPRINT.test(k.trim()) || parsePublicKeyLine(k) !== undefined, {
      error: 'hostKey must be an OpenSSH public key line ("ssh-ed25519 AAAA... comment") or a fingerprint ("SHA256:" and 43 base64 characters)',
    })
    .optional(),
  insecureSkipHostKeyCheck: flag("insecureSkipHostKeyCheck"),
  knownHostsPath: nonEmpty("knownHostsPath").default("~/.ssh/known_hosts"),
  proxy: ConnectionSchema.optional(),
  sudo: flag("sudo"),
  connectTimeoutSeconds: seconds("connectTimeoutSeconds", 30),
  commandTimeoutSeconds: seconds("commandTimeoutSeconds", 1800),
})), {
  allowed: 'an object with at least a host, like { host: "192.0.2.10" }',
  missing: "none given: set connection on the resource, or (with the lvm provider plugin) give the provider one, the default " +
    "of its resources: in the stack config (pulumi config set --path lvm:connection.host <host>, and its other fields the same " +
    'way) or on an explicit provider (new lvm.Provider("p", { connection: { host: ... } }), and the resource\'s provider option)',
});

/** One problem with a connection input, shaped like a Pulumi check failure. */
export interface ConnectionFailure {
  property: string;
  reason: string;
}

/**
 * Validates a connection input. `property` prefixes every failure's path (e.g. "connection.proxy.port"), so a
 * resource's `check` can return the failures as they are.
 */
export function checkConnection(input: unknown, property = "connection"):
  { connection: Connection; failures: [] } | { connection: undefined; failures: ConnectionFailure[] } {
  const parsed = parseInput(ConnectionSchema, input, { prefix: property === "" ? [] : [property] });
  return parsed.success ? { connection: parsed.data, failures: [] } : { connection: undefined, failures: parsed.failures };
}

/** Like checkConnection, but throws one error listing every failure. */
export function parseConnection(input: unknown, property = "connection"): Connection {
  const { connection, failures } = checkConnection(input, property);
  if (connection) return connection;
  throw new Error(`invalid ${property}:\n${failures.map((f) => `  ${f.property}: ${f.reason}`).join("\n")}`);
}

/** `user@host:port`, plus ` via <jump host>` when proxied: for errors and IDs, never anything secret. */
export function connectionTarget(c: Pick<Connection, "user" | "host" | "port" | "proxy">): string {
  return `${c.user}@${hostAndPort(c)}${c.proxy ? ` via ${connectionTarget(c.proxy)}` : ""}`;
}

/** `host:port`, with an IPv6 address in brackets. */
export function hostAndPort(c: Pick<Connection, "host" | "port">): string {
  return `${c.host.includes(":") ? `[${c.host}]` : c.host}:${c.port}`;
}
