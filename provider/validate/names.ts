import { z } from "zod";
import { hinted } from "./messages";

// LVM's own naming rules (lvm(8) "VALID NAMES"), checked before anything reaches a host.
const NAME_CHARS = /^[A-Za-z0-9+_.-]+$/;
const LV_RESERVED_PREFIXES = ["snapshot", "pvmove"];
const LV_RESERVED_PARTS = ["_cdata", "_cmeta", "_corig", "_iorig", "_mimage", "_mlog", "_pmspare", "_rimage",
  "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin", "_wcorig"];

function commonNameProblem(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name.length > 127) return `must be at most 127 characters (has ${name.length})`;
  if (!NAME_CHARS.test(name)) return "may contain only letters, digits and + _ . -";
  if (name.startsWith("-")) return "must not start with '-'";
  if (name === "." || name === "..") return "must not be '.' or '..'";
  return undefined;
}

/**
 * Names in /dev on every Linux host that runs LVM (the kernel's devtmpfs, udev and device-mapper make them): vgcreate
 * refuses a VG named after anything in /dev. Other names (a disk's, say) are only known on the host, which checks too.
 */
const ALWAYS_IN_DEV = ["block", "char", "console", "disk", "fd", "full", "kmsg", "mapper", "mem", "null", "ptmx", "pts",
  "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"];

export function vgNameProblem(name: string): string | undefined {
  const common = commonNameProblem(name);
  if (common) return common;
  if (ALWAYS_IN_DEV.includes(name)) return `${JSON.stringify(name)} is taken by /dev/${name} on every Linux host, and LVM refuses a volume group named after anything in /dev`;
  return undefined;
}

export function lvNameProblem(name: string): string | undefined {
  const common = commonNameProblem(name);
  if (common) return common;
  const prefix = LV_RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `must not start with '${prefix}' (reserved by LVM)`;
  const part = LV_RESERVED_PARTS.find((p) => name.includes(p));
  if (part) return `must not contain '${part}' (reserved by LVM for internal volumes)`;
  return undefined;
}

/** LVM refuses a VG name and an LV name longer than this together. */
const VG_AND_LV_NAME_MAX = 124;
/** The longest device-mapper name (DM_NAME_LEN less its NUL). */
const DM_NAME_MAX = 127;

/** The device-mapper name LVM gives an LV's device: vg-lv, each '-' in them doubled, and a layer's suffix (-real, -cow). */
function dmName(vg: string, lv: string, layer = ""): string {
  return `${vg.replace(/-/g, "--")}-${lv.replace(/-/g, "--")}${layer}`;
}

/**
 * Why LVM cannot make LV `lv` in VG `vg` although each name is valid on its own: the two are too long together, or
 * the LV's device (with `layer`, the suffix of a device LVM stacks under it) gets too long a device-mapper name. LVM
 * finds the second only when it activates the new LV (a thick snapshot's LV then stays behind, inactive), so both are
 * checked before anything reaches the host.
 */
export function lvInVgProblem(vg: string, lv: string, layer = ""): string | undefined {
  if (vg.length + lv.length > VG_AND_LV_NAME_MAX) {
    return `${vg}/${lv} is too long: LVM allows ${VG_AND_LV_NAME_MAX} characters for a volume group and logical volume name together`;
  }
  const dm = dmName(vg, lv, layer);
  if (dm.length > DM_NAME_MAX) {
    return `${vg}/${lv} is too long: its device-mapper name ${dm} has ${dm.length} characters, at most ${DM_NAME_MAX} (LVM doubles each '-')`;
  }
  return undefined;
}

/** Whether both are valid names on their own: rules across names judge only those (the others fail on their own). */
export function validVgAndLv(vg: unknown, lv: unknown): boolean {
  return typeof vg === "string" && typeof lv === "string" && vgNameProblem(vg) === undefined && lvNameProblem(lv) === undefined;
}

function nameSchema(kind: string, problem: (n: string) => string | undefined) {
  return z.string().superRefine((name, ctx) => {
    const p = problem(name);
    if (p) ctx.addIssue({ code: "custom", message: `${kind} name ${p}` });
  });
}

export const VgName = hinted(nameSchema("volume group", vgNameProblem), 'a volume group name like "vmdata": letters, digits and + _ . -');
export const LvName = hinted(nameSchema("logical volume", lvNameProblem), 'a logical volume name like "vm-100-disk-0": letters, digits and + _ . -');

/** The start of every tag pulumi-lvm writes itself (storage/naming.ts). */
export const RESERVED_TAG_PREFIX = "pulumi-lvm/";
/** Snapshot names starting with this are reserved for the project's own temporary snapshots. */
export const RESERVED_SNAPSHOT_PREFIX = "pulumi-lvm-";

/** A snapshot's name (its id, e.g. "golden"): LVM's name characters, as it becomes part of an LV name. */
export const SnapshotName = hinted(z.string()
  .min(1, "snapshot name must not be empty")
  .regex(/^[A-Za-z0-9+_.-]*$/, "snapshot name may contain only letters, digits and + _ . -")
  .refine((n) => !n.startsWith("-"), "snapshot name must not start with '-'")
  .refine((n) => !n.startsWith(RESERVED_SNAPSHOT_PREFIX), `snapshot names starting with ${RESERVED_SNAPSHOT_PREFIX} are reserved for pulumi-lvm's temporary snapshots`),
  'a snapshot name like "golden": letters, digits and + _ . -');

// LVM tags: [A-Za-z0-9_+.-/=!:&#], at most 1024 characters, and not starting with '-'.
export const Tag = hinted(z.string()
  .min(1, "a tag must not be empty")
  .max(1024, "a tag must be at most 1024 characters")
  .regex(/^[A-Za-z0-9_+.\-/=!:&#]+$/, "a tag may contain only letters, digits and _ + . - / = ! : & #")
  .refine((t) => !t.startsWith("-"), "a tag must not start with '-'")
  .refine((t) => !t.startsWith(RESERVED_TAG_PREFIX), `tags starting with ${RESERVED_TAG_PREFIX} are reserved for pulumi-lvm's own markers`),
  "a tag: letters, digits and _ + . - / = ! : & #");

export const Tags = hinted(z.array(Tag), 'a list of tags like ["pve", "env=prod"]').default([]).superRefine((tags, ctx) => {
  const seen = new Set<string>();
  for (const t of tags) {
    if (seen.has(t)) ctx.addIssue({ code: "custom", message: `tag '${t}' is listed twice` });
    seen.add(t);
  }
});

/** An absolute device path on the host, e.g. /dev/vdb or /dev/disk/by-id/... */
export const DevicePath = hinted(z.string()
  .regex(/^\/[A-Za-z0-9/_.:+@=-]*[A-Za-z0-9_.:+@=-]$/,
    "a device must be an absolute path like /dev/sdb or /dev/disk/by-id/..., of letters, digits and / _ . : + @ = -")
  .refine((p) => !p.split("/").includes(".."), "a device path must not contain '..'"), 'a device path like "/dev/sdb"');
