import { z } from "zod";
import { PREALLOCATIONS } from "../../qemu";
import { ConnectionSchema } from "../../ssh";
import { hinted, hostFilePathProblem, isPowerOfTwo, lvInVgProblem, LvName, PositiveSize, Size, Tags, validVgAndLv, VgName } from "../../validate";

const KiB = 1024;
const MiB = 1024 * KiB;

const Qcow2Settings = z.strictObject({
  clusterSize: Size.refine((b) => isPowerOfTwo(b) && b >= 512 && b <= 2 * MiB,
    "clusterSize must be a power of two from 512B to 2MiB, like 64KiB or 128KiB").optional(),
  extendedL2: z.boolean().optional(),
  preallocation: z.enum(PREALLOCATIONS, { error: `preallocation must be one of ${PREALLOCATIONS.join(", ")}` }).optional(),
}).superRefine((o, ctx) => {
  // qemu refuses subclusters below 16 KiB clusters; say so before anything reaches the host.
  if (o.extendedL2 && o.clusterSize !== undefined && o.clusterSize < 16 * KiB) {
    ctx.addIssue({ code: "custom", path: ["clusterSize"], message: "extendedL2 needs a clusterSize of at least 16KiB" });
  }
}).meta({ title: "Qcow2" });

/** Formats qemu-img can read a source image in (an unset format is probed on the host). */
const SOURCE_FORMATS = ["raw", "qcow2", "vmdk", "vdi", "vhdx", "vpc", "qed"] as const;

const DiskSource = hinted(z.strictObject({
  path: hinted(z.string().superRefine((path, ctx) => {
    const problem = hostFilePathProblem(path, "source.path", "/var/lib/images/debian-12.qcow2");
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }), 'an absolute path on the host like "/var/lib/images/debian-12.qcow2"'),
  format: z.enum(SOURCE_FORMATS, { error: `source.format must be one of ${SOURCE_FORMATS.join(", ")}` }).optional(),
}).meta({ title: "DiskSource" }), 'an object like { path: "/var/lib/images/debian-12.qcow2" }');

export const VmDiskInputs = z.strictObject({
  connection: ConnectionSchema,
  volumeGroup: VgName,
  name: LvName,
  size: PositiveSize,
  format: z.enum(["raw", "qcow2"], { error: `format must be "raw" or "qcow2"` }).default("raw"),
  qcow2: Qcow2Settings.optional(),
  source: DiskSource.optional(),
  /** A thin pool of the VG (a ThinPool's `name`): the disk is a thin LV of it, which takes room only as it is written. */
  thinPool: LvName.optional(),
  wipeOnDelete: z.boolean().default(false),
  /** On delete, remove the disk's snapshots with it instead of refusing (for Snapshots given `deletedWith: disk`). */
  deleteSnapshots: z.boolean().optional(),
  tags: Tags.transform((t) => [...t].sort()),
  adopt: z.boolean().default(false),
}).superRefine((disk, ctx) => {
  if (disk.thinPool !== undefined && disk.wipeOnDelete) {
    // Zeroing a thin LV writes every block of it: it would fill the pool with zeros before giving the blocks back.
    ctx.addIssue({ code: "custom", path: ["wipeOnDelete"], message: "wipeOnDelete applies to thick disks: zeroing a thin disk would allocate all of it in the pool first; its blocks go back to the pool on delete, and a pool with zero: true (the default) zeroes them before any thin LV uses them again" });
  }
  if (disk.deleteSnapshots && disk.wipeOnDelete) {
    ctx.addIssue({ code: "custom", path: ["deleteSnapshots"], message: "deleteSnapshots removes the disk's snapshots without zeroing them, so wipeOnDelete could not keep its promise; use one or the other" });
  }
  if (disk.qcow2 !== undefined && disk.format !== "qcow2") {
    ctx.addIssue({ code: "custom", path: ["qcow2"], message: `qcow2 options apply only to format: "qcow2" (format is "${disk.format}")` });
  }
  const tooLong = validVgAndLv(disk.volumeGroup, disk.name) ? lvInVgProblem(disk.volumeGroup, disk.name) : undefined;
  if (tooLong) ctx.addIssue({ code: "custom", path: ["name"], message: `the disk's LV ${tooLong}; use shorter names` });
  if (disk.format === "qcow2" && disk.size % 512 !== 0) {
    ctx.addIssue({ code: "custom", path: ["size"], message: "the size of a qcow2 disk must be a whole number of 512-byte sectors" });
  }
});
export type VmDiskInputs = z.infer<typeof VmDiskInputs>;

export const VmDiskOutputFields = z.object({
  path: z.string().describe("/dev/<vg>/<lv>: what a VM is given."),
  lvName: z.string(),
  uuid: z.string(),
  lvSizeBytes: z.number().describe("The LV: the requested size (raw) or qemu-img's fully-allocated measure (qcow2), rounded up to whole extents."),
  virtualSizeBytes: z.number().describe("What a VM sees: the qcow2 image's virtual size, or the whole LV for raw."),
  active: z.boolean(),
  open: z.boolean().describe("Open by a process, e.g. a running VM: growing and deleting are refused meanwhile."),
  clusterSizeBytes: z.number().optional().describe("qcow2 only, as the image reports it."),
  extendedL2: z.boolean().optional().describe("qcow2 only, as the image reports it."),
  allocatedPercent: z.number().optional().describe("Thin only: how much of the LV is allocated in its pool, in percent (what it costs; shared snapshot blocks count)."),
});
export type VmDiskOutputs = VmDiskInputs & z.infer<typeof VmDiskOutputFields>;
