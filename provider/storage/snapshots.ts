import { Script } from "../command";
import { LvRow } from "../lvm/report";
import { chainSnapshotId, looksLikeChainSnapshot, snapshotLvName, taggedSnapshotName } from "./naming";

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
    if (lv.vg !== vg || lv.name === disk) continue;
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
