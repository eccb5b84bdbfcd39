import * as pulumi from "@pulumi/pulumi";
import { ConnectionArgs } from "./connection";
import { registration } from "./register";

export interface DiskExportArgs {
  connection: pulumi.Input<ConnectionArgs>;
  /** The disk's volume group, usually `disk.volumeGroup` of a VmDisk. */
  volumeGroup: pulumi.Input<string>;
  /**
   * The disk's LV name, usually `disk.name` of a VmDisk. Its format is the one VmDisk recorded, else read from the
   * name: `.qcow2` names hold qcow2, anything else raw (a raw disk is never probed: its guest may have written a
   * qcow2 header).
   */
  disk: pulumi.Input<string>;
  /**
   * Export this snapshot of the disk (a Snapshot's `name`): a thick or thin snapshot (activated if needed, `-K` for a
   * thin one's activation-skip flag), or a chain snapshot whose backing chain is flattened. Without it, a temporary
   * snapshot of the disk is taken and removed again (safe while the VM runs): thick, or thin for a disk on a thin pool.
   */
  snapshot?: pulumi.Input<string>;
  /** Absolute path of the image file on the host. Its folder must exist; an existing file is refused. */
  path: pulumi.Input<string>;
  /** "raw" (default, written sparse) or "qcow2". */
  format?: pulumi.Input<"raw" | "qcow2">;
  /** Compressed qcow2 clusters (qcow2 only): smaller, much slower to write. */
  compress?: pulumi.Input<boolean>;
  /**
   * Size of the temporary snapshot (without `snapshot`): how much the disk may change during the copy. A size like
   * "2GiB" or a percentage of the disk, default "10%", rounded up to whole extents. Changing it does not re-export.
   * Not used for a thin disk: its temporary snapshot is thin and cannot overflow.
   */
  snapshotSize?: pulumi.Input<string | number>;
  /** Any values; a change writes a fresh export (e.g. a CI run id). */
  triggers?: pulumi.Input<pulumi.Input<unknown>[]>;
}

const OUTPUTS = ["sizeBytes", "apparentSizeBytes", "virtualSizeBytes", "sha256", "createdAt", "sourceState", "mtime"] as const;

/** An image file on a host with the content of a VM disk or of one of its snapshots (qemu-img convert). */
export class DiskExport extends pulumi.dynamic.Resource {
  declare readonly connection: pulumi.Output<ConnectionArgs>;
  declare readonly volumeGroup: pulumi.Output<string>;
  declare readonly disk: pulumi.Output<string>;
  declare readonly snapshot: pulumi.Output<string | undefined>;
  declare readonly path: pulumi.Output<string>;
  declare readonly format: pulumi.Output<"raw" | "qcow2">;
  declare readonly compress: pulumi.Output<boolean>;
  /** Bytes the file takes on disk (less than `apparentSizeBytes` when sparse). */
  declare readonly sizeBytes: pulumi.Output<number>;
  /** The file's length. */
  declare readonly apparentSizeBytes: pulumi.Output<number>;
  /** The size a VM reading the image sees. */
  declare readonly virtualSizeBytes: pulumi.Output<number>;
  /** SHA-256 (hex) of the virtual content: the raw bytes a VM reads, whatever the file's format. */
  declare readonly sha256: pulumi.Output<string>;
  /** When the export started, UTC (ISO 8601). */
  declare readonly createdAt: pulumi.Output<string>;
  /** What was copied: `vg/disk@snapshot` or `vg/disk (temporary snapshot)`. */
  declare readonly sourceState: pulumi.Output<string>;
  /** The file's modification time (`seconds.nanoseconds`), as last seen. */
  declare readonly mtime: pulumi.Output<string>;

  constructor(name: string, args: DiskExportArgs, opts?: pulumi.CustomResourceOptions) {
    const r = registration("DiskExport", args, OUTPUTS, opts);
    super(r.provider, name, r.props, r.opts, "lvm", "DiskExport");
  }
}
