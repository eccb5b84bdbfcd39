import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "./connection";
import { registration } from "./register";

export interface VolumeGroupArgs {
  connection: pulumi.Input<ConnectionArgs>;
  /** The VG name: letters, digits and + _ . -, at most 127 characters. Changing it replaces the VG. */
  name: pulumi.Input<string>;
  /** Block devices to use as PVs. Adding extends the VG; removing moves data off first (refused if it does not fit). */
  devices: pulumi.Input<pulumi.Input<string>[]>;
  /** Physical extent size, e.g. "4MiB" (LVM's default). Fixed at creation. */
  extentSize?: pulumi.Input<string | number>;
  /** Metadata area size per PV, e.g. "16MiB" for VGs with thousands of LVs. Fixed at creation. */
  metadataSize?: pulumi.Input<string | number>;
  tags?: pulumi.Input<pulumi.Input<string>[]>;
  /** Wipe filesystem/partition/RAID signatures from the devices before use. Their data is lost. */
  wipeSignatures?: pulumi.Input<boolean>;
  /** Take over a VG of this name that already exists, if its PVs are exactly `devices`. */
  adopt?: pulumi.Input<boolean>;
  /** Allow deleting the VG while it still holds LVs (their data is lost). Set it with `pulumi up` before destroying. */
  forceDestroy?: pulumi.Input<boolean>;
}

/** One of the VG's physical volumes, as the output `pvs` lists them. */
export interface PhysicalVolume {
  /** The device as the inputs name it (or as LVM names it, for a PV added outside Pulumi). */
  device: string;
  /** The device as LVM names it on the host. */
  path: string;
  sizeBytes: number;
  freeBytes: number;
}

const OUTPUTS = ["uuid", "sizeBytes", "freeBytes", "extentSizeBytes", "lvCount", "pvs"] as const;

/** An LVM volume group on a host reached over SSH. */
export class VolumeGroup extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ConnectionArgs>;
  declare readonly name: pulumi.Output<string>;
  declare readonly devices: pulumi.Output<string[]>;
  declare readonly tags: pulumi.Output<string[]>;
  declare readonly uuid: pulumi.Output<string>;
  declare readonly sizeBytes: pulumi.Output<number>;
  declare readonly freeBytes: pulumi.Output<number>;
  declare readonly extentSizeBytes: pulumi.Output<number>;
  declare readonly lvCount: pulumi.Output<number>;
  declare readonly pvs: pulumi.Output<PhysicalVolume[]>;

  constructor(name: string, args: VolumeGroupArgs, opts?: pulumi.CustomResourceOptions) {
    const r = registration("VolumeGroup", args, OUTPUTS, opts);
    super(r.provider, name, r.props, r.opts, "lvm", "VolumeGroup");
  }
}
