import { z } from "zod";
import { ConnectionSchema } from "../../ssh";
import { Quiesce } from "../quiesce";
import { snapshotLvName } from "../../storage/naming";
import { LvName, lvNameProblem, SizeOrPercent, SnapshotName, VgName } from "../../validate";

export const METHODS = ["auto", "chain", "thick", "thin"] as const;

export const SnapshotInputs = z.strictObject({
  connection: ConnectionSchema,
  volumeGroup: VgName,
  disk: LvName,
  name: SnapshotName,
  method: z.enum(METHODS, { error: `method must be one of ${METHODS.join(", ")}` }).default("auto"),
  /** Thick only: the COW area, bytes or a percentage of the origin; default 10%. A thin snapshot takes no room up front. */
  size: SizeOrPercent.optional(),
  /** Thick only: the snapshot LV's name instead of snap_<disk>_<name>. */
  lvName: LvName.optional(),
  quiesce: Quiesce.optional(),
}).superRefine((s, ctx) => {
  if (s.method === "chain" && s.size !== undefined) {
    ctx.addIssue({ code: "custom", path: ["size"], message: "size applies only to thick snapshots: a chain snapshot's overlay is sized by qemu-img measure" });
  }
  if (s.method === "thin" && s.size !== undefined) {
    ctx.addIssue({ code: "custom", path: ["size"], message: "size applies only to thick snapshots: a thin snapshot shares its disk's blocks in the pool and takes room only as either is rewritten" });
  }
  // Rollback finds a thin snapshot by Proxmox's name, so that name is the only one it can have (accepted, as the
  // outputs record it as lvName).
  if (s.method === "thin" && s.lvName !== undefined && s.lvName !== snapshotLvName(s.disk, s.name, "thin")) {
    ctx.addIssue({ code: "custom", path: ["lvName"], message: "lvName applies only to thick snapshots: a thin snapshot's LV is named snap_<disk>_<name>, as Proxmox names it" });
  }
  // Outputs record the chain LV's name as lvName, so the Proxmox name itself is accepted.
  if (s.method === "chain" && s.lvName !== undefined && s.lvName !== snapshotLvName(s.disk, s.name, "chain")) {
    ctx.addIssue({ code: "custom", path: ["lvName"], message: "lvName applies only to thick snapshots: a chain snapshot's LV is named snap_<disk>_<name>.qcow2, as Proxmox names it" });
  }
  // The LV names this snapshot can get must be valid LV names too (which one depends on the method); said once.
  if (s.lvName === undefined && SnapshotName.safeParse(s.name).success && LvName.safeParse(s.disk).success) {
    const methods = s.method === "auto" ? (["chain", "thick"] as const) : [s.method];
    const problems = methods.map((m) => [snapshotLvName(s.disk, s.name, m), lvNameProblem(snapshotLvName(s.disk, s.name, m))]);
    const first = problems.find(([, problem]) => problem !== undefined);
    if (first) ctx.addIssue({ code: "custom", path: ["name"], message: `the snapshot's LV ${first[0]}: ${first[1]}` });
  }
});
export type SnapshotInputs = z.infer<typeof SnapshotInputs>;
export type ResolvedMethod = "chain" | "thick" | "thin";

export interface SnapshotOutputs extends SnapshotInputs {
  method: ResolvedMethod;
  lvName: string;
  createdAt: string;
  /** The snapshot LV's size. */
  sizeBytes: number;
  /** Thick: how full the COW area is (snap_percent). */
  usedPercent?: number;
  /** Thick: false once LVM has invalidated the snapshot (its COW area overflowed): its content is lost. */
  valid?: boolean;
  /** Chain: the older snapshot's LV this one is backed by, if any. */
  parent?: string;
  /** Chain: the backing file of the disk's current overlay (the newest snapshot's LV). */
  backingFile?: string;
  /** Thin: the thin pool holding the snapshot (and its disk). */
  thinPool?: string;
  /** An operation an earlier run did not finish, which the next pulumi up completes. */
  pending?: string;
}
