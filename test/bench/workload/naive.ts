// The same work done without pulumi-lvm, two ways: the baseline (a naive stack: one SSH connection per command,
// commands in sequence within a resource, resources in parallel as the engine runs them) and the floor (one
// hand-written script per phase in one SSH session). Both run the LVM and qemu-img commands pulumi-lvm's
// operations come down to, without its checks, locks, journal or read-backs.
import { Client } from "ssh2";
import { Argv, Script } from "../../../provider/command";
import { Connection } from "../../../provider/ssh";
import { openClient } from "../../../provider/ssh/client";
import { execScript } from "../../../provider/ssh/exec";
import { Semaphore } from "../../../provider/ssh/semaphore";
import { PhaseName, Workload } from "./workload";

/** The image layout pulumi-lvm gives a disk and its overlays by default: Proxmox VE 9's (128 KiB subclustered clusters). */
const LAYOUT = "cluster_size=131072,extended_l2=on,preallocation=metadata";

/** The commands of one resource in one phase. */
type Steps = Argv[];
/** The resources of one phase, in the groups the engine would run one after another (each group in parallel). */
type PhasePlan = Steps[][];

/** What each phase runs: pulumi-command's remote.Command would run the same commands (it reads nothing back). */
export function naivePlan(w: Workload): Record<PhaseName, PhasePlan> {
  const { vg, device } = w;
  const dev = (lv: string) => `/dev/${vg}/${lv}`;
  const size = `${w.diskMiB}M`;
  const lvSize = `${w.lvMiB}m`;
  const disks = w.disks();
  return {
    create: [
      [[["pvcreate", "--yes", device], ["vgcreate", "--yes", vg, device]]],
      disks.map((d) => [["lvcreate", "--yes", "-Wy", "-L", lvSize, "-n", d.disk, vg], ["qemu-img", "create", "-q", "-f", "qcow2", "-o", LAYOUT, dev(d.disk), size]]),
    ],
    snapshot: [disks.map((d) => [
      ["lvrename", vg, d.disk, d.snapshot],
      ["lvcreate", "--yes", "-Wy", "-L", lvSize, "-n", d.disk, vg],
      ["qemu-img", "create", "-q", "-f", "qcow2", "-o", LAYOUT, "-b", d.snapshot, "-F", "qcow2", dev(d.disk)],
    ])],
    // A read per resource: its LV, and its image (the disk's whole chain for a snapshot).
    refresh: [[
      [["vgs", "--reportformat", "json", vg]],
      ...disks.map((d) => [["lvs", "--reportformat", "json", `${vg}/${d.disk}`], ["qemu-img", "info", "-U", "--output=json", dev(d.disk)]]),
      ...disks.map((d) => [["lvs", "--reportformat", "json", `${vg}/${d.snapshot}`],
        ["qemu-img", "info", "-U", "--backing-chain", "--output=json", dev(d.disk)]]),
    ]],
    unchanged: [],
    // A chain snapshot is deleted the way Proxmox deletes the newest one: commit the overlay into it, drop the overlay,
    // give the snapshot the disk's name back. Then the disks, then the VG.
    destroy: [
      disks.map((d) => [["qemu-img", "commit", "-q", dev(d.disk)], ["lvremove", "--yes", `${vg}/${d.disk}`], ["lvrename", vg, d.snapshot, d.disk]]),
      disks.map((d) => [["lvremove", "--yes", `${vg}/${d.disk}`]]),
      [[["vgremove", "--yes", vg], ["pvremove", "--yes", device]]],
    ],
  };
}

/**
 * The floor's phases: every command of the phase, in order, in one script. A refresh needs one `lvs` for the VG and
 * one `qemu-img info --backing-chain` per disk.
 */
export function floorPlan(w: Workload): Record<PhaseName, Argv[]> {
  const flat = (p: PhasePlan) => p.flat(2);
  const plan = naivePlan(w);
  return {
    create: flat(plan.create), snapshot: flat(plan.snapshot), unchanged: [], destroy: flat(plan.destroy),
    refresh: [["lvs", "--reportformat", "json", w.vg],
      ...w.disks().map((d) => ["qemu-img", "info", "-U", "--backing-chain", "--output=json", `/dev/${w.vg}/${d.disk}`])],
  };
}

/**
 * The floor plus what pulumi-lvm's locked scripts add to the same LVM and qemu-img commands for safety, in one script
 * per phase: each disk's create journaled (`creating` tag at lvcreate, removed at the end) and read back (`lvs`, and
 * `qemu-img info`); each chain snapshot journaled (`snapshotting=` added before the rename, removed after the overlay);
 * each snapshot's merge journaled (`absorbs=`), and each disk's delete preceded by the `lvs` that finds its snapshots.
 * The reads before the locks and every round trip are left out: the gap between this and the floor is what the
 * journal and read-backs cost, the gap between ours and this what the architecture costs.
 */
export function journaledFloorPlan(w: Workload): Record<PhaseName, Argv[]> {
  const { vg, device } = w;
  const dev = (lv: string) => `/dev/${vg}/${lv}`;
  const at = (lv: string) => `${vg}/${lv}`;
  const size = `${w.diskMiB}M`;
  const lvSize = `${w.lvMiB}m`;
  const creating = "pulumi-lvm/creating";
  const disks = w.disks();
  return {
    create: [["pvcreate", "--yes", device], ["vgcreate", "--yes", vg, device], ...disks.flatMap((d) => [
      ["lvcreate", "--yes", "-Wy", "-Zy", "-L", lvSize, "-n", d.disk, "--addtag", creating, vg],
      ["qemu-img", "create", "-q", "-f", "qcow2", "-o", LAYOUT, dev(d.disk), size],
      ["lvchange", "--deltag", creating, at(d.disk)],
      ["lvs", "--reportformat", "json", at(d.disk)],
      ["qemu-img", "info", "-U", "--output=json", dev(d.disk)],
    ])],
    snapshot: disks.flatMap((d) => {
      const journal = `pulumi-lvm/snapshotting=${d.disk}:${d.snapshot}`;
      return [
        ["lvchange", "--addtag", journal, at(d.disk)],
        ["lvrename", vg, d.disk, d.snapshot],
        ["lvcreate", "--yes", "-Wy", "-L", lvSize, "-n", d.disk, vg],
        ["qemu-img", "create", "-q", "-f", "qcow2", "-o", LAYOUT, "-b", d.snapshot, "-F", "qcow2", dev(d.disk)],
        ["lvchange", "--deltag", journal, at(d.snapshot)],
      ];
    }),
    refresh: floorPlan(w).refresh,
    unchanged: [],
    destroy: [
      ...disks.flatMap((d) => {
        const journal = `pulumi-lvm/absorbs=${d.disk}`;
        return [
          ["lvchange", "--addtag", journal, at(d.snapshot)],
          ["qemu-img", "commit", "-q", dev(d.disk)],
          ["lvremove", "--yes", at(d.disk)],
          ["lvrename", vg, d.snapshot, d.disk],
          ["lvchange", "--deltag", journal, at(d.disk)],
        ];
      }),
      ...disks.flatMap((d) => [["lvs", "--reportformat", "json", vg], ["lvremove", "--yes", at(d.disk)]]),
      ["vgremove", "--yes", vg], ["pvremove", "--yes", device],
    ],
  };
}

async function runOn(client: Client, what: string, commands: Argv[]): Promise<void> {
  const script = new Script(what);
  commands.forEach((c, i) => script.capture(`out${i}`, c));
  const raw = await execScript(client, "bench", "sh -s", script, 600, () => undefined);
  if (raw.exitCode !== 0) throw new Error(`${what}: exit ${raw.exitCode}: ${raw.stderr}`);
}

/** One command on a connection of its own. */
async function freshExec(connection: Connection, command: Argv): Promise<void> {
  const { client } = await openClient(connection);
  try { await runOn(client, command[0], [command]); } finally { client.end(); }
}

/**
 * Runs one phase the naive way. At most `parallel` resources at once: sshd drops unauthenticated connections beyond
 * its MaxStartups (10), so a naive stack cannot open more handshakes at once either.
 */
export async function baselinePhase(connection: Connection, plan: PhasePlan, parallel = 8): Promise<void> {
  const slots = new Semaphore(parallel);
  for (const group of plan) {
    await Promise.all(group.map((steps) => slots.with(async () => { for (const c of steps) await freshExec(connection, c); })));
  }
}

/** One SSH session for the whole floor run; each phase one script on it. */
export async function floorSession(connection: Connection) {
  const { client } = await openClient(connection);
  return {
    phase: (name: string, commands: Argv[]) => (commands.length ? runOn(client, name, commands) : Promise.resolve()),
    close: () => client.end(),
  };
}
