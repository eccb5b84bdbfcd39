import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "./connection";
import { QuiesceArgs } from "./quiesce";
import { registration } from "./register";

export interface SnapshotArgs {
  connection: pulumi.Input<ConnectionArgs>;
  volumeGroup: pulumi.Input<string>;
  /** The disk's LV name: a VmDisk's `name`. */
  disk: pulumi.Input<string>;
  /** The snapshot's id, e.g. "before-upgrade" or a CI run number. Unique per disk. */
  name: pulumi.Input<string>;
  /**
   * "auto" (default): "thin" for a disk on a thin pool, else "chain" for a qcow2 disk and "thick" for a raw one.
   * "chain": Proxmox VE 9's volume chain (qcow2 only; the disk must not be in use). "thick": `lvcreate --snapshot`,
   * safe while a VM runs. "thin": a thin snapshot of a thin disk (`lvcreate -s`, no size, read-only, activation-skip
   * flag set), safe while a VM runs; refused while the pool is above its `refuseAbovePercent`.
   */
  method?: pulumi.Input<"auto" | "chain" | "thick" | "thin">;
  /**
   * Thick only: the copy-on-write area, bytes, a size string or a percentage of the disk ("10%", the default).
   * A thick snapshot becomes invalid once more than this is written to the disk: size it for the writes it must
   * outlive (a whole CI test run, for a golden state), or use a chain snapshot.
   */
  size?: pulumi.Input<string | number>;
  /** Thick only: the snapshot LV's name; default `snap_<disk>_<name>`. */
  lvName?: pulumi.Input<string>;
  quiesce?: pulumi.Input<QuiesceArgs>;
}

// `method` too: an input, but one the provider resolves ("auto" -> the method used), read back as an output.
const OUTPUTS = ["method", "lvName", "createdAt", "sizeBytes", "usedPercent", "valid", "parent", "backingFile", "pending", "thinPool"] as const;

/**
 * A snapshot of a VM disk. Several snapshots of one disk must be ordered: give each the previous one in
 * `dependsOn` (or build them with `snapshotChain`), so Pulumi takes them oldest first and deletes them newest first.
 */
export class Snapshot extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ConnectionArgs>;
  declare readonly volumeGroup: pulumi.Output<string>;
  declare readonly disk: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  /** The method used: "chain", "thick" or "thin". */
  declare readonly method: pulumi.Output<"chain" | "thick" | "thin">;
  declare readonly lvName: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  declare readonly sizeBytes: pulumi.Output<number>;
  /** Thick: how full the copy-on-write area is. */
  declare readonly usedPercent: pulumi.Output<number | undefined>;
  /** Thick: false once LVM invalidated the snapshot (its area overflowed); it is then reported, never re-taken. */
  declare readonly valid: pulumi.Output<boolean | undefined>;
  /** Chain: the older snapshot's LV this one is backed by. */
  declare readonly parent: pulumi.Output<string | undefined>;
  /** Chain: the backing file of the disk's current overlay. */
  declare readonly backingFile: pulumi.Output<string | undefined>;
  /** Thin: the thin pool holding the snapshot. */
  declare readonly thinPool: pulumi.Output<string | undefined>;
  /** An operation an earlier run did not finish; the next `pulumi up` completes it. */
  declare readonly pending: pulumi.Output<string | undefined>;

  constructor(name: string, args: SnapshotArgs, opts?: pulumi.CustomResourceOptions) {
    const r = registration("Snapshot", args, OUTPUTS, opts);
    super(r.provider, name, r.props, r.opts, "lvm", "Snapshot");
  }
}

/**
 * Snapshots of one disk taken in order, each depending on the one before, so they are created oldest first and
 * deleted newest first: `snapshotChain("web", { connection, volumeGroup, disk }, ["base", "configured"])`.
 */
export function snapshotChain(resourcePrefix: string, args: Omit<SnapshotArgs, "name">, names: string[],
  opts?: pulumi.CustomResourceOptions): Snapshot[] {
  const snapshots: Snapshot[] = [];
  for (const name of names) {
    const previous = snapshots[snapshots.length - 1];
    snapshots.push(new Snapshot(`${resourcePrefix}-${name}`, { ...args, name }, {
      ...opts, dependsOn: previous ? [previous] : opts?.dependsOn,
    }));
  }
  return snapshots;
}
