// The workload the benchmarks run: a VG on one device, N qcow2 disks, one chain snapshot of each.
import { ConnectionArgs, Snapshot, VmDisk, VolumeGroup } from "../../../sdk";

export const PHASES = ["create", "snapshot", "refresh", "unchanged", "destroy"] as const;
export type PhaseName = typeof PHASES[number];

export interface Workload {
  vg: string;
  device: string;
  n: number;
  diskMiB: number;
  /** The LV a disk (or a chain snapshot's overlay) of diskMiB takes: qemu-img measure's size, in whole extents. */
  lvMiB: number;
  disks(): { disk: string; snapshot: string }[];
}

export function workload(vg: string, device: string, n: number, first = 0): Workload {
  return {
    vg, device, n, diskMiB: 16, lvMiB: 20,
    disks: () => Array.from({ length: n }, (_, i) => {
      const id = `vm-${1000 + first + i}-disk-0`;
      return { disk: `${id}.qcow2`, snapshot: `snap_${id}_golden.qcow2` };
    }),
  };
}

/**
 * The workload as a pulumi-lvm program. `snapshots` adds the chain snapshots; `deletedWith` gives each snapshot
 * `deletedWith: disk` and each disk `deleteSnapshots: true`, so a destroy removes each chain with its disk instead of
 * merging it first.
 */
export function program(w: Workload, connection: ConnectionArgs, o: { snapshots: boolean; deletedWith?: boolean }): () => void {
  return () => {
    const vg = new VolumeGroup("vg", { connection, name: w.vg, devices: [w.device] });
    for (const [i, d] of w.disks().entries()) {
      const disk = new VmDisk(`disk${i}`, { connection, volumeGroup: vg.name, name: d.disk, size: `${w.diskMiB}MiB`, format: "qcow2",
        ...(o.deletedWith ? { deleteSnapshots: true } : {}) });
      if (o.snapshots) new Snapshot(`golden${i}`, { connection, volumeGroup: vg.name, disk: disk.name, name: "golden" }, o.deletedWith ? { deletedWith: disk } : {});
    }
  };
}
