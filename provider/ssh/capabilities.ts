import { CommandRunner, HostCommandError, Script, sh } from "../command";

/** Programs the resources rely on, and the package that provides each (Debian names, which most users have). */
const TOOL_PACKAGES = {
  "lvm": "lvm2",
  "qemu-img": "qemu-utils",
  "flock": "util-linux",
  "blkid": "util-linux",
  "wipefs": "util-linux",
  "blkdiscard": "util-linux",
  "udevadm": "udev",
} as const;

export type Tool = keyof typeof TOOL_PACKAGES;

/** What a host offers, learnt in one round trip on first contact. */
export interface Capabilities {
  target: string;
  /** The uid scripts run as: 0 when connected as root or through sudo. */
  uid: number;
  /** Scripts run through `sudo -n`, and that works. */
  sudo: boolean;
  tools: Record<Tool, boolean>;
  /** e.g. "2.03.16" */
  lvmVersion?: string;
  /** e.g. "7.2.22" */
  qemuImgVersion?: string;
  /** qcow2 `extended_l2` (subclusters), needed for the snapshot-as-volume-chain layout (qemu 5.2+). */
  qcow2ExtendedL2: boolean;
}

const FIND_TOOLS = sh`for tool in $tools; do
  if command -v "$tool" >/dev/null 2>&1; then echo "$tool"; fi
done`;

/** Runs the preflight script. With sudo, a sudo that asks for a password fails here with a clear message. */
export async function probeCapabilities(runner: CommandRunner, sudo: boolean): Promise<Capabilities> {
  const script = new Script("preflight")
    .captureCode("uid", sh`id -u`)
    .captureCode("tools", FIND_TOOLS, { tools: Object.keys(TOOL_PACKAGES).join(" ") })
    .captureCode("lvm", sh`lvm version 2>/dev/null || true`)
    .captureCode("qemu-img", sh`qemu-img --version 2>/dev/null || true`)
    .captureCode("qcow2", sh`qemu-img create -f qcow2 -o help 2>/dev/null || true`);
  let sections: Record<string, string>;
  try {
    ({ sections } = await runner.run(script));
  } catch (e) {
    // sudo -n failing means the script never started: no step marker, sudo's message on stderr.
    if (sudo && e instanceof HostCommandError && e.kind === "failed" && e.step === undefined) {
      throw new HostCommandError(e.target, "preflight", "refused", undefined, e.exitCode,
        `sudo -n does not work (${e.detail.trim() || "no message"}): give the user passwordless sudo (NOPASSWD) or connect as root`);
    }
    throw e;
  }
  const found = new Set(sections.tools.split("\n"));
  return {
    target: runner.target,
    uid: Number(sections.uid.trim()),
    sudo,
    tools: Object.fromEntries(Object.keys(TOOL_PACKAGES).map((t) => [t, found.has(t)])) as Record<Tool, boolean>,
    lvmVersion: /LVM version:\s*([0-9.]+)/.exec(sections.lvm)?.[1],
    qemuImgVersion: /qemu-img version ([0-9.]+)/.exec(sections["qemu-img"])?.[1],
    qcow2ExtendedL2: /\bextended_l2\b/.test(sections.qcow2),
  };
}

/** Throws an actionable error if a tool is missing on the host. */
export function requireTool(caps: Capabilities, tool: Tool): void {
  if (!caps.tools[tool]) throw new Error(`${tool} is not installed on ${caps.target}: apt-get install ${TOOL_PACKAGES[tool]}`);
}
