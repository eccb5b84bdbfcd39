import { ConnectionArgs, DiskExport, Snapshot, VmDisk } from "../../sdk";

/** The two stacks of concurrency.test.ts; the second runs in a process of its own (support/otherProcess.ts). */
export const CONCURRENT_VG = "concurrent";
export const CONCURRENT_EXPORT = "/root/concurrent-export.raw";
export const qcow2Disk = (i: number) => `vm-90${i}-disk-0.qcow2`;
export const rawDisk = (i: number) => `vm-91${i}-disk-0`;

/** Eight qcow2 disks, each with a chain snapshot. */
export function qcow2Stack(connection: ConnectionArgs): () => void {
  return () => {
    for (let i = 0; i < 8; i++) {
      const disk = new VmDisk(`q${i}`, { connection, volumeGroup: CONCURRENT_VG, name: qcow2Disk(i), size: "16MiB", format: "qcow2" });
      new Snapshot(`q${i}-golden`, { connection, volumeGroup: CONCURRENT_VG, disk: disk.name, name: "golden" });
    }
  };
}

/** Six raw disks, each with a thick snapshot, and an export of one of them. */
export function rawStack(connection: ConnectionArgs): () => void {
  return () => {
    for (let i = 0; i < 6; i++) {
      const disk = new VmDisk(`r${i}`, { connection, volumeGroup: CONCURRENT_VG, name: rawDisk(i), size: "16MiB" });
      new Snapshot(`r${i}-golden`, { connection, volumeGroup: CONCURRENT_VG, disk: disk.name, name: "golden", method: "thick", size: "4MiB" });
      if (i === 0) new DiskExport("r0-export", { connection, volumeGroup: CONCURRENT_VG, disk: disk.name, path: CONCURRENT_EXPORT });
    }
  };
}

export const SIXTEEN_VG = "sixteen";
export const SIXTEEN_EXPORT = "/root/sixteen-export.raw";
export const sixteenQcow2 = (i: number) => `vm-92${i}-disk-0.qcow2`;
export const sixteenRaw = (i: number) => `vm-93${i}-disk-0`;

/**
 * Six disks (4 qcow2, 2 raw); with `more`, 16 resources that can all be in flight at once: a chain snapshot of each of
 * those qcow2 disks, a thick snapshot of each raw one, an export of the first raw disk, and nine more disks (5 qcow2,
 * 4 raw).
 */
export function sixteenStack(connection: ConnectionArgs, more: boolean): () => void {
  return () => {
    const common = { connection, volumeGroup: SIXTEEN_VG };
    for (let i = 0; i < (more ? 9 : 4); i++) {
      const disk = new VmDisk(`q${i}`, { ...common, name: sixteenQcow2(i), size: "16MiB", format: "qcow2" });
      if (more && i < 4) new Snapshot(`q${i}-golden`, { ...common, disk: disk.name, name: "golden" });
    }
    for (let i = 0; i < (more ? 6 : 2); i++) {
      const disk = new VmDisk(`r${i}`, { ...common, name: sixteenRaw(i), size: "16MiB" });
      if (more && i < 2) new Snapshot(`r${i}-golden`, { ...common, disk: disk.name, name: "golden", method: "thick", size: "4MiB" });
      if (more && i === 0) new DiskExport("r0-export", { ...common, disk: disk.name, path: SIXTEEN_EXPORT });
    }
  };
}

/** The LVs of sixteenStack with `more`. */
export const sixteenLvs = () => [
  ...Array.from({ length: 9 }, (_, i) => [sixteenQcow2(i), ...(i < 4 ? [`snap_${sixteenQcow2(i).replace(/\.qcow2$/, "")}_golden.qcow2`] : [])]).flat(),
  ...Array.from({ length: 6 }, (_, i) => [sixteenRaw(i), ...(i < 2 ? [`snap_${sixteenRaw(i)}_golden`] : [])]).flat(),
];
