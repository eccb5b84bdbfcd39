import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "./connection";
import { registration } from "./register";

/** How a qcow2 image is laid out. Fixed when the disk is created: changing any of it replaces the disk. */
export interface Qcow2Args {
  /**
   * Cluster size, a power of two from 512B to 2MiB, e.g. "128KiB". Default: 128KiB when the host's qemu-img
   * supports `extendedL2` (the Proxmox VE 9 layout), else qemu's 64KiB.
   */
  clusterSize?: pulumi.Input<string | number>;
  /** Subclusters (qemu 5.2+), which make backing-chain snapshots cheap. Default: on where supported. */
  extendedL2?: pulumi.Input<boolean>;
  /**
   * "off", "metadata" (default), "falloc" or "full". The LV is always sized for a fully allocated image. qemu-img
   * applies falloc and full only to files, so on an LV both preallocate metadata, and full also zeroes the LV first.
   */
  preallocation?: pulumi.Input<"off" | "metadata" | "falloc" | "full">;
}

/** An image file on the host whose content fills the new disk. */
export interface DiskSourceArgs {
  /** Absolute path on the host, e.g. "/var/lib/images/debian-12.qcow2". Its virtual size must fit in `size`. */
  path: pulumi.Input<string>;
  /** "raw", "qcow2", "vmdk", "vdi", "vhdx", "vpc" or "qed". Default: probed by qemu-img on the host. */
  format?: pulumi.Input<"raw" | "qcow2" | "vmdk" | "vdi" | "vhdx" | "vpc" | "qed">;
}

export interface VmDiskArgs {
  connection: pulumi.Input<ConnectionArgs>;
  /** The volume group to create the disk's LV in, usually `vg.name` of a VolumeGroup. Changing it replaces the disk. */
  volumeGroup: pulumi.Input<string>;
  /**
   * The LV name. For qcow2 disks Proxmox's convention `vm-<vmid>-disk-<n>.qcow2` is recommended: it is what
   * Proxmox VE and its snapshot naming (`snap_vm-<vmid>-disk-<n>_<id>.qcow2`) expect. Changing it replaces the disk.
   */
  name: pulumi.Input<string>;
  /** What the VM sees, e.g. "32GiB" or bytes. It can grow in place (refused while the disk is open); shrinking is refused. */
  size: pulumi.Input<string | number>;
  /** "raw" (default): the LV is the disk. "qcow2": a qcow2 image on the LV. Changing it replaces the disk. */
  format?: pulumi.Input<"raw" | "qcow2">;
  /** qcow2 layout; only with `format: "qcow2"`. */
  qcow2?: pulumi.Input<Qcow2Args>;
  /** Fill the new disk from an image file on the host (qemu-img convert). Changing it replaces the disk. */
  source?: pulumi.Input<DiskSourceArgs>;
  /**
   * A thin pool of the volume group, usually `pool.name` of a ThinPool: the disk is a thin LV of it
   * (`lvcreate -V <size> --thinpool <vg>/<pool>`), which takes room in the pool only as it is written. Refused while the
   * pool is above its `refuseAbovePercent`, or when the disk would take it past its `maxOverCommit`. Changing it
   * replaces the disk.
   */
  thinPool?: pulumi.Input<string>;
  /**
   * Zero the disk before removing its LV (blkdiscard --zeroout), so the next LV there cannot read its data. Thick disks
   * only: a thin disk's blocks go back to its pool, which zeroes them before reuse (a ThinPool's `zero`, on by default).
   */
  wipeOnDelete?: pulumi.Input<boolean>;
  /**
   * On delete, remove the disk's snapshots (chain, thick, thin) with it, without merging any chain, instead of refusing
   * while they exist. For a stack that destroys a disk with its snapshots: give each Snapshot `{ deletedWith: disk }`,
   * so Pulumi skips the snapshots' own deletes (a chain snapshot's delete merges it into the disk) and the disk's
   * delete removes them. Recorded only: changing it touches nothing on the host. Not with `wipeOnDelete`.
   */
  deleteSnapshots?: pulumi.Input<boolean>;
  tags?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Take over an LV of this name that already exists, if its format and size match (and the qcow2 options given).
   * Its content is kept: `source` is not applied to an adopted disk.
   */
  adopt?: pulumi.Input<boolean>;
}

const OUTPUTS = ["path", "lvName", "uuid", "lvSizeBytes", "virtualSizeBytes", "active", "open", "clusterSizeBytes",
  "extendedL2", "allocatedPercent"] as const;

/** A VM disk, raw or qcow2, on a thick LVM logical volume, or a thin LV of a thin pool, of a host reached over SSH. */
export class VmDisk extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ConnectionArgs>;
  declare readonly volumeGroup: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  /** The requested size, in bytes. */
  declare readonly size: pulumi.Output<number>;
  declare readonly format: pulumi.Output<"raw" | "qcow2">;
  declare readonly tags: pulumi.Output<string[]>;
  /** /dev/<volumeGroup>/<name>: what a VM is given. */
  declare readonly path: pulumi.Output<string>;
  declare readonly lvName: pulumi.Output<string>;
  declare readonly uuid: pulumi.Output<string>;
  /** The LV's size: `size` (raw) or the fully allocated qcow2 image, rounded up to whole extents. */
  declare readonly lvSizeBytes: pulumi.Output<number>;
  /** The size a VM sees: the qcow2 virtual size, or the whole LV for raw. */
  declare readonly virtualSizeBytes: pulumi.Output<number>;
  declare readonly active: pulumi.Output<boolean>;
  /** Open by a process such as a running VM, as last read. */
  declare readonly open: pulumi.Output<boolean>;
  /** qcow2 only. */
  declare readonly clusterSizeBytes: pulumi.Output<number | undefined>;
  /** qcow2 only. */
  declare readonly extendedL2: pulumi.Output<boolean | undefined>;
  declare readonly thinPool: pulumi.Output<string | undefined>;
  /** Thin only: how much of the disk is allocated in its pool, in percent, as last read. */
  declare readonly allocatedPercent: pulumi.Output<number | undefined>;

  constructor(name: string, args: VmDiskArgs, opts?: pulumi.CustomResourceOptions) {
    const r = registration("VmDisk", args, OUTPUTS, opts);
    super(r.provider, name, r.props, r.opts, "lvm", "VmDisk");
  }
}
