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

/** SHA-256 of the raw bytes a VM reads from an image (qemu-img decodes it: a chain comes out flattened), on the host. */
export async function contentSha256(h: TestHost, image: string, format: string): Promise<string> {
  return (await h.exec(`qemu-img convert -U -f ${format} -O raw ${image} /root/content.raw && ` +
    "sha256sum < /root/content.raw | cut -c1-64; rm -f /root/content.raw")).trim();
}

/** Where host-side test wrappers go: first on the PATH every operation script uses (command/script.ts). */
export const WRAPPERS = "/usr/local/sbin";

/**
 * The shell lines that install `text` (a whole script, ending in a newline) as the wrapper `name`, for a caller to
 * send with its other commands in one exec.
 */
export function installWrapper(name: string, text: string): string {
  return `mkdir -p ${WRAPPERS} && cat > ${WRAPPERS}/${name} <<'WRAPPER'\n${text}WRAPPER\nchmod +x ${WRAPPERS}/${name}`;
}

/** The shell line that removes the wrappers `names`. */
export function removeWrappers(names: readonly string[]): string {
  return `rm -f ${names.map((n) => `${WRAPPERS}/${n}`).join(" ")}`;
}

/** The host tools injectFailure may wrap; clearFailures removes every such wrapper. */
const FAILING_TOOLS = ["qemu-img", "lvrename", "lvcreate"] as const;

/** Makes a host tool fail (when its first argument is `sub`, if given) through a wrapper. */
export async function injectFailure(h: TestHost, tool: typeof FAILING_TOOLS[number], sub?: string): Promise<void> {
  await h.exec(installWrapper(tool, `#!/bin/sh
if [ -z "${sub ?? ""}" ] || [ "$1" = "${sub ?? ""}" ]; then echo "injected failure: ${tool} $*" >&2; exit 1; fi
PATH=/usr/sbin:/usr/bin:/sbin:/bin exec ${tool} "$@"
`));
}

export async function clearFailures(h: TestHost): Promise<void> {
  await h.exec(removeWrappers(FAILING_TOOLS));
}

/** Holds a block device open, as a running VM would, until the returned function is called. */
export async function holdOpen(h: TestHost, dev: string): Promise<() => Promise<void>> {
  const pid = (await h.exec(`nohup sh -c 'exec 3<${dev}; exec sleep 300' >/dev/null 2>&1 </dev/null & echo $!`)).trim();
  return async () => { await h.exec(`kill ${pid}`); };
}
