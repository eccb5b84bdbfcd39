import * as pulumi from "@pulumi/pulumi";
import { Snapshot, ThinPool, VmDisk, VolumeGroup } from "pulumi-lvm";

const config = new pulumi.Config();

const connection = {
  host: config.require("host"),
  port: config.getNumber("port") ?? 22,
  user: config.get("user") ?? "root",
  privateKey: config.requireSecret("privateKey"),
  hostKey: config.require("hostKey"),
};

const vg = new VolumeGroup("vmthin", {
  connection,
  name: config.get("vgName") ?? "vmthin",
  devices: config.requireObject<string[]>("devices"),
});

// Proxmox VE's local-lvm: a thin pool named "data" (`lvcreate --type thin-pool`). Disks take room in it only as they
// are written, so it may promise more than it has: here its thin LVs (snapshots included) may add up to 4 times its
// data space. Past 90% full, new thin disks and snapshots are refused until it grows (raise `size` and run pulumi up:
// it grows in place).
const pool = new ThinPool("data", {
  connection,
  volumeGroup: vg.name,
  name: "data",
  size: config.get("poolSize") ?? "2GiB",
  metadataSize: "16MiB",
  maxOverCommit: 4,
  refuseAbovePercent: 90,
});

// Thin disks named as Proxmox VE names them: a 2 GiB raw disk (`lvcreate -V 2G --thinpool vmthin/data`) and a
// 1 GiB qcow2 disk on a thin LV, which costs only its metadata until the VM writes.
const raw = new VmDisk("vm-500-disk-0", {
  connection,
  volumeGroup: vg.name,
  thinPool: pool.name,
  name: "vm-500-disk-0",
  size: "2GiB",
});
const qcow2 = new VmDisk("vm-501-disk-0", {
  connection,
  volumeGroup: vg.name,
  thinPool: pool.name,
  name: "vm-501-disk-0.qcow2",
  size: "1GiB",
  format: "qcow2",
});

// A thin snapshot (what "auto" picks for a disk on a thin pool): no size, it shares the disk's blocks; safe while the
// VM runs. LVM leaves it inactive with the activation-skip flag, as Proxmox does; `lvchange -ay -K` reads it.
const beforeUpgrade = new Snapshot("vm-500-disk-0-before-upgrade", {
  connection,
  volumeGroup: vg.name,
  disk: raw.name,
  name: "before-upgrade",
});

// The pool's numbers are as last read: right after it is made (before the disks), then after each pulumi refresh.
export const thinPool = {
  sizeBytes: pool.sizeBytes,
  dataPercent: pool.dataPercent,
  metadataPercent: pool.metadataPercent,
  virtualSizeBytes: pool.virtualSizeBytes,
  overCommit: pool.overCommit,
  thinLvCount: pool.thinLvCount,
};
export const disks = { raw: raw.path, qcow2: qcow2.path };
export const snapshot = { lvName: beforeUpgrade.lvName, method: beforeUpgrade.method, thinPool: beforeUpgrade.thinPool };
