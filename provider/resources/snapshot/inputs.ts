import { z } from "zod";
import { ConnectionSchema } from "../../ssh";
import { Quiesce } from "../quiesce";
import { snapshotLvName } from "../../storage/naming";
import { lvInVgProblem, LvName, lvNameProblem, SizeOrPercent, SnapshotName, validVgAndLv, VgName } from "../../validate";

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
  // The LV names this snapshot can get must be valid LV names too, also in their VG (which one depends on the method,
  // and `auto` may take either); said once.
  if (SnapshotName.safeParse(s.name).success && LvName.safeParse(s.disk).success) {
    const methods = s.method === "auto" ? (["chain", "thick"] as const) : [s.method];
    const named = methods.map((m) => ({ method: m, lv: s.lvName ?? snapshotLvName(s.disk, s.name, m) }));
    const own = s.lvName === undefined ? named.map(({ lv }) => [lv, lvNameProblem(lv)]).find(([, problem]) => problem) : undefined;
    if (own) ctx.addIssue({ code: "custom", path: ["name"], message: `the snapshot's LV ${own[0]}: ${own[1]}` });
    else if (validVgAndLv(s.volumeGroup, s.disk) && (s.lvName === undefined || LvName.safeParse(s.lvName).success)) {
      // A thick snapshot stacks a -cow device under its LV and a -real one under the disk.
      const thick = methods.includes("thick");
      const tooLong = named.map(({ method, lv }) => lvInVgProblem(s.volumeGroup, lv, method === "thick" ? "-cow" : "")).find(Boolean);
      const origin = thick ? lvInVgProblem(s.volumeGroup, s.disk, "-real") : undefined;
      if (tooLong) ctx.addIssue({ code: "custom", path: [s.lvName === undefined ? "name" : "lvName"], message: `the snapshot's LV ${tooLong}; use shorter names` });
      else if (origin) ctx.addIssue({ code: "custom", path: ["disk"], message: `a thick snapshot's origin ${origin}; use shorter names` });
    }
  }
});
export type SnapshotInputs = z.infer<typeof SnapshotInputs>;
export type ResolvedMethod = "chain" | "thick" | "thin";

export const SnapshotOutputFields = z.object({
  method: z.enum(["chain", "thick", "thin"]).describe("The method the snapshot was taken with (what `auto` resolved to)."),
  lvName: z.string().describe("The snapshot's LV."),
  createdAt: z.string(),
  sizeBytes: z.number().describe("The snapshot LV's size."),
  usedPercent: z.number().optional().describe("Thick: how full the COW area is (snap_percent)."),
  valid: z.boolean().optional().describe("Thick: false once LVM has invalidated the snapshot (its COW area overflowed): its content is lost."),
  parent: z.string().optional().describe("Chain: the older snapshot's LV this one is backed by, if any."),
  backingFile: z.string().optional().describe("Chain: the backing file of the disk's current overlay (the newest snapshot's LV)."),
  thinPool: z.string().optional().describe("Thin: the thin pool holding the snapshot (and its disk)."),
  pending: z.string().optional().describe("An operation an earlier run did not finish, which the next pulumi up completes."),
});
export type SnapshotOutputs = SnapshotInputs & z.infer<typeof SnapshotOutputFields>;
