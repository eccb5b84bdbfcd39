import { LvRow } from "../lvm/report";
import { TAG_PREFIX } from "./naming";

/**
 * The host journal: what a multi-step operation is in the middle of, written ahead on the LVs it changes as LVM
 * tags. Tags live in the VG's metadata, so they survive a dropped connection, a killed client and a power loss,
 * change atomically with every LVM command, and travel with an LV through a rename; every read already lists
 * them, so the journal costs no extra round trip. The next operation on the same objects reads it and finishes.
 */

/** On an older chain snapshot absorbing its child `child` (`qemu-img commit`); it then takes the child's name. */
export const absorbsTag = (child: string) => `${TAG_PREFIX}absorbs=${child}`;
/** On a chain snapshot being removed, once its child is (being) rebased past it. */
export const DELETING_TAG = `${TAG_PREFIX}deleting`;
/**
 * On a disk LV from the `lvcreate` that makes it (the same command, so atomically) until the last step of its
 * create: an LV still carrying it is a create that was cut off (a lost connection, a killed client, a power loss),
 * holding no data of anyone's; the next create of the same disk removes it and starts again.
 */
export const CREATING_TAG = `${TAG_PREFIX}creating`;
/** On the new LV a rollback made (a chain's fresh overlay, or a thin disk's new LV), which takes the disk's name once its old LV is removed. */
export const replacesTag = (disk: string) => `${TAG_PREFIX}replaces=${disk}`;
/**
 * On a disk into which a rollback merges its thick snapshot `snapshotLv` (Snapshot `name`, of `bytes`): the merge
 * consumes the snapshot, which is then taken again under the same LV name and size. (LV and snapshot names have no
 * ':'.)
 */
const RETAKE = `${TAG_PREFIX}retake=`;
export const retakeTag = (snapshotLv: string, bytes: number, name: string) => `${RETAKE}${snapshotLv}:${bytes}:${name}`;

/**
 * On a qcow2 disk's LV from just before a chain snapshot renames it to the snapshot's LV `snapshotLv`, until the
 * snapshot is complete (the rename travels with it). The rename, the overlay's lvcreate under the disk's name and its
 * `qemu-img create` are three steps a power loss can come between, and then no undo runs (the undo steps live in the
 * script, which the power took with it): the disk's state would sit under the snapshot's name, below an overlay that
 * may be half-formatted or missing. With this entry, the next snapshot of that disk finishes it (the overlay is a
 * complete image backed by the snapshot) or undoes it (no overlay, or one that is not a clean image, which nothing can
 * have written to). (Disk and LV names have no ':'.)
 */
const SNAPSHOTTING = `${TAG_PREFIX}snapshotting=`;
export const snapshottingTag = (disk: string, snapshotLv: string) => `${SNAPSHOTTING}${disk}:${snapshotLv}`;

/**
 * On the VG while its thin pool `pool` is being created. `lvcreate --type thin-pool` first commits the pool's
 * metadata LV as a plain, untagged LV named by LVM `lvol<N>` (N above every lvol number in the VG), and only in later
 * commits makes the pool of it; a power loss in between leaves that LV, which nothing else tells from a user's own.
 * The entry records the lowest N it can have, read just before: the next create of the pool removes the untagged
 * linear `lvol<M>`, M >= N, that it finds, and the entry. (Pool names have no ':'.)
 */
const POOL_CREATING = `${TAG_PREFIX}pool-creating=`;
export const poolCreatingTag = (pool: string, firstLvol: number) => `${POOL_CREATING}${pool}:${firstLvol}`;
/** The lowest lvol number a cut-off create of `pool` may have left, if the VG's journal says one was cut off. */
export function poolCreatingOf(vgTags: readonly string[], pool: string): number | undefined {
  const prefix = `${POOL_CREATING}${pool}:`;
  const first = vgTags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
  return first !== undefined && /^\d+$/.test(first) ? Number(first) : undefined;
}
/** The lowest number LVM's next automatic name `lvol<N>` can take: above every visible lvol<N>. */
export function nextLvolNumber(lvs: readonly LvRow[]): number {
  return Math.max(-1, ...lvs.map((l) => /^lvol(\d+)$/.exec(l.name)).filter((m) => m !== null).map((m) => Number(m![1]))) + 1;
}

export type Pending =
  | { op: "absorb"; lv: string; child: string }
  | { op: "delete"; lv: string }
  | { op: "replace"; lv: string; disk: string }
  | { op: "retake"; lv: string; snapshotLv: string; bytes: number; name: string }
  | { op: "snapshot"; lv: string; disk: string; snapshotLv: string };

/** What the journal says about an LV, if anything. */
export function pendingOf(lv: LvRow): Pending | undefined {
  const value = (prefix: string) => lv.tags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
  const absorb = value(absorbsTag(""));
  if (absorb !== undefined) return { op: "absorb", lv: lv.name, child: absorb };
  if (lv.tags.includes(DELETING_TAG)) return { op: "delete", lv: lv.name };
  const replaces = value(replacesTag(""));
  if (replaces !== undefined) return { op: "replace", lv: lv.name, disk: replaces };
  const retake = value(RETAKE)?.split(":");
  if (retake?.length === 3) return { op: "retake", lv: lv.name, snapshotLv: retake[0], bytes: Number(retake[1]), name: retake[2] };
  const snapshotting = value(SNAPSHOTTING)?.split(":");
  if (snapshotting?.length === 2) return { op: "snapshot", lv: lv.name, disk: snapshotting[0], snapshotLv: snapshotting[1] };
  return undefined;
}

/**
 * The LV journaled to take the name `name` in `vg`: the older snapshot that absorbed it, the fresh overlay a
 * rollback made for it, or the disk's own LV that a cut-off chain snapshot renamed before making its overlay.
 */
export function heirOf(lvs: readonly LvRow[], vg: string, name: string): LvRow | undefined {
  return lvs.find((lv) => lv.vg === vg && (lv.tags.includes(absorbsTag(name)) || lv.tags.includes(replacesTag(name))
    || lv.tags.includes(snapshottingTag(name, lv.name))));
}

/** The LV whose journal says a chain snapshot of `disk` was cut off, if any. */
export function snapshotterOf(lvs: readonly LvRow[], vg: string, disk: string): (LvRow & { pending: Pending & { op: "snapshot" } }) | undefined {
  for (const lv of lvs) {
    const pending = lv.vg === vg ? pendingOf(lv) : undefined;
    if (pending?.op === "snapshot" && pending.disk === disk) return { ...lv, pending };
  }
  return undefined;
}

/** The disk LV whose journal says a rollback is re-taking the thick snapshot `snapshotLv`, if any. */
export function retakerOf(lvs: readonly LvRow[], vg: string, snapshotLv: string): LvRow | undefined {
  return lvs.find((lv) => {
    const pending = lv.vg === vg ? pendingOf(lv) : undefined;
    return pending?.op === "retake" && pending.snapshotLv === snapshotLv;
  });
}

/** A sentence for a user about an unfinished operation. */
export function describePending(vg: string, p: Pending): string {
  const next = "every remaining state is intact, and the next pulumi up finishes";
  switch (p.op) {
    case "absorb": return `an earlier run was merging ${vg}/${p.lv} into ${vg}/${p.child} (deleting the snapshot ${p.lv}) and did not finish; ${next} the deletion`;
    case "delete": return `an earlier run was deleting the snapshot ${vg}/${p.lv} and did not finish; ${next} the deletion`;
    case "replace": return `an earlier run was rolling back ${vg}/${p.disk}: its fresh overlay ${vg}/${p.lv} is made but does not have the disk's name yet; the next pulumi up of the Rollback finishes it`;
    case "snapshot": return `an earlier run was taking the chain snapshot ${vg}/${p.snapshotLv} of ${vg}/${p.disk} and was cut off between its steps; the disk's state is intact (in ${vg}/${p.lv}), and the next pulumi up of the Snapshot finishes or undoes it`;
    case "retake": return `an earlier run was rolling back ${vg}/${p.lv} to its thick snapshot ${vg}/${p.snapshotLv} and did not re-take the snapshot; the next pulumi up of the Rollback finishes it`;
  }
}
