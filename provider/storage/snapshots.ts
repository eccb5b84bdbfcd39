import { Script, sh } from "../command";
import { LvRow } from "../lvm/report";
import { chainSnapshotId, looksLikeChainSnapshot, snapshotLvName, taggedSnapshotName, TEMPORARY_TAG } from "./naming";

/** A snapshot of a disk as found among a host's LVs. */
export interface FoundSnapshot {
  name: string;
  lvName: string;
  method: "chain" | "thick" | "thin";
  lv: LvRow;
}

/**
 * The snapshots of `disk` in `vg` that LVM shows: thick and thin ones by origin (named by their tag, else by
 * Proxmox's LV name), chain ones by Proxmox's LV name. A chain LV's place in the chain is confirmed by the chain
 * itself (storage/chain.ts), not here.
 */
export function snapshotsOf(lvs: readonly LvRow[], vg: string, disk: string): FoundSnapshot[] {
  const found: FoundSnapshot[] = [];
  for (const lv of lvs) {
    if (lv.vg !== vg || lv.name === disk || isUnfinishedThickSnapshot(lv)) continue;
    if (lv.origin === disk) {
      const method = lv.attr.type === "V" ? "thin" : "thick";
      const name = taggedSnapshotName(lv.tags) ?? nameFromLv(lv.name, disk);
      if (name !== undefined) found.push({ name, lvName: lv.name, method, lv });
    } else if (lv.attr.type === "V" && isOrphanedThinSnapshot(lv, disk)) {
      found.push({ name: taggedSnapshotName(lv.tags)!, lvName: lv.name, method: "thin", lv });
    } else if (looksLikeChainSnapshot(lv.name, disk) && lv.attr.type !== "s" && lv.attr.type !== "V") {
      found.push({ name: chainSnapshotId(lv.name, disk)!, lvName: lv.name, method: "chain", lv });
    }
  }
  return found;
}

/** The snapshot called `name` of `disk`, if LVM shows one. */
export function findSnapshot(lvs: readonly LvRow[], vg: string, disk: string, name: string): FoundSnapshot | undefined {
  return snapshotsOf(lvs, vg, disk).find((s) => s.name === name);
}

/**
 * A thin snapshot outlives its origin's LV: once the disk's LV is removed (a thin rollback re-creates the disk from a
 * snapshot, as Proxmox does), LVM reports no origin for it. It is still the disk's snapshot when both its tag and
 * Proxmox's name say so.
 */
function isOrphanedThinSnapshot(lv: LvRow, disk: string): boolean {
  const name = taggedSnapshotName(lv.tags);
  return lv.origin === "" && name !== undefined && lv.name === snapshotLvName(disk, name, "thin");
}

function nameFromLv(lvName: string, disk: string): string | undefined {
  const prefix = snapshotLvName(disk, "", "thick");
  return lvName.startsWith(prefix) && lvName.length > prefix.length ? lvName.slice(prefix.length) : lvName;
}

/**
 * What a `lvcreate --snapshot` cut off by a power loss can leave: LVM commits the copy-on-write LV as a plain LV
 * first, zeroes its header, and only in a second commit makes it its origin's snapshot. Between the two, the LV has
 * the snapshot's name and our tags but no origin. It holds nothing (a zeroed header), and is no snapshot of anything:
 * never a chain link (those carry no snapshot or temporary tag), so it is removed before the snapshot is taken again.
 */
export function isUnfinishedThickSnapshot(lv: LvRow): boolean {
  return lv.origin === "" && lv.attr.type === "-" && (taggedSnapshotName(lv.tags) !== undefined || lv.tags.includes(TEMPORARY_TAG));
}

/**
 * Removes $vg/$lv if, under the lock, it still is an unfinished thick snapshot (plain, no origin), as the read before
 * the lock found it; fails rather than remove anything else.
 */
const REMOVE_UNFINISHED = sh`row=$(lvs --noheadings --separator '|' -o lv_attr,origin -- "$vg/$lv" 2>/dev/null | tr -d ' ')
case "$row" in
  '') ;;
  -*'|') lvremove --yes -- "$vg/$lv" >/dev/null ;;
  *) __fail "$vg/$lv changed since it was read as the unfinished copy-on-write LV of a cut-off lvcreate --snapshot (it reads $row now); nothing was removed" ;;
esac`;

/** Adds the step that removes an unfinished thick snapshot (isUnfinishedThickSnapshot) before it is taken again. */
export function removeUnfinishedSnapshot(script: Script, vg: string, lv: string): Script {
  return script.code("remove the unfinished snapshot a cut-off lvcreate left", REMOVE_UNFINISHED, { vg, lv });
}

export interface NewThickSnapshot {
  vg: string;
  origin: string;
  lvName: string;
  /** The copy-on-write area. */
  bytes: number;
  tags: readonly string[];
}

/**
 * Adds the step that takes a thick snapshot (`lvcreate --snapshot -L`); the caller decides whether a later failure
 * undoes it. Thick snapshots take no -W/-Z: their content is the origin's.
 */
export function addThickSnapshot(script: Script, step: string, s: NewThickSnapshot): Script {
  return script.run(step, ["lvcreate", "--yes", "--snapshot", "-L", `${s.bytes}b`, "-n", s.lvName,
    ...s.tags.flatMap((t) => ["--addtag", t]), "--", `${s.vg}/${s.origin}`]);
}
