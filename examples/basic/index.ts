import * as pulumi from "@pulumi/pulumi";
import { Snapshot, VmDisk, VolumeGroup } from "pulumi-lvm";

const config = new pulumi.Config();

// One connection for every resource on this host: pulumi-lvm opens a single SSH connection and shares it.
const connection = {
  host: config.require("host"),
  port: config.getNumber("port") ?? 22,
  user: config.get("user") ?? "root",
  privateKey: config.requireSecret("privateKey"),
  hostKey: config.require("hostKey"),
};

const vg = new VolumeGroup("data", {
  connection,
  name: config.get("vgName") ?? "demo",
  devices: config.requireObject<string[]>("devices"),
  tags: ["managed-by-pulumi-lvm"],
});

// A raw disk, and a qcow2 disk laid out as Proxmox VE 9 does (128 KiB clusters with subclusters, metadata
// preallocated), its LV sized by `qemu-img measure`. Using vg.name makes each disk depend on the VG.
const raw = new VmDisk("vm-401-disk-0", {
  connection,
  volumeGroup: vg.name,
  name: "vm-401-disk-0",
  size: "256MiB",
});
const qcow2 = new VmDisk("vm-401-disk-1", {
  connection,
  volumeGroup: vg.name,
  name: "vm-401-disk-1.qcow2",
  size: "512MiB",
  format: "qcow2",
  wipeOnDelete: true,
});

// `pulumi config set snapshot before-upgrade` adds a snapshot of the qcow2 disk, taken as Proxmox VE 9 does (its LV
// renamed to snap_vm-401-disk-1_before-upgrade.qcow2, a new overlay backed by it under the disk's name);
// `pulumi config rm snapshot` and the next `pulumi up` delete it again. The VM must not be running meanwhile.
const snapshotName = config.get("snapshot");
const snapshot = snapshotName
  ? new Snapshot("vm-401-disk-1-snapshot", { connection, volumeGroup: vg.name, disk: qcow2.name, name: snapshotName })
  : undefined;

export const volumeGroup = vg.name;
export const disks = [raw.path, qcow2.path];
export const qcow2LvSizeBytes = qcow2.lvSizeBytes;
export const sizeBytes = vg.sizeBytes;
export const freeBytes = vg.freeBytes;
export const physicalVolumes = vg.pvs;
export const snapshotLvNames = snapshot ? [snapshot.lvName] : [];
