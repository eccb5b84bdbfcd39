import * as pulumi from "@pulumi/pulumi";
import { Snapshot, VmDisk, VolumeGroup } from "pulumi-lvm";

const config = new pulumi.Config();

const connection = {
  host: config.require("host"),
  port: config.getNumber("port") ?? 22,
  user: config.get("user") ?? "root",
  privateKey: config.requireSecret("privateKey"),
  hostKey: config.require("hostKey"),
};

const vg = new VolumeGroup("vmstore", {
  connection,
  name: config.get("vgName") ?? "vmstore",
  devices: config.requireObject<string[]>("devices"),
});

// A raw disk: the LV is the guest's block device, as Xen and libvirt use it.
const disk = new VmDisk("linux01", {
  connection,
  volumeGroup: vg.name,
  name: "linux01",
  size: config.get("diskSize") ?? "1GiB",
});

// `lvcreate --snapshot -L 10% -n linux01-snap vmstore/linux01`, safe while linux01 runs. Copy it out, then remove
// it (see README.md): every write to linux01 meanwhile uses room in its copy-on-write area.
const snapshot = new Snapshot("linux01-snap", {
  connection,
  volumeGroup: vg.name,
  disk: disk.name,
  name: "backup",
  method: "thick",
  lvName: "linux01-snap",
  size: "10%",
  // Argument lists, run on the host right before and right after lvcreate. Replace them with what makes the
  // guest's filesystems consistent, e.g. for a libvirt guest with the QEMU guest agent:
  //   before: [["virsh", "domfsfreeze", "linux01"]],  after: [["virsh", "domfsthaw", "linux01"]]
  // or for a Xen guest (its memory saved to a file and the domain stopped, then restored from it):
  //   before: [["xl", "save", "linux01", "/var/lib/xen/save/linux01"]],
  //   after: [["xl", "restore", "/var/lib/xen/save/linux01"]]
  // `after` also runs when taking the snapshot failed, so a frozen guest is always thawed.
  quiesce: {
    before: [["sync"]],
    after: [["logger", "pulumi-lvm: snapshot taken"]],
  },
});

export const snapshotPath = pulumi.interpolate`/dev/${vg.name}/${snapshot.lvName}`;
export const sizeBytes = snapshot.sizeBytes;
export const usedPercent = snapshot.usedPercent;
export const valid = snapshot.valid;
