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

export type Pending =
  | { op: "absorb"; lv: string; child: string }
  | { op: "delete"; lv: string };

/** What the journal says about an LV, if anything. */
export function pendingOf(lv: LvRow): Pending | undefined {
  const absorb = lv.tags.find((t) => t.startsWith(absorbsTag("")));
  if (absorb) return { op: "absorb", lv: lv.name, child: absorb.slice(absorbsTag("").length) };
  if (lv.tags.includes(DELETING_TAG)) return { op: "delete", lv: lv.name };
  return undefined;
}

/** The LV journaled to take the name `name` (the older snapshot that absorbed it), in `vg`. */
export function heirOf(lvs: readonly LvRow[], vg: string, name: string): LvRow | undefined {
  return lvs.find((lv) => lv.vg === vg && lv.tags.includes(absorbsTag(name)));
}

/** A sentence for a user about an unfinished operation. */
export function describePending(vg: string, p: Pending): string {
  return p.op === "absorb"
    ? `an earlier run was merging ${vg}/${p.lv} into ${vg}/${p.child} (deleting the snapshot ${p.lv}) and did not finish; every remaining state is intact, and the next pulumi up finishes the deletion`
    : `an earlier run was deleting the snapshot ${vg}/${p.lv} and did not finish; every remaining state is intact, and the next pulumi up finishes the deletion`;
}
