import { z } from "zod";
import { ConnectionSchema } from "../../ssh";
import { replacementLvName } from "../../storage/naming";
import { lvInVgProblem, LvName, lvNameProblem, SnapshotName, validVgAndLv, VgName } from "../../validate";
import { Quiesce } from "../quiesce";

export const RollbackInputs = z.strictObject({
  connection: ConnectionSchema,
  volumeGroup: VgName,
  /** The disk's LV name (a VmDisk's `name`). */
  disk: LvName,
  /** The Snapshot's `name` (its id, e.g. "golden"). */
  snapshot: SnapshotName,
  /** Any change rolls back again (replace), e.g. a CI run number. */
  triggers: z.array(z.json(), { error: "triggers must be an array of JSON values" }).optional(),
  quiesce: Quiesce.optional(),
}).superRefine((x, ctx) => {
  if (lvNameProblem(x.disk) === undefined) {
    const problem = lvNameProblem(replacementLvName(x.disk));
    if (problem) ctx.addIssue({ code: "custom", path: ["disk"], message: `the LV a rollback builds the disk's new overlay in would be invalid: logical volume name ${problem}; use a shorter disk name` });
    const tooLong = !problem && validVgAndLv(x.volumeGroup, x.disk) ? lvInVgProblem(x.volumeGroup, replacementLvName(x.disk)) : undefined;
    if (tooLong) ctx.addIssue({ code: "custom", path: ["disk"], message: `the rollback's new overlay LV ${tooLong}; use shorter names` });
  }
});
export type RollbackInputs = z.infer<typeof RollbackInputs>;

export const RollbackOutputFields = z.object({
  method: z.enum(["chain", "thick", "thin"]).describe("How the snapshot was restored: chain (a fresh overlay), thick (lvconvert --merge, then re-taken) or thin (the disk's LV re-made as a thin snapshot of the snapshot)."),
  snapshotLvName: z.string().describe("The snapshot's LV."),
  rolledBackAt: z.string().describe("When the disk's content was returned to the snapshot's, UTC."),
});
export type RollbackOutputs = RollbackInputs & z.infer<typeof RollbackOutputFields>;

export const label = (r: Pick<RollbackInputs, "volumeGroup" | "disk" | "snapshot">) => `${r.volumeGroup}/${r.disk}@${r.snapshot}`;
