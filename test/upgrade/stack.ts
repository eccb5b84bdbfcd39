import { DiskExport, Rollback, Snapshot, ThinPool, VmDisk, VolumeGroup } from "../../sdk";
import { ConnectionArgs } from "../../sdk";

/**
 * The stack whose state the upgrade fixtures hold: one resource of every kind and variant (a VG, a thin pool, raw,
 * qcow2 and thin disks, a chain, a thick and a thin snapshot, a chain rollback and an export through a temporary
 * snapshot). `record.ts` ran it with the release the fixtures are named after; `test/faults/upgrade.test.ts` runs it
 * with today's code on that state. Its names and types must not change: they are the fixtures' URNs.
 *
 * `phase` says how far the program goes (the recorder brings it up in steps, writing data between them); `changed`
 * is the update the test applies: something changed in every kind.
 */
export const VG = "upgrade";
export const RAW = "vm-901-disk-0";
export const QCOW2 = "vm-902-disk-0.qcow2";
export const THIN = "vm-903-disk-0";
export const EXPORT_PATH = "/root/upgrade-export.raw";

export type Phase = "disks" | "snapshots" | "all";

export function upgradeStack(connection: ConnectionArgs, devices: string[], phase: Phase, changed = false): void {
  const tags = changed ? ["upgraded"] : ["recorded"];
  const vg = new VolumeGroup("vg", { connection, name: VG, devices, tags });
  const volumeGroup = vg.name;
  const pool = new ThinPool("pool", { connection, volumeGroup, name: "pool", size: "64MiB", tags, refuseAbovePercent: changed ? 90 : 95 });
  const raw = new VmDisk("raw", { connection, volumeGroup, name: RAW, size: "32MiB", tags });
  const qcow2 = new VmDisk("qcow2", { connection, volumeGroup, name: QCOW2, size: changed ? "40MiB" : "32MiB", format: "qcow2", tags });
  const thin = new VmDisk("thin", { connection, volumeGroup, name: THIN, size: "32MiB", thinPool: pool.name, tags });
  if (phase === "disks") return;

  const chain = new Snapshot("chain", { connection, volumeGroup, disk: QCOW2, name: "s1" }, { dependsOn: [qcow2] });
  const thick = new Snapshot("thick", { connection, volumeGroup, disk: RAW, name: "golden", method: "thick", size: changed ? "12MiB" : "8MiB" },
    { dependsOn: [raw] });
  new Snapshot("thinsnap", { connection, volumeGroup, disk: THIN, name: "t1" }, { dependsOn: [thin] });
  if (phase === "snapshots") return;

  const triggers = [changed ? "run-2" : "run-1"];
  new Rollback("rollback", { connection, volumeGroup, disk: QCOW2, snapshot: "s1", triggers }, { dependsOn: [chain] });
  new DiskExport("export", { connection, volumeGroup, disk: RAW, path: EXPORT_PATH, triggers }, { dependsOn: [raw, thick] });
}
