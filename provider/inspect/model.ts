/**
 * What `pulumi-lvm inspect` finds on a host, and exactly what `--json` prints (the README documents it). Sizes are
 * whole bytes, percentages 0–100. New fields may appear; `schemaVersion` changes when one changes meaning or goes.
 */
export interface InspectReport {
  schemaVersion: 1;
  host: HostReport;
  volumeGroups: VolumeGroupReport[];
  /** PVs that belong to no VG (empty when narrowed with --vg). */
  unusedPvs: PvReport[];
  /** Everything that needs a person's attention, each with what to do. None: exit code 0; some: 1. */
  warnings: Warning[];
}

export interface HostReport {
  /** `user@host:port`, plus ` via <jump host>`. */
  target: string;
  /** The host's own name (`uname -n`). */
  hostname: string;
  lvmVersion?: string;
  qemuImgVersion?: string;
}

export interface VolumeGroupReport {
  name: string;
  uuid: string;
  sizeBytes: number;
  freeBytes: number;
  /** Allocated to LVs, of sizeBytes. */
  usedPercent: number;
  extentSizeBytes: number;
  tags: string[];
  pvs: PvReport[];
  /** Thin pools: their fill, what their thin LVs add up to, and their guards. */
  thinPools: ThinPoolReport[];
  /** VM disks (see `isVmDisk`), each with its snapshots. */
  disks: DiskReport[];
  /**
   * Every other LV (not a VM disk, a snapshot of one, or a thin pool), so nothing on the host goes unseen. LVM's
   * internal LVs (a pool's `[pool_tdata]`, `[pool_tmeta]`, `[lvol0_pmspare]`) are parts of those and not listed.
   */
  otherLvs: LvReport[];
}

export interface PvReport {
  device: string;
  sizeBytes: number;
  freeBytes: number;
}

/** What is shown of every LV. */
export interface LvReport {
  lvName: string;
  /** /dev/<vg>/<lv> */
  path: string;
  sizeBytes: number;
  /** lv_attr as LVM prints it, e.g. "-wi-ao----". */
  attr: string;
  active: boolean;
  /** Held open by a process, e.g. a running VM. */
  open: boolean;
  /** Every tag, pulumi-lvm's own (`pulumi-lvm/...`) included. */
  tags: string[];
  /** For a thin LV: its thin pool. */
  thinPool?: string;
  /** For an active thin LV: how much of its size is mapped in its pool (blocks shared with its snapshots count). */
  allocatedPercent?: number;
  /** Thick snapshots of this LV (`lvcreate --snapshot`). */
  thickSnapshots: ThickSnapshotReport[];
  /** Thin snapshots of this thin LV (`lvcreate --snapshot` without a size), by name. */
  thinSnapshots: ThinSnapshotReport[];
  /** An operation an earlier run left unfinished, journaled on this LV (see provider/storage/journal.ts). */
  pending?: string;
}

export interface DiskReport extends LvReport {
  /** As recorded by VmDisk (tag pulumi-lvm/format=...), else by the `.qcow2` name: never probed. */
  format: "raw" | "qcow2";
  /** What a VM sees: the LV for raw; the qcow2 image's size, when it could be read. */
  virtualSizeBytes?: number;
  /** qcow2: the disk's current image (the top of its chain), when it could be read. */
  image?: ImageReport;
  /** qcow2: `qemu-img measure`'s fully-allocated size of the disk's image, in its own layout: the least the LV needs. */
  fullyAllocatedBytes?: number;
  /** qcow2: the disk's volume-chain snapshots, newest first (the next image the disk reads through comes first). */
  chain: ChainSnapshotReport[];
  /** qcow2: why its chain was not read (inspect activates nothing), or what is wrong with it. */
  chainProblem?: ChainProblem;
}

export interface ChainProblem {
  /**
   * - `inactive`: the disk's LV is not active, so it has no device to read;
   * - `inactive-link`: an LV of the chain is not active (`lv` names it);
   * - `missing-link`: the chain needs an LV that does not exist (`lv`): a broken chain;
   * - `unfinished-operation`: an LV is missing because an earlier run is in the middle of changing the chain;
   * - `unreadable`: qemu-img cannot read the image (e.g. not qcow2, or a backing file outside the VG), or it was not
   *   read (an LV made while inspect ran);
   * - `no-qemu-img`: the host has no qemu-img.
   */
  kind: "inactive" | "inactive-link" | "missing-link" | "unfinished-operation" | "unreadable" | "no-qemu-img";
  lv?: string;
  message: string;
  /** qemu-img's own error, when it gave one. */
  detail?: string;
}

export interface ImageReport {
  clusterSizeBytes?: number;
  extendedL2?: boolean;
  /** qemu marked the image corrupt and will not write to it. */
  corrupt?: boolean;
  /** The backing file as recorded in the image (relative for a Proxmox chain), if any. */
  backingFile?: string;
}

/** One snapshot of a Proxmox VE 9 volume chain: an LV holding a frozen qcow2 image. */
export interface ChainSnapshotReport {
  /** The snapshot's id, from its LV name `snap_<disk>_<id>.qcow2`. */
  name: string;
  lvName: string;
  sizeBytes: number;
  virtualSizeBytes?: number;
  active: boolean;
  open: boolean;
  /** false when only its name puts it here: the chain could not be read to confirm it. */
  inChain: boolean;
  pending?: string;
}

export interface ThickSnapshotReport {
  /** Snapshot's `name`: from its tag pulumi-lvm/snapshot=..., else its LV name without `snap_<disk>_`. */
  name: string;
  lvName: string;
  /** The copy-on-write area. */
  sizeBytes: number;
  /** How full the copy-on-write area is; undefined while inactive. */
  usedPercent?: number;
  /** false once it overflowed (LVM invalidated it: its content is lost). */
  valid: boolean;
  /** Being merged into its origin (`lvconvert --merge`), or waiting for the origin's next activation to be. */
  merging: boolean;
  active: boolean;
  open: boolean;
  /** A DiskExport's temporary snapshot: of an export still running, or a leftover of one that is not. */
  temporary?: "running export" | "leftover";
  pending?: string;
}

/** A thin pool (`lvcreate --type thin-pool`), as LVM reports it and as pulumi-lvm's guards judge it (storage/thin.ts). */
export interface ThinPoolReport {
  lvName: string;
  /** Its data space. */
  sizeBytes: number;
  metadataSizeBytes: number;
  /** How full its data space is; undefined while it is not active. */
  dataPercent?: number;
  /** How full its metadata space is; undefined while it is not active. */
  metadataPercent?: number;
  attr: string;
  active: boolean;
  tags: string[];
  /** The sum of the sizes of its thin LVs, snapshots included (what they would take fully written). */
  virtualSizeBytes: number;
  /** virtualSizeBytes over sizeBytes: above 1, the pool cannot hold all of its thin LVs fully written. */
  overCommit: number;
  /** Its thin LVs, snapshots included. */
  thinLvCount: number;
  /**
   * Above this data or metadata use, pulumi-lvm refuses new thin disks and snapshots in the pool (ThinPool's
   * refuseAbovePercent; 95 unless its tags say otherwise).
   */
  refuseAbovePercent: number;
  /** Above this over-commit, pulumi-lvm refuses new (or grown) thin disks in it (ThinPool's maxOverCommit); none: no limit. */
  maxOverCommit?: number;
  /** Its tags set those guards (a ThinPool made or adopted it); false: the defaults apply. */
  limitsTagged: boolean;
}

export interface ThinSnapshotReport {
  /** Snapshot's `name`: from its tag pulumi-lvm/snapshot=..., else its LV name without `snap_<disk>_`. */
  name: string;
  lvName: string;
  /** Its virtual size: its origin's when it was taken. */
  sizeBytes: number;
  /** How much of its size is mapped in the pool, shared blocks included; undefined while inactive. */
  allocatedPercent?: number;
  active: boolean;
  open: boolean;
  /** LVM's activation-skip flag (`k`): not activated at boot nor by a plain `lvchange -ay` (it takes `-K`). */
  activationSkip: boolean;
  /** A DiskExport's temporary snapshot: of an export still running, or a leftover of one that is not. */
  temporary?: "running export" | "leftover";
  pending?: string;
}

export type WarningKind =
  | "snapshot-invalid"
  | "snapshot-filling"
  | "merge-pending"
  | "unfinished-operation"
  | "broken-chain"
  | "image-unreadable"
  | "image-corrupt"
  | "lv-below-measure"
  | "vg-free-below-snapshot-need"
  | "leftover-temporary-snapshot"
  | "chains-not-read"
  | "thin-pool-filling"
  | "thin-pool-refusing"
  | "thin-pool-over-committed";

export interface Warning {
  kind: WarningKind;
  /** What it is about: `vg`, or `vg/lv`. */
  subject: string;
  message: string;
  /** What to do about it. */
  action: string;
}
