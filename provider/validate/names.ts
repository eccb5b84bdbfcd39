import { z } from "zod";

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

export function vgNameProblem(name: string): string | undefined {
  return commonNameProblem(name);
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

function nameSchema(kind: string, problem: (n: string) => string | undefined) {
  return z.string().superRefine((name, ctx) => {
    const p = problem(name);
    if (p) ctx.addIssue({ code: "custom", message: `${kind} name ${p}` });
  });
}

export const VgName = nameSchema("volume group", vgNameProblem);
export const LvName = nameSchema("logical volume", lvNameProblem);

/** The start of every tag pulumi-lvm writes itself (storage/naming.ts). */
export const RESERVED_TAG_PREFIX = "pulumi-lvm/";
/** Snapshot names starting with this are reserved for the project's own temporary snapshots. */
export const RESERVED_SNAPSHOT_PREFIX = "pulumi-lvm-";

/** A snapshot's name (its id, e.g. "golden"): LVM's name characters, as it becomes part of an LV name. */
export const SnapshotName = z.string()
  .min(1, "snapshot name must not be empty")
  .regex(/^[A-Za-z0-9+_.-]*$/, "snapshot name may contain only letters, digits and + _ . -")
  .refine((n) => !n.startsWith("-"), "snapshot name must not start with '-'")
  .refine((n) => !n.startsWith(RESERVED_SNAPSHOT_PREFIX), `snapshot names starting with ${RESERVED_SNAPSHOT_PREFIX} are reserved for pulumi-lvm's temporary snapshots`);

// LVM tags: [A-Za-z0-9_+.-/=!:&#], at most 1024 characters, and not starting with '-'.
export const Tag = z.string()
  .min(1, "a tag must not be empty")
  .max(1024, "a tag must be at most 1024 characters")
  .regex(/^[A-Za-z0-9_+.\-/=!:&#]+$/, "a tag may contain only letters, digits and _ + . - / = ! : & #")
  .refine((t) => !t.startsWith("-"), "a tag must not start with '-'")
  .refine((t) => !t.startsWith(RESERVED_TAG_PREFIX), `tags starting with ${RESERVED_TAG_PREFIX} are reserved for pulumi-lvm's own markers`);

export const Tags = z.array(Tag).default([]).superRefine((tags, ctx) => {
  const seen = new Set<string>();
  for (const t of tags) {
    if (seen.has(t)) ctx.addIssue({ code: "custom", message: `tag '${t}' is listed twice` });
    seen.add(t);
  }
});

/** An absolute device path on the host, e.g. /dev/vdb or /dev/disk/by-id/... */
export const DevicePath = z.string()
  .regex(/^\/[A-Za-z0-9/_.:+@=-]*[A-Za-z0-9_.:+@=-]$/,
    "a device must be an absolute path like /dev/sdb or /dev/disk/by-id/..., of letters, digits and / _ . : + @ = -")
  .refine((p) => !p.split("/").includes(".."), "a device path must not contain '..'");
