import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "./connection";
import { registration } from "./register";

export interface ThinPoolArgs {
  connection: pulumi.Input<ConnectionArgs>;
  /** The volume group to create the pool in, usually `vg.name` of a VolumeGroup. Changing it replaces the pool. */
  volumeGroup: pulumi.Input<string>;
  /** The pool's LV name, e.g. "data" (Proxmox's `local-lvm` is `pve/data`). Changing it replaces the pool. */
  name: pulumi.Input<string>;
  /** The data space, e.g. "100GiB" or bytes. It grows in place (`lvextend`); shrinking is refused. */
  size: pulumi.Input<string | number>;
  /** The metadata space (`--poolmetadatasize`), 2MiB to 16GiB. Default: LVM's choice. It grows in place; never shrinks. */
  metadataSize?: pulumi.Input<string | number>;
  /** The allocation unit (`--chunksize`), a multiple of 64KiB up to 1GiB. Default: LVM's choice. Fixed at creation. */
  chunkSize?: pulumi.Input<string | number>;
  /** Zero every new block before a thin LV first uses it (`-Z`), default true. Changes in place. */
  zero?: pulumi.Input<boolean>;
  /**
   * Refuse a new (or grown) thin disk that would bring the sum of the pool's thin LVs' sizes, snapshots included, above
   * this many times its data space, e.g. 2. Default: no limit.
   */
  maxOverCommit?: pulumi.Input<number>;
  /** Refuse new thin disks and snapshots while the pool's data or metadata use is above this percentage. Default 95. */
  refuseAbovePercent?: pulumi.Input<number>;
  tags?: pulumi.Input<pulumi.Input<string>[]>;
  /** Take over a thin pool of this name that already exists, if its size (and the options given) match. */
  adopt?: pulumi.Input<boolean>;
}

const OUTPUTS = ["lvName", "uuid", "sizeBytes", "metadataSizeBytes", "chunkSizeBytes", "dataPercent", "metadataPercent",
  "virtualSizeBytes", "overCommit", "thinLvCount", "active"] as const;

/** An LVM thin pool (`lvcreate --type thin-pool`), for thin VM disks (`VmDisk` with `thinPool`) and thin snapshots. */
export class ThinPool extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ConnectionArgs>;
  declare readonly volumeGroup: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  /** The requested data size, in bytes. */
  declare readonly size: pulumi.Output<number>;
  declare readonly tags: pulumi.Output<string[]>;
  declare readonly lvName: pulumi.Output<string>;
  declare readonly uuid: pulumi.Output<string>;
  /** The data space, in bytes (whole extents). */
  declare readonly sizeBytes: pulumi.Output<number>;
  declare readonly metadataSizeBytes: pulumi.Output<number>;
  declare readonly chunkSizeBytes: pulumi.Output<number>;
  /** How full the data space is, in percent, as last read. */
  declare readonly dataPercent: pulumi.Output<number>;
  /** How full the metadata space is, in percent, as last read. */
  declare readonly metadataPercent: pulumi.Output<number>;
  /** The sum of the sizes of the pool's thin LVs, snapshots included. */
  declare readonly virtualSizeBytes: pulumi.Output<number>;
  /** virtualSizeBytes / sizeBytes: above 1 the pool is over-committed. */
  declare readonly overCommit: pulumi.Output<number>;
  /** The pool's thin LVs, snapshots included. */
  declare readonly thinLvCount: pulumi.Output<number>;
  declare readonly active: pulumi.Output<boolean>;

  constructor(name: string, args: ThinPoolArgs, opts?: pulumi.CustomResourceOptions) {
    const r = registration("ThinPool", args, OUTPUTS, opts);
    super(r.provider, name, r.props, r.opts, "lvm", "ThinPool");
  }
}
