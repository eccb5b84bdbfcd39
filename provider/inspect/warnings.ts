import { formatBytes, roundUpToExtent } from "../validate";
import {
  DiskReport, InspectReport, LvReport, ThickSnapshotReport, ThinPoolReport, ThinSnapshotReport, VolumeGroupReport, Warning,
} from "./model";

/** A thick snapshot fuller than this is about to be invalidated; a thin pool, about to stop every write to it. */
export const FILLING_PERCENT = 80;

/** Everything in the report that needs a person's attention, each with what to do, in the order the tree shows it. */
export function warningsOf(report: InspectReport): Warning[] {
  const warnings: Warning[] = [];
  for (const vg of report.volumeGroups) {
    for (const pool of vg.thinPools) warnings.push(...poolWarnings(vg, pool));
    for (const disk of vg.disks) warnings.push(...diskWarnings(vg, disk));
    for (const lv of vg.otherLvs) warnings.push(...lvWarnings(vg, lv));
    const need = vgNeed(vg);
    if (need) warnings.push(need);
  }
  const unread = report.volumeGroups.flatMap((vg) => vg.disks.filter((d) => d.chainProblem?.kind === "no-qemu-img"));
  if (unread.length > 0) {
    warnings.push({
      kind: "chains-not-read", subject: report.host.hostname,
      message: `qemu-img is not installed, so the images of ${unread.length} qcow2 disk${unread.length === 1 ? "" : "s"} and their volume chains were not read`,
      action: "install it (apt-get install qemu-utils) and inspect again",
    });
  }
  return warnings;
}

function diskWarnings(vg: VolumeGroupReport, disk: DiskReport): Warning[] {
  const subject = `${vg.name}/${disk.lvName}`;
  const warnings = lvWarnings(vg, disk);
  const problem = disk.chainProblem;
  if (problem?.kind === "missing-link") {
    warnings.push({
      kind: "broken-chain", subject,
      message: `the volume chain is broken: the disk reads through ${problem.lv}, which does not exist; no VM can open the disk`,
      action: `if ${problem.lv} was renamed, rename it back (lvrename ${vg.name} <its name now> ${problem.lv}); if it was removed, restore it from a backup: the disk's newer images only hold what changed since`,
    });
  } else if (problem?.kind === "unreadable" && problem.detail !== undefined) {
    warnings.push({
      kind: "image-unreadable", subject,
      message: `qemu-img cannot read its image: ${problem.detail}`,
      action: `check it with qemu-img info -U --backing-chain ${disk.path}; if it does not hold a qcow2 image, its pulumi-lvm/format tag or .qcow2 name is wrong`,
    });
  }
  if (disk.image?.corrupt) {
    warnings.push({
      kind: "image-corrupt", subject,
      message: "qemu marked its image corrupt and will not write to it",
      action: `stop the VM, copy the LV aside, then repair it: qemu-img check -r all ${disk.path}`,
    });
  }
  if (disk.fullyAllocatedBytes !== undefined && disk.sizeBytes < disk.fullyAllocatedBytes) {
    const needed = roundUpToExtent(disk.fullyAllocatedBytes, vg.extentSizeBytes);
    warnings.push({
      kind: "lv-below-measure", subject,
      message: `its LV (${formatBytes(disk.sizeBytes)}) is smaller than its image needs once fully written ` +
        `(${formatBytes(disk.fullyAllocatedBytes)}, qemu-img measure): when the guest fills the disk, writes fail and the VM pauses`,
      action: `grow the LV to the measure: lvextend -L ${needed}b ${vg.name}/${disk.lvName}`,
    });
  }
  for (const link of disk.chain) {
    if (link.pending) warnings.push(unfinished(`${vg.name}/${link.lvName}`, link.pending));
  }
  return warnings;
}

function lvWarnings(vg: VolumeGroupReport, lv: LvReport): Warning[] {
  const warnings: Warning[] = [];
  if (lv.pending) warnings.push(unfinished(`${vg.name}/${lv.lvName}`, lv.pending));
  for (const snap of lv.thickSnapshots) warnings.push(...thickWarnings(vg, lv, snap));
  for (const snap of lv.thinSnapshots) warnings.push(...thinWarnings(vg, lv, snap));
  return warnings;
}

/**
 * A full pool holds every write to its thin LVs (for 60 s by LVM's default), then fails it; one with full metadata
 * goes read-only and needs a repair. pulumi-lvm's own guards refuse new thin LVs before that.
 */
function poolWarnings(vg: VolumeGroupReport, pool: ThinPoolReport): Warning[] {
  const subject = `${vg.name}/${pool.lvName}`;
  const warnings: Warning[] = [];
  const grow = {
    data: `grow it: raise the ThinPool's size and run pulumi up, or lvextend -L +<size> ${subject} (${formatBytes(vg.freeBytes)} free in ${vg.name}); or remove thin snapshots it no longer needs`,
    metadata: `grow its metadata: raise the ThinPool's metadataSize and run pulumi up, or lvextend --poolmetadatasize +<size> ${subject} (${formatBytes(vg.freeBytes)} free in ${vg.name}); or remove thin snapshots it no longer needs`,
  };
  const atFull = {
    data: "at 100% writes to its thin LVs stall, then fail: their VMs pause or see I/O errors",
    metadata: "at 100% the pool turns read-only and needs a repair (lvconvert --repair)",
  };
  for (const [part, pct] of [["data", pool.dataPercent], ["metadata", pool.metadataPercent]] as const) {
    if (pct === undefined) continue;
    const full = `thin pool ${pool.lvName} is ${pct}% full (${part})`;
    if (pct > pool.refuseAbovePercent) {
      warnings.push({
        kind: "thin-pool-refusing", subject,
        message: `${full}, above its refuseAbovePercent of ${pool.refuseAbovePercent}%: new thin disks and snapshots in it are refused; ${atFull[part]}`,
        action: grow[part],
      });
    } else if (pct > FILLING_PERCENT) {
      warnings.push({ kind: "thin-pool-filling", subject, message: `${full}: ${atFull[part]}`, action: grow[part] });
    }
  }
  if (pool.maxOverCommit !== undefined && pool.overCommit > pool.maxOverCommit) {
    warnings.push({
      kind: "thin-pool-over-committed", subject,
      message: `its ${pool.thinLvCount} thin LVs add up to ${formatBytes(pool.virtualSizeBytes)}, ${pool.overCommit}x its ${formatBytes(pool.sizeBytes)} of data space, ` +
        `above its maxOverCommit of ${pool.maxOverCommit}: new and grown thin disks in it are refused`,
      action: `grow the pool (raise the ThinPool's size, or lvextend -L +<size> ${subject}), raise its maxOverCommit, or remove thin disks or snapshots it no longer needs`,
    });
  }
  return warnings;
}

function thinWarnings(vg: VolumeGroupReport, origin: LvReport, snap: ThinSnapshotReport): Warning[] {
  const subject = `${vg.name}/${snap.lvName}`;
  if (snap.temporary === "leftover") {
    return [leftover(vg, origin, snap.lvName, `it keeps the blocks of ${origin.lvName} rewritten since in their thin pool`)];
  }
  return snap.pending ? [unfinished(subject, snap.pending)] : [];
}

function thickWarnings(vg: VolumeGroupReport, origin: LvReport, snap: ThickSnapshotReport): Warning[] {
  const subject = `${vg.name}/${snap.lvName}`;
  const what = `the thick snapshot "${snap.name}" of ${origin.lvName}`;
  // A running export's snapshot is its own business: the export fails and cleans up if it overflows.
  if (snap.temporary === "running export") return [];
  if (snap.temporary === "leftover") {
    return [leftover(vg, origin, snap.lvName, `it takes ${formatBytes(snap.sizeBytes)} and slows every write to ${origin.lvName}`)];
  }
  const warnings: Warning[] = [];
  if (snap.pending) warnings.push(unfinished(subject, snap.pending));
  if (!snap.valid) {
    warnings.push({
      kind: "snapshot-invalid", subject,
      message: `${what} is INVALID: more was written to ${origin.lvName} than its ${formatBytes(snap.sizeBytes)} copy-on-write area holds, so the state it kept is lost`,
      action: `remove it (lvremove ${vg.name}/${snap.lvName}) and take it again with room for every write it must outlive, or use a chain or thin snapshot`,
    });
  } else if (snap.merging) {
    warnings.push({
      kind: "merge-pending", subject,
      message: `${what} is being merged back into ${origin.lvName}, or waits for its next activation to be (LVM defers a merge while the disk is open); no new snapshot of ${origin.lvName} can be taken meanwhile`,
      action: `stop what uses ${vg.name}/${origin.lvName}, then deactivate and activate it (lvchange -an, then -ay) to let LVM finish the merge`,
    });
  } else if (snap.usedPercent !== undefined && snap.usedPercent > FILLING_PERCENT) {
    warnings.push({
      kind: "snapshot-filling", subject,
      message: `${what} is ${snap.usedPercent}% full: at 100% LVM invalidates it and the state it keeps is lost`,
      action: `copy out what you need and remove it (lvremove ${vg.name}/${snap.lvName}), or grow it now (lvextend -L +<size> ${vg.name}/${snap.lvName}; ${formatBytes(vg.freeBytes)} free)`,
    });
  }
  return warnings;
}

/**
 * A thick snapshot holds the origin's old blocks as they are overwritten: to outlive a rewrite of the whole origin it
 * needs about the origin's size. When the VG has less free space than the biggest such shortfall, that snapshot
 * cannot be grown in time (by hand or by LVM's autoextend) and is invalidated instead.
 */
function vgNeed(vg: VolumeGroupReport): Warning | undefined {
  const needs = [...vg.disks, ...vg.otherLvs].flatMap((origin) => origin.thickSnapshots
    .filter((s) => s.valid && s.temporary === undefined)
    .map((snap) => ({ origin, snap, bytes: Math.max(0, origin.sizeBytes - snap.sizeBytes) })));
  const largest = needs.sort((a, b) => b.bytes - a.bytes)[0];
  if (!largest || largest.bytes <= vg.freeBytes) return undefined;
  return {
    kind: "vg-free-below-snapshot-need", subject: vg.name,
    message: `${formatBytes(vg.freeBytes)} free, but the thick snapshot ${largest.snap.lvName} (${formatBytes(largest.snap.sizeBytes)}) could still need ` +
      `${formatBytes(largest.bytes)} more to hold every block of ${largest.origin.lvName} (${formatBytes(largest.origin.sizeBytes)}): it cannot be grown before it fills`,
    action: `add space (vgextend ${vg.name} <device>), or remove thick snapshots once they served their purpose`,
  };
}

function leftover(vg: VolumeGroupReport, origin: LvReport, lvName: string, cost: string): Warning {
  return {
    kind: "leftover-temporary-snapshot", subject: `${vg.name}/${lvName}`,
    message: `a temporary snapshot of ${origin.lvName} left by a DiskExport that is no longer running; ${cost}`,
    action: `the next DiskExport of ${vg.name}/${origin.lvName} removes it; or remove it now: lvremove ${vg.name}/${lvName}`,
  };
}

function unfinished(subject: string, pending: string): Warning {
  return {
    kind: "unfinished-operation", subject,
    message: pending,
    action: "run pulumi up in the stack that manages it (pulumi refresh shows it as pending); change none of these LVs by hand meanwhile",
  };
}
