import * as pulumi from "@pulumi/pulumi";
import { VmDisk, VolumeGroup } from "pulumi-lvm";

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

export const volumeGroup = vg.name;
export const disks = [raw.path, qcow2.path];
export const qcow2LvSizeBytes = qcow2.lvSizeBytes;
export const sizeBytes = vg.sizeBytes;
export const freeBytes = vg.freeBytes;
export const physicalVolumes = vg.pvs;
