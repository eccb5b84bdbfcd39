import { z } from "zod";
import { ConnectionSchema } from "../../ssh";
import { temporarySnapshotLvName } from "../../storage/naming";
import { hinted, hostFilePathProblem, lvInVgProblem, LvName, lvNameProblem, SizeOrPercent, SnapshotName, validVgAndLv, VgName } from "../../validate";

/** What a job id looks like (8 hex digits): part of the temporary snapshot's LV name and the partial file's name. */
export const JOB_ID_LENGTH = 8;
/** The temporary snapshot an export takes of `disk`, for job `job`. */
export const temporaryLvName = (disk: string, job: string) => temporarySnapshotLvName(disk, `export-${job}`);

/** Suffixes written beside `path` (see host.ts); the file name must leave room for them within NAME_MAX. */
export const PARTIAL_SUFFIX = ".pulumi-lvm-partial-";
export const MARKER_SUFFIX = ".pulumi-lvm.json";
const LONGEST_SUFFIX = `${PARTIAL_SUFFIX}${"0".repeat(JOB_ID_LENGTH)}.chunk.sum`;
const MAX_FILE_NAME_BYTES = 255 - Buffer.byteLength(LONGEST_SUFFIX);

/** Where an export must not be written: kernel and device filesystems. */
const FORBIDDEN_ROOTS = ["dev", "proc", "sys"];

const ExportPath = hinted(z.string().superRefine((path, ctx) => {
  const problem = pathProblem(path);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}), 'an absolute path on the host like "/var/lib/exports/vm-100.qcow2"');

function pathProblem(path: string): string | undefined {
  const problem = hostFilePathProblem(path, "path", "/var/lib/exports/vm-100.qcow2");
  if (problem) return problem;
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) return "path must not contain '.' or '..' components";
  if (FORBIDDEN_ROOTS.includes(parts[0])) return `path must not be under /${parts[0]}/ (a kernel or device filesystem)`;
  const name = parts[parts.length - 1];
  if (Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) {
    return `the file name must be at most ${MAX_FILE_NAME_BYTES} bytes, to leave room for the temporary name beside it`;
  }
  return undefined;
}

/**
 * Kept as written ("10%", "64MiB", bytes) rather than transformed: inputs are validated again from the state on every
 * operation, and a percentage is resolved against the origin's size only on the host's facts.
 */
const SnapshotSize = z.union([z.number(), z.string()], { error: 'snapshotSize must be a size like "512MiB" or a percentage like "10%"' })
  .superRefine((value, ctx) => {
    const parsed = SizeOrPercent.safeParse(value);
    if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
  });

export const DEFAULT_SNAPSHOT_SIZE = "10%";
const FORMATS = ["raw", "qcow2"] as const;

export const DiskExportInputs = z.strictObject({
  connection: ConnectionSchema,
  volumeGroup: VgName,
  disk: LvName,
  snapshot: SnapshotName.optional(),
  path: ExportPath,
  format: z.enum(FORMATS, { error: `format must be "raw" or "qcow2"` }).default("raw"),
  compress: z.boolean({ error: "compress must be true or false" }).default(false),
  snapshotSize: SnapshotSize.optional(),
  triggers: z.array(z.json(), { error: "triggers must be an array of JSON values" }).optional(),
}).superRefine((x, ctx) => {
  if (x.compress && x.format !== "qcow2") {
    ctx.addIssue({ code: "custom", path: ["compress"], message: `compress applies only to format: "qcow2" (format is "${x.format}")` });
  }
  if (x.snapshot !== undefined && x.snapshotSize !== undefined) {
    ctx.addIssue({ code: "custom", path: ["snapshotSize"], message: "snapshotSize sizes the temporary snapshot, which is not taken when exporting a snapshot; remove it" });
  }
  if (x.snapshot === undefined && lvNameProblem(x.disk) === undefined) {
    const temporary = temporaryLvName(x.disk, "0".repeat(JOB_ID_LENGTH));
    const problem = lvNameProblem(temporary);
    if (problem) ctx.addIssue({ code: "custom", path: ["disk"], message: `the disk's temporary snapshot name would be invalid: logical volume name ${problem}; use a shorter disk name` });
    else if (validVgAndLv(x.volumeGroup, x.disk)) {
      // The temporary snapshot is a thick one: LVM stacks a -cow device under it and a -real one under the disk.
      const tooLong = lvInVgProblem(x.volumeGroup, temporary, "-cow");
      const origin = lvInVgProblem(x.volumeGroup, x.disk, "-real");
      if (tooLong) ctx.addIssue({ code: "custom", path: ["disk"], message: `the disk's temporary snapshot ${tooLong}; use shorter names` });
      else if (origin) ctx.addIssue({ code: "custom", path: ["disk"], message: `a thick snapshot's origin ${origin}; use shorter names` });
    }
  }
});
export type DiskExportInputs = z.infer<typeof DiskExportInputs>;

export const DiskExportOutputFields = z.object({
  sizeBytes: z.number().describe("Bytes the file takes on disk (allocated blocks): less than `apparentSizeBytes` for a sparse raw file."),
  apparentSizeBytes: z.number().describe("The file's length."),
  virtualSizeBytes: z.number().describe("What a VM reading the image sees."),
  sha256: z.string().describe("SHA-256 of the virtual content (the raw bytes a VM reads), hex; \"\" when a changed file no longer reads as `format`."),
  createdAt: z.string().describe("When the export started (just after its temporary snapshot was taken), UTC."),
  sourceState: z.string().describe("What was copied: `vg/disk@snapshot` or `vg/disk (temporary snapshot)`."),
  mtime: z.string().describe("The file's modification time as `date -r +%s.%N` prints it: a refresh recomputes the facts when it changes."),
});
export type DiskExportOutputs = DiskExportInputs & z.infer<typeof DiskExportOutputFields>;
