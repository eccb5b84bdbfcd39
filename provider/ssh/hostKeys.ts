import { createHash, createHmac } from "crypto";
import * as fs from "fs/promises";
import * as os from "os";
import * as path from "path";
import type { Connection } from "./connection";

/**
 * Host key verification, on by default: a host is trusted only if its key is pinned in the connection
 * (`hostKey`) or listed for it in known_hosts. Everything here is decided before the first byte is sent.
 */

export interface PublicKey {
  type: string;
  /** The raw key blob, as sent in the SSH handshake (the base64 part of a key line, decoded). */
  blob: Buffer;
}

/** `ssh-ed25519 AAAA... comment` -> the key; undefined if the line is not a well-formed public key. */
export function parsePublicKeyLine(line: string): PublicKey | undefined {
  const [type, base64] = line.trim().split(/\s+/);
  if (!type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, "base64");
  return keyTypeOf(blob) === type ? { type, blob } : undefined;
}

/** A key blob starts with its type name as an SSH string (uint32 length, then the bytes). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** OpenSSH's fingerprint: base64 of the SHA-256 of the key blob, without padding. */
export function fingerprint(blob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

export interface KnownHostsEntry {
  marker?: "revoked" | "cert-authority";
  /** The host field as written: a comma list of patterns, or one hashed `|1|salt|hash` entry. */
  hosts: string;
  key: PublicKey;
  /** 1-based line number, for messages. */
  line: number;
}

/** Parses known_hosts text; malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === "" || fields[0].startsWith("#")) return;
    let marker: KnownHostsEntry["marker"];
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") marker = fields.shift()!.slice(1) as KnownHostsEntry["marker"];
    else if (fields[0].startsWith("@")) return;
    const key = fields.length >= 3 ? parsePublicKeyLine(`${fields[1]} ${fields[2]}`) : undefined;
    if (key) entries.push({ marker, hosts: fields[0], key, line: index + 1 });
  });
  return entries;
}

/** The name known_hosts uses for a host: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether a known_hosts host field applies to host:port (plain names, comma lists, `!` negation, `*`/`?`, hashed). */
export function hostMatches(hosts: string, host: string, port: number): boolean {
  const name = knownHostsName(host, port).toLowerCase();
  if (hosts.startsWith("|1|")) {
    const [, , salt, hash] = hosts.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest().equals(Buffer.from(hash, "base64"));
  }
  let matched = false;
  for (const pattern of hosts.toLowerCase().split(",")) {
    const negated = pattern.startsWith("!");
    if (!wildcard(negated ? pattern.slice(1) : pattern).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** What the host's key must be, decided from the connection (and known_hosts) before connecting. */
export type HostKeyPolicy =
  | { kind: "skip" }
  | { kind: "pinned"; fingerprint: string; key?: PublicKey }
  | { kind: "knownHosts"; file: string; host: string; port: number; trusted: KnownHostsEntry[]; revoked: KnownHostsEntry[] };

export async function hostKeyPolicy(c: Connection): Promise<HostKeyPolicy> {
  if (c.insecureSkipHostKeyCheck) return { kind: "skip" };
  if (c.hostKey) {
    const key = parsePublicKeyLine(c.hostKey);
    return { kind: "pinned", key, fingerprint: key ? fingerprint(key.blob) : c.hostKey.trim().replace(/=+$/, "") };
  }
  const file = c.knownHostsPath.replace(/^~(?=$|\/)/, os.homedir());
  let text = "";
  try {
    text = await fs.readFile(path.resolve(file), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read known_hosts file ${file}: ${(e as Error).message}`);
  }
  const forHost = parseKnownHosts(text).filter((e) => hostMatches(e.hosts, c.host, c.port));
  return {
    kind: "knownHosts", file, host: c.host, port: c.port,
    trusted: forHost.filter((e) => e.marker === undefined),
    revoked: forHost.filter((e) => e.marker === "revoked"),
  };
}

/** Signature algorithms that make the server present a key of this type. */
const ALGORITHMS_FOR_KEY_TYPE: Record<string, string[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
  "ssh-dss": ["ssh-dss"],
};

/**
 * A server offers one host key, chosen by the client's algorithm preference. When we know which key types
 * we can verify, ask only for those, so a host with ed25519 and ecdsa keys presents the one we know.
 */
export function hostKeyAlgorithms(policy: HostKeyPolicy): string[] | undefined {
  const known = policy.kind === "pinned" ? (policy.key ? [policy.key] : []) : policy.kind === "knownHosts" ? policy.trusted.map((e) => e.key) : [];
  const algorithms = [...new Set(known.flatMap((k) => ALGORITHMS_FOR_KEY_TYPE[k.type] ?? []))];
  return algorithms.length > 0 ? algorithms : undefined;
}

/** Checks the key the server presented: undefined if it is trusted, else why not, with how to fix it. */
export function checkHostKey(policy: HostKeyPolicy, blob: Buffer): string | undefined {
  if (policy.kind === "skip") return undefined;
  const type = keyTypeOf(blob) ?? "unknown-type";
  const offered = `${type} key ${fingerprint(blob)}`;
  const mismatch = (expected: string, fix: string) =>
    `HOST KEY MISMATCH: the host presented ${offered}, but ${expected}. This is a possible man-in-the-middle attack ` +
    `(or the host was reinstalled): refusing to connect. If the key changed legitimately, ${fix}.`;

  if (policy.kind === "pinned") {
    if (fingerprint(blob) === policy.fingerprint) return undefined;
    return mismatch(`the connection's hostKey pins ${policy.key ? `${policy.key.type} key ` : ""}${policy.fingerprint}` +
      (policy.key ? "" : " (if that is the fingerprint of another of the host's keys, pin its public key line instead)"),
      "update hostKey");
  }

  const revoked = policy.revoked.find((e) => e.key.blob.equals(blob));
  if (revoked) return `the host presented ${offered}, which ${policy.file} marks @revoked (line ${revoked.line}): refusing to connect.`;
  if (policy.trusted.some((e) => e.key.blob.equals(blob))) return undefined;
  if (policy.trusted.length > 0) {
    const listed = policy.trusted.map((e) => `${e.key.type} ${fingerprint(e.key.blob)} (line ${e.line})`).join(", ");
    return mismatch(`${policy.file} lists ${listed} for ${knownHostsName(policy.host, policy.port)}`,
      `remove the old entry (ssh-keygen -R '${knownHostsName(policy.host, policy.port)}' -f ${policy.file}) and add the new one`);
  }
  const line = `${type} ${blob.toString("base64")}`;
  return `unknown host key: the host presented ${offered}, which is neither pinned (hostKey) nor in ${policy.file}. ` +
    `If it is the host's real key (compare with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on the host), pin it in the connection ` +
    `as hostKey: "${fingerprint(blob)}" or hostKey: "${line}", or add this line to ${policy.file}:\n` +
    `  ${knownHostsName(policy.host, policy.port)} ${line}`;
}
