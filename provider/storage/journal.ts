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

export type Pending =
  | { op: "absorb"; lv: string; child: string }
  | { op: "delete"; lv: string }
  | { op: "replace"; lv: string; disk: string }
  | { op: "retake"; lv: string; snapshotLv: string; bytes: number; name: string };

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
  return undefined;
}

/**
 * The LV journaled to take the name `name` in `vg`: the older snapshot that absorbed it, or the fresh overlay a
 * rollback made for it.
 */
export function heirOf(lvs: readonly LvRow[], vg: string, name: string): LvRow | undefined {
  return lvs.find((lv) => lv.vg === vg && (lv.tags.includes(absorbsTag(name)) || lv.tags.includes(replacesTag(name))));
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
    case "retake": return `an earlier run was rolling back ${vg}/${p.lv} to its thick snapshot ${vg}/${p.snapshotLv} and did not re-take the snapshot; the next pulumi up of the Rollback finishes it`;
  }
}
