import { RESERVED_SNAPSHOT_PREFIX, RESERVED_TAG_PREFIX } from "../validate/names";

export { RESERVED_SNAPSHOT_PREFIX };

/**
 * How VM disks, snapshots and temporary objects are named and marked on a host: one place, so every kind (and
 * `inspect`) finds the same things by the same rules.
 */

/** Every tag this project writes starts with this; users' own tags may not (they would be taken for ours). */
export const TAG_PREFIX = RESERVED_TAG_PREFIX;

export const isInternalTag = (tag: string) => tag.startsWith(TAG_PREFIX);
/** The tags a user gave, without ours. */
export const userTags = (tags: readonly string[]) => tags.filter((t) => !isInternalTag(t));

export type SnapshotMethod = "chain" | "thick" | "thin";

/**
 * Marks a snapshot LV with the snapshot's name (Snapshot's `name`, e.g. "golden"), so Rollback and DiskExport find it
 * by name even when its LV name is custom. Written in the same command that makes the LV (`lvcreate --addtag`).
 */
export const snapshotTag = (name: string) => `${TAG_PREFIX}snapshot=${name}`;
/** Marks an LV that an operation made for its own use and removes again (e.g. an export's temporary snapshot). */
export const TEMPORARY_TAG = `${TAG_PREFIX}temporary`;

/** The snapshot name a tag list records, if any. */
export function taggedSnapshotName(tags: readonly string[]): string | undefined {
  const tag = tags.find((t) => t.startsWith(snapshotTag("")));
  return tag?.slice(snapshotTag("").length);
}

/**
 * Proxmox VE 9's names. A chain snapshot `id` of disk `vm-401-disk-0.qcow2` is the LV `snap_vm-401-disk-0_id.qcow2`
 * (without the `.qcow2` suffix on the disk, `snap_<disk>_<id>`); a thick or thin snapshot is `snap_<disk>_<id>`,
 * so two disks' snapshots never collide and a thick snapshot is never mistaken for a chain link.
 */
export function snapshotLvName(disk: string, snapshot: string, method: SnapshotMethod): string {
  if (method === "chain" && disk.endsWith(".qcow2")) return `snap_${disk.slice(0, -".qcow2".length)}_${snapshot}.qcow2`;
  return `snap_${disk}_${snapshot}`;
}

/** The start every chain snapshot LV name of a disk has (for `vm-1.qcow2`: `snap_vm-1_`). */
export function chainSnapshotPrefix(disk: string): string {
  return `snap_${disk.replace(/\.qcow2$/, "")}_`;
}

/** Whether an LV name has the shape of one of the disk's chain snapshots (the chain itself is the truth). */
export function looksLikeChainSnapshot(lvName: string, disk: string): boolean {
  const prefix = chainSnapshotPrefix(disk);
  if (!lvName.startsWith(prefix) || lvName.length === prefix.length) return false;
  return disk.endsWith(".qcow2") ? lvName.endsWith(".qcow2") && lvName.length > prefix.length + ".qcow2".length : true;
}

/** The snapshot id a chain LV name carries, given its disk (inverse of snapshotLvName for chain). */
export function chainSnapshotId(lvName: string, disk: string): string | undefined {
  if (!looksLikeChainSnapshot(lvName, disk)) return undefined;
  const rest = lvName.slice(chainSnapshotPrefix(disk).length);
  return disk.endsWith(".qcow2") ? rest.slice(0, -".qcow2".length) : rest;
}

/** A temporary snapshot of `disk` made by an operation (`purpose`, e.g. "export") and removed when it ends. */
export function temporarySnapshotLvName(disk: string, purpose: string): string {
  return `snap_${disk}_${RESERVED_SNAPSHOT_PREFIX}${purpose}`;
}

/** The LV a chain rollback builds the disk's fresh overlay in, before it takes the disk's name. */
export const replacementLvName = (disk: string) => `${RESERVED_SNAPSHOT_PREFIX}new_${disk}`;

/** Records a VM disk's format on its LV (VmDisk writes it at creation), so nothing has to probe a guest's disk. */
export const formatTag = (format: string) => `${TAG_PREFIX}format=${format}`;

/**
 * A disk LV's format: as recorded by VmDisk, else by Proxmox's naming convention (`.qcow2`), else raw. Never by
 * probing the content: a raw disk whose guest wrote a qcow2 header must not be taken for a qcow2 image.
 */
export function diskFormatOf(lvName: string, tags: readonly string[]): "raw" | "qcow2" {
  const tag = tags.find((t) => t.startsWith(formatTag("")));
  if (tag) return tag.slice(formatTag("").length) === "qcow2" ? "qcow2" : "raw";
  return lvName.endsWith(".qcow2") ? "qcow2" : "raw";
}
