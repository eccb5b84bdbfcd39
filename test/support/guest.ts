import { Connection, parseConnection } from "../../provider/ssh";
import { ConnectionArgs } from "../../sdk";
import { TestHost } from "../host/testHost";

/** A validated connection to the test guest as root, with its host key pinned. */
export function rootConnection(h: TestHost, extra: Record<string, unknown> = {}): Connection {
  return parseConnection({ host: h.host, port: h.port, privateKey: h.privateKey, hostKey: h.hostKey, ...extra });
}

/** The same connection as a user would write it in a program (not yet validated). */
export function rootConnectionArgs(h: TestHost): ConnectionArgs {
  return { host: h.host, port: h.port, privateKey: h.privateKey, hostKey: h.hostKey };
}

/** Asserts-friendly view of what is on the guest's data disks: signatures per disk ("" when blank). */
export async function diskSignatures(h: TestHost, disks: readonly string[]): Promise<Record<string, string>> {
  const out = await h.exec(`for d in ${disks.join(" ")}; do printf '%s=%s\\n' "$d" "$(wipefs --noheadings --output TYPE "$d" | tr '\\n' ' ')"; done`);
  return Object.fromEntries(out.trim().split("\n").map((l) => l.split("=")).map(([d, s]) => [d, (s ?? "").trim()]));
}

/** Removes whatever a failed test may have left on the given disks, so the next test starts blank. */
export async function scrubDisks(h: TestHost, disks: readonly string[], vgs: readonly string[] = []): Promise<void> {
  await h.exec(`for vg in ${vgs.join(" ")}; do vgremove -ff -y "$vg" >/dev/null 2>&1 || true; done; ` +
    `for d in ${disks.join(" ")}; do pvremove -ff -y "$d" >/dev/null 2>&1 || true; wipefs -a -q "$d" || true; done`);
}
