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
export function program(w: Workload, connection: ConnectionArgs, o: ProgramOptions): () => void {
  return programOnHosts([{ w, connection }], o);
}

export interface ProgramOptions { snapshots: boolean; deletedWith?: boolean }

/** The workloads of several hosts as one program (one stack); resource names say the host where there are several. */
export function programOnHosts(parts: { w: Workload; connection: ConnectionArgs }[], o: ProgramOptions): () => void {
  return () => {
    for (const [k, { w, connection }] of parts.entries()) {
      const at = parts.length > 1 ? `h${k}-` : "";
      const vg = new VolumeGroup(`${at}vg`, { connection, name: w.vg, devices: [w.device] });
      for (const [i, d] of w.disks().entries()) {
        const disk = new VmDisk(`${at}disk${i}`, { connection, volumeGroup: vg.name, name: d.disk, size: `${w.diskMiB}MiB`, format: "qcow2",
          ...(o.deletedWith ? { deleteSnapshots: true } : {}) });
        if (o.snapshots) {
          new Snapshot(`${at}golden${i}`, { connection, volumeGroup: vg.name, disk: disk.name, name: "golden" }, o.deletedWith ? { deletedWith: disk } : {});
        }
      }
    }
  };
}
