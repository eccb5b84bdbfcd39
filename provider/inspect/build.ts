import { LvRow, PvRow, VgRow } from "../lvm/report";
import { measureArgv, parseImageChain, parseMeasure } from "../qemu";
import { temporaryLvName } from "../resources/diskExport/inputs";
import { Capabilities } from "../ssh";
import { BrokenChainError, Chain, chainFrom } from "../storage/chain";
import { describePending, heirOf, pendingOf } from "../storage/journal";
import { chainSnapshotId, diskFormatOf, formatTag, taggedSnapshotName, TEMPORARY_TAG } from "../storage/naming";
import { snapshotsOf } from "../storage/snapshots";
import { hasPoolLimitTags, isThinLv, isThinPool, poolLimitsOf, poolUsage } from "../storage/thin";
import {
  ChainProblem, ChainSnapshotReport, DiskReport, InspectReport, LvReport, PvReport, ThickSnapshotReport, ThinPoolReport,
  ThinSnapshotReport, VolumeGroupReport,
} from "./model";
import { HostReading } from "./read";
import { warningsOf } from "./warnings";

/** Proxmox VE's names for VM disks and template disks. */
const PROXMOX_DISK = /^(vm|base)-\d+-disk-\d+/;

/** The report of a host from what was read there: each LV placed once, under what it belongs to. */
export function buildReport(target: string, caps: Capabilities, reading: HostReading): InspectReport {
  const volumeGroups = [...reading.lvm.vgs]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((vg) => volumeGroupReport(vg, reading, caps.tools["qemu-img"]));
  const report: InspectReport = {
    schemaVersion: 1,
    host: {
      target,
      hostname: reading.hostname,
      ...(caps.lvmVersion ? { lvmVersion: caps.lvmVersion } : {}),
      ...(caps.qemuImgVersion ? { qemuImgVersion: caps.qemuImgVersion } : {}),
    },
    volumeGroups,
    unusedPvs: reading.lvm.pvs.filter((pv) => pv.vg === "").map(pvReport),
    warnings: [],
  };
  report.warnings = warningsOf(report);
  return report;
}

function volumeGroupReport(vg: VgRow, reading: HostReading, qemuImg: boolean): VolumeGroupReport {
  const lvs = reading.lvm.lvs.filter((lv) => lv.vg === vg.name).flatMap(visible);
  const byName = new Map(lvs.map((lv) => [lv.name, lv]));

  // The chains qemu-img read; an LV that some chain reads through is a snapshot of that chain's top.
  const chains = new Map<string, Chain>();
  const chainErrors = new Map<string, Error>();
  for (const lv of lvs) {
    const text = reading.chains.get(`${vg.name}/${lv.name}`);
    if (text === undefined) continue;
    try {
      chains.set(lv.name, chainFrom(vg.name, lv.name, parseImageChain(text)));
    } catch (e) {
      chainErrors.set(lv.name, e as Error);
    }
  }
  const links = new Set([...chains.values()].flatMap((c) => c.links.slice(1).map((l) => l.lvName)));
  const isThick = (lv: LvRow) => lv.origin !== "" && (lv.attr.type === "s" || lv.attr.type === "S");

  const rest = lvs.filter((lv) => !isThick(lv) && !links.has(lv.name) && !isThinPool(lv) && !isThinSnapshot(lv));
  const diskRows = rest.filter((lv) => isVmDisk(lv, chains.has(lv.name)));
  // A chain snapshot the chain could not confirm (unread, broken) goes under its disk by its Proxmox name.
  const byNameOnly = new Map<string, LvRow[]>();
  for (const disk of diskRows) {
    if (diskFormatOf(disk.name, disk.tags) !== "qcow2") continue;
    const inChain = new Set(chains.get(disk.name)?.links.map((l) => l.lvName) ?? []);
    const named = snapshotsOf(rest, vg.name, disk.name)
      .filter((s) => s.method === "chain" && !inChain.has(s.lvName) && s.lvName !== disk.name)
      .map((s) => s.lv);
    if (named.length > 0) byNameOnly.set(disk.name, named);
  }
  const placed = new Set([...byNameOnly.values()].flat().map((lv) => lv.name));
  const disks = diskRows.filter((lv) => !placed.has(lv.name));
  const others = rest.filter((lv) => !placed.has(lv.name) && !disks.includes(lv));

  const thick = (origin: string) => snapshotsOf(lvs, vg.name, origin)
    .filter((s) => s.method === "thick")
    .map((s) => thickSnapshotReport(vg.name, s.name, s.lv, reading.runningExports))
    .sort((a, b) => a.name.localeCompare(b.name));
  const thin = (origin: string) => snapshotsOf(lvs, vg.name, origin)
    .filter((s) => s.method === "thin" && isThinSnapshot(s.lv))
    .map((s) => thinSnapshotReport(vg.name, s.name, s.lv, reading.runningExports))
    .sort((a, b) => a.name.localeCompare(b.name));
  const lvReport = (lv: LvRow): LvReport => ({
    lvName: lv.name,
    path: lv.path || `/dev/${vg.name}/${lv.name}`,
    sizeBytes: lv.sizeBytes,
    attr: lv.attr.raw,
    active: lv.attr.active,
    open: lv.attr.open,
    tags: lv.tags,
    ...(isThinLv(lv) ? { thinPool: lv.poolLv, ...(lv.dataPercent !== undefined ? { allocatedPercent: lv.dataPercent } : {}) } : {}),
    thickSnapshots: thick(lv.name),
    thinSnapshots: thin(lv.name),
    ...pendingField(vg.name, lv),
  });

  const diskReports = disks.map((lv): DiskReport => {
    const format = diskFormatOf(lv.name, lv.tags);
    const { lvName, path, ...rest } = lvReport(lv);
    const base = { lvName, path, format, ...rest, chain: [] as ChainSnapshotReport[] };
    if (format === "raw") return { ...base, virtualSizeBytes: lv.sizeBytes };
    const chain = chains.get(lv.name);
    const unconfirmed = (byNameOnly.get(lv.name) ?? []).map((row) => chainSnapshotReport(vg.name, lv.name, row.name, row, false));
    if (!chain) {
      const problem = chainProblem(vg.name, lv, lvs, byName, chainErrors.get(lv.name), qemuImg);
      return { ...base, chain: unconfirmed, ...(problem ? { chainProblem: problem } : {}) };
    }
    const top = chain.links[0].image;
    const links = chain.links.slice(1).map((link) => ({
      ...chainSnapshotReport(vg.name, lv.name, link.lvName, byName.get(link.lvName), true),
      virtualSizeBytes: link.image.virtualSizeBytes,
    }));
    const fullyAllocated = measured(reading.measures.get(`${vg.name}/${lv.name}`), top);
    return {
      ...base,
      virtualSizeBytes: top.virtualSizeBytes,
      image: {
        ...(top.clusterSizeBytes !== undefined ? { clusterSizeBytes: top.clusterSizeBytes } : {}),
        ...(top.extendedL2 !== undefined ? { extendedL2: top.extendedL2 } : {}),
        ...(top.corrupt !== undefined ? { corrupt: top.corrupt } : {}),
        ...(top.backingFile !== undefined ? { backingFile: top.backingFile } : {}),
      },
      ...(fullyAllocated !== undefined ? { fullyAllocatedBytes: fullyAllocated } : {}),
      chain: [...links, ...unconfirmed],
    };
  });

  // A snapshot shown under nothing else (e.g. a thick snapshot of a chain snapshot's LV, a thin snapshot whose origin
  // is gone) is listed itself, with what snapshots it in turn.
  const otherReports = others.map(lvReport);
  const shown = new Set([...disks, ...others].map((lv) => lv.name));
  const placedThin = new Set([...diskReports, ...otherReports].flatMap((r) => r.thinSnapshots.map((s) => s.lvName)));
  const strays = lvs.filter((lv) => (isThick(lv) && !shown.has(lv.origin)) || (isThinSnapshot(lv) && !placedThin.has(lv.name)))
    .map(lvReport);
  const nested = new Set(strays.flatMap((r) => [...r.thickSnapshots, ...r.thinSnapshots].map((s) => s.lvName)));

  return {
    name: vg.name,
    uuid: vg.uuid,
    sizeBytes: vg.sizeBytes,
    freeBytes: vg.freeBytes,
    usedPercent: vg.sizeBytes > 0 ? round2(((vg.sizeBytes - vg.freeBytes) / vg.sizeBytes) * 100) : 0,
    extentSizeBytes: vg.extentSizeBytes,
    tags: vg.tags,
    pvs: reading.lvm.pvs.filter((pv) => pv.vg === vg.name).map(pvReport),
    thinPools: lvs.filter(isThinPool).map((pool) => thinPoolReport(pool, lvs)).sort((a, b) => a.lvName.localeCompare(b.lvName)),
    disks: diskReports.sort((a, b) => a.lvName.localeCompare(b.lvName)),
    otherLvs: [...otherReports, ...strays.filter((r) => !nested.has(r.lvName))].sort((a, b) => a.lvName.localeCompare(b.lvName)),
  };
}

/**
 * `lvs --all` also lists LVM's internal LVs, in brackets: a snapshot whose merge LVM deferred is shown under its own
 * name (plain `lvs` hides it); the others are parts of a visible LV (pool metadata, mirror images) and left out.
 */
function visible(lv: LvRow): LvRow[] {
  if (!lv.name.startsWith("[")) return [lv];
  if (lv.attr.type !== "s" && lv.attr.type !== "S") return [];
  return [{ ...lv, name: lv.name.replace(/^\[|\]$/g, "") }];
}

/** A VM disk: VmDisk recorded its format, it holds a qcow2 image (by name or tag) or a chain, or Proxmox named it so. */
function isVmDisk(lv: LvRow, topOfChain: boolean): boolean {
  return topOfChain || lv.tags.some((t) => t.startsWith(formatTag(""))) || diskFormatOf(lv.name, lv.tags) === "qcow2"
    || PROXMOX_DISK.test(lv.name);
}

/**
 * A thin snapshot rather than a thin disk: it carries a snapshot's or an export's temporary tag, or it has an origin
 * without being a VM disk itself (a Proxmox linked clone of a template, or a disk rolled back to a snapshot, has one
 * too). LVM gives a thin snapshot none of its origin's tags.
 */
function isThinSnapshot(lv: LvRow): boolean {
  if (!isThinLv(lv)) return false;
  if (taggedSnapshotName(lv.tags) !== undefined || lv.tags.includes(TEMPORARY_TAG)) return true;
  return lv.origin !== "" && !isVmDisk(lv, false);
}

/** `lv` is undefined for a link qemu-img opened that LVM's report (taken just before) did not list yet. */
function chainSnapshotReport(vg: string, disk: string, lvName: string, lv: LvRow | undefined, inChain: boolean): ChainSnapshotReport {
  return {
    name: chainSnapshotId(lvName, disk) ?? lvName,
    lvName,
    sizeBytes: lv?.sizeBytes ?? 0,
    active: lv?.attr.active ?? true,
    open: lv?.attr.open ?? false,
    inChain,
    ...(lv ? pendingField(vg, lv) : {}),
  };
}

function thickSnapshotReport(vg: string, name: string, lv: LvRow, runningExports: readonly string[]): ThickSnapshotReport {
  const temporary = temporaryOf(lv, runningExports);
  return {
    name,
    lvName: lv.name,
    sizeBytes: lv.sizeBytes,
    ...(lv.snapPercent !== undefined ? { usedPercent: lv.snapPercent } : {}),
    valid: !lv.attr.invalid,
    merging: lv.attr.type === "S",
    active: lv.attr.active,
    open: lv.attr.open,
    ...(temporary ? { temporary } : {}),
    ...pendingField(vg, lv),
  };
}

function thinSnapshotReport(vg: string, name: string, lv: LvRow, runningExports: readonly string[]): ThinSnapshotReport {
  const temporary = temporaryOf(lv, runningExports);
  return {
    name,
    lvName: lv.name,
    sizeBytes: lv.sizeBytes,
    ...(lv.dataPercent !== undefined ? { allocatedPercent: lv.dataPercent } : {}),
    active: lv.attr.active,
    open: lv.attr.open,
    activationSkip: lv.attr.activationSkip,
    ...(temporary ? { temporary } : {}),
    ...pendingField(vg, lv),
  };
}

/** A DiskExport's temporary snapshot: whether its export still runs. */
function temporaryOf(lv: LvRow, runningExports: readonly string[]): ThickSnapshotReport["temporary"] {
  if (!lv.tags.includes(TEMPORARY_TAG)) return undefined;
  return runningExports.some((job) => temporaryLvName(lv.origin, job) === lv.name) ? "running export" : "leftover";
}

function thinPoolReport(pool: LvRow, lvs: readonly LvRow[]): ThinPoolReport {
  return {
    lvName: pool.name,
    sizeBytes: pool.sizeBytes,
    metadataSizeBytes: pool.metadataSizeBytes ?? 0,
    ...(pool.dataPercent !== undefined ? { dataPercent: pool.dataPercent } : {}),
    ...(pool.metadataPercent !== undefined ? { metadataPercent: pool.metadataPercent } : {}),
    attr: pool.attr.raw,
    active: pool.attr.active,
    tags: pool.tags,
    ...poolUsage(lvs, pool),
    ...poolLimitsOf(pool.tags),
    limitsTagged: hasPoolLimitTags(pool.tags),
  };
}

/** Why a qcow2 disk's chain is missing from the reading, from qemu-img's own error when it tried. */
function chainProblem(vg: string, disk: LvRow, lvs: readonly LvRow[], byName: Map<string, LvRow>, error: Error | undefined,
  qemuImg: boolean): ChainProblem | undefined {
  if (!qemuImg) return { kind: "no-qemu-img", message: "not read: qemu-img is not installed on the host" };
  if (!disk.attr.active) return { kind: "inactive", message: "not read: the disk is not active (inspect activates nothing)" };
  if (!error) return { kind: "unreadable", message: "not read" };
  const detail = error instanceof BrokenChainError ? error.message.replace(/^.*?: /, "") : error.message;
  const missing = error instanceof BrokenChainError ? error.missing : undefined;
  const lv = missing === undefined ? undefined : byName.get(missing);
  if (missing !== undefined && lv && !lv.attr.active) {
    return { kind: "inactive-link", lv: missing, message: `not read: ${missing} is not active (lvchange -ay ${vg}/${missing} to read it)` };
  }
  if (missing !== undefined && !lv && missing.indexOf("/") < 0) {
    if (heirOf(lvs, vg, missing)) {
      return { kind: "unfinished-operation", lv: missing, message: `not read: ${missing} is being replaced by an unfinished operation`, detail };
    }
    return { kind: "missing-link", lv: missing, message: `broken: it reads through ${missing}, which does not exist`, detail };
  }
  return { kind: "unreadable", ...(missing !== undefined ? { lv: missing } : {}), message: "cannot be read by qemu-img", detail };
}

/**
 * The fully-allocated size of the disk's image, from the measure the host ran, if it ran with exactly the arguments
 * measureArgv gives for the image as parsed here (the host picked them from qemu-img's output; see INSPECT_IMAGES).
 */
function measured(measure: { args: string; output: string } | undefined, top: Chain["links"][number]["image"]): number | undefined {
  if (!measure || top.clusterSizeBytes === undefined) return undefined;
  const expected = measureArgv(top.virtualSizeBytes, {
    clusterSizeBytes: top.clusterSizeBytes, extendedL2: top.extendedL2 ?? false, preallocation: "metadata",
  }).slice(1).join(" ");
  if (measure.args !== expected) return undefined;
  try {
    return parseMeasure(measure.output).fullyAllocatedBytes;
  } catch {
    return undefined;
  }
}

function pendingField(vg: string, lv: LvRow): { pending?: string } {
  const pending = pendingOf(lv);
  return pending ? { pending: describePending(vg, pending) } : {};
}

function pvReport(pv: PvRow): PvReport {
  return { device: pv.device, sizeBytes: pv.sizeBytes, freeBytes: pv.freeBytes };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
