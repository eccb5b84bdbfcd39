import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "./connection";
import { QuiesceArgs } from "./quiesce";
import { registration } from "./register";

export interface RollbackArgs {
  connection: pulumi.Input<ConnectionArgs>;
  volumeGroup: pulumi.Input<string>;
  /** The disk's LV name: a VmDisk's `name`. */
  disk: pulumi.Input<string>;
  /**
   * The snapshot to return to: a Snapshot's `name` (e.g. "golden"). For a chain snapshot it must be the disk's
   * newest; a thick snapshot is merged into the disk and taken again, so it stays usable.
   */
  snapshot: pulumi.Input<string>;
  /** Any values; a change rolls back again (e.g. a CI run id). */
  triggers?: pulumi.Input<pulumi.Input<unknown>[]>;
  /** Commands run on the host right before and after, e.g. stopping and starting the VM that uses the disk. */
  quiesce?: pulumi.Input<QuiesceArgs>;
}

const OUTPUTS = ["method", "snapshotLvName", "rolledBackAt"] as const;

/**
 * Returns a disk's content to one of its snapshots'. The disk must not be in use (stop its VM first, or in
 * `quiesce.before`). A change of `triggers` rolls back again; deleting the resource changes nothing on the host.
 */
export class Rollback extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ConnectionArgs>;
  declare readonly volumeGroup: pulumi.Output<string>;
  declare readonly disk: pulumi.Output<string>;
  declare readonly snapshot: pulumi.Output<string>;
  declare readonly triggers: pulumi.Output<unknown[] | undefined>;
  /** How the snapshot was restored: "chain" (a fresh overlay on it) or "thick" (merged, then taken again). */
  declare readonly method: pulumi.Output<"chain" | "thick" | "thin">;
  /** The snapshot's LV. */
  declare readonly snapshotLvName: pulumi.Output<string>;
  /** When the disk was rolled back, UTC (ISO 8601). */
  declare readonly rolledBackAt: pulumi.Output<string>;

  constructor(name: string, args: RollbackArgs, opts?: pulumi.CustomResourceOptions) {
    const r = registration("Rollback", args, OUTPUTS, opts);
    super(r.provider, name, r.props, r.opts, "lvm", "Rollback");
  }
}
