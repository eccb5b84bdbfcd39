import * as pulumi from "@pulumi/pulumi";
import { Snapshot, snapshotChain, VmDisk, VolumeGroup } from "pulumi-lvm";

const config = new pulumi.Config();

const connection = {
  host: config.require("host"),
  port: config.getNumber("port") ?? 22,
  user: config.get("user") ?? "root",
  privateKey: config.requireSecret("privateKey"),
  hostKey: config.require("hostKey"),
};

const vg = new VolumeGroup("vmdata", {
  connection,
  name: config.get("vgName") ?? "vmdata",
  devices: config.requireObject<string[]>("devices"),
});

// A qcow2 disk named as Proxmox VE names the first disk of VM 401.
const disk = new VmDisk("vm-401-disk-0", {
  connection,
  volumeGroup: vg.name,
  name: "vm-401-disk-0.qcow2",
  size: config.get("diskSize") ?? "1GiB",
  format: "qcow2",
});

// Two volume-chain snapshots (the method "auto" picks for a qcow2 disk), taken in this order and deleted in the
// reverse one: snapshotChain makes each depend on the one before. The VM must be stopped while they are taken.
const [beforeUpgrade, afterUpgrade] = snapshotChain("vm-401-disk-0", {
  connection,
  volumeGroup: vg.name,
  disk: disk.name,
}, ["before-upgrade", "after-upgrade"]);

const describe = (s: Snapshot) => ({ lvName: s.lvName, parent: s.parent, backingFile: s.backingFile });
export const diskPath = disk.path;
export const beforeUpgradeSnapshot = describe(beforeUpgrade);
export const afterUpgradeSnapshot = describe(afterUpgrade);
