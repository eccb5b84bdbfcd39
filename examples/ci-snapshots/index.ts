import * as pulumi from "@pulumi/pulumi";
import { DiskExport, Rollback, Snapshot, VmDisk, VolumeGroup } from "pulumi-lvm";

const config = new pulumi.Config();

const connection = {
  host: config.require("host"),
  port: config.getNumber("port") ?? 22,
  user: config.get("user") ?? "root",
  privateKey: config.requireSecret("privateKey"),
  hostKey: config.require("hostKey"),
};
// The pipeline's run id (e.g. $CI_PIPELINE_ID): every new value restores the golden state.
const runId = config.require("runId");

const vg = new VolumeGroup("ci", {
  connection,
  name: config.get("vgName") ?? "ci",
  devices: config.requireObject<string[]>("devices"),
});

// The test VM's disk. Put the golden state on it before the snapshot is taken (e.g. with `source`, an image file
// on the host that VmDisk copies in at create).
const disk = new VmDisk("test-vm-disk", {
  connection,
  volumeGroup: vg.name,
  name: "vm-900-disk-0.qcow2",
  size: config.get("diskSize") ?? "256MiB",
  format: "qcow2",
});

// The golden state: a Proxmox-style chain snapshot, taken once; the disk reads through it from then on.
const golden = new Snapshot("golden", {
  connection,
  volumeGroup: vg.name,
  disk: disk.name,
  name: "golden",
});

// What the previous run left on the disk, kept as an image file for debugging: with a new run id it is exported
// (through a temporary thick snapshot) before the rollback below throws it away. The previous file is replaced.
const lastRun = new DiskExport("last-run", {
  connection,
  volumeGroup: vg.name,
  disk: disk.name,
  path: `${config.get("exportDir") ?? "/var/tmp"}/vm-900-last-run.qcow2`,
  format: "qcow2",
  compress: true,
  triggers: [runId],
}, { dependsOn: [golden] });

// Back to the golden state for this run: a fresh, empty overlay on the golden snapshot. A new run id rolls back again.
const restore = new Rollback("restore-golden", {
  connection,
  volumeGroup: vg.name,
  disk: disk.name,
  snapshot: golden.name,
  triggers: [runId],
}, { dependsOn: [lastRun] });

export const diskPath = pulumi.interpolate`/dev/${vg.name}/${disk.name}`;
export const goldenSnapshot = golden.lvName;
export const rolledBackAt = restore.rolledBackAt;
export const lastRunExport = { path: lastRun.path, sha256: lastRun.sha256, sourceState: lastRun.sourceState };
