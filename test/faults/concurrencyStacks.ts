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
