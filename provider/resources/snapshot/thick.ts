import { Script } from "../../command";
import { LvRow, parseLvs, reportArgv } from "../../lvm/report";
import { HostSession } from "../../resource";
import { CHECK_FREE, formatFreeVars, REQUIRE_NEW_LV } from "../../storage/hostChecks";
import { snapshotTag } from "../../storage/naming";
import { addThickSnapshot, isUnfinishedThickSnapshot, removeUnfinishedSnapshot } from "../../storage/snapshots";
import { formatBytes, resolveSize } from "../../validate";
import { LOCK_TIMEOUT_SECONDS } from "../common";
import { withQuiesce } from "../quiesce";
import { Found, label } from "./common";
import { SnapshotInputs, SnapshotOutputs } from "./inputs";

/** The seed's default: a COW area of 10% of the origin, for a snapshot that lives while a copy is made. */
const DEFAULT_SIZE = "10%";

/**
 * Classic thick LVM snapshot (`lvcreate --snapshot`): safe while the origin is open, as LVM freezes it for the
 * moment of the snapshot. Its COW area has a fixed size; once writes to the origin overflow it, LVM invalidates the
 * snapshot, which read reports (`valid: false`) and nothing re-creates behind the user's back.
 */
export async function createThick(host: HostSession, inputs: SnapshotInputs, found: Found, lvName: string): Promise<SnapshotOutputs> {
  const bytes = resolveSize(inputs.size ?? DEFAULT_SIZE, found.disk.sizeBytes, found.vg.extentSizeBytes);
  const vars = { vg: inputs.volumeGroup, lv: lvName };
  const script = new Script(`snapshot ${label(inputs)} (thick)`).lock(inputs.volumeGroup, LOCK_TIMEOUT_SECONDS);
  // A create of this snapshot cut off by a power loss mid-lvcreate: its unfinished LV is taken again from scratch.
  const unfinished = found.lvs.find((l) => l.name === lvName && isUnfinishedThickSnapshot(l));
  if (unfinished) removeUnfinishedSnapshot(script, inputs.volumeGroup, lvName);
  script
    .code("check the snapshot's name is free", REQUIRE_NEW_LV, { ...vars, exists_hint: "" })
    .code("check free space", CHECK_FREE, { ...vars, ...formatFreeVars(bytes, formatBytes(bytes), `snapshot ${lvName}`) });
  withQuiesce(script, inputs.quiesce, () => addThickSnapshot(script, "lvcreate --snapshot",
    { vg: inputs.volumeGroup, origin: inputs.disk, lvName, bytes, tags: [snapshotTag(inputs.name)] }));
  script.capture("lvs", reportArgv("lv", `vg_name=${inputs.volumeGroup}`));
  const lv = parseLvs((await host.run(script)).sections.lvs).find((l) => l.name === lvName);
  if (!lv) throw new Error(`snapshot LV ${inputs.volumeGroup}/${lvName} is missing after lvcreate`);
  return describeThick(inputs, lv, new Date().toISOString());
}

export function describeThick(inputs: SnapshotInputs | SnapshotOutputs, lv: LvRow, createdAt: string): SnapshotOutputs {
  const { pending: _, ...rest } = inputs as SnapshotOutputs;
  return {
    ...rest,
    method: "thick",
    lvName: lv.name,
    createdAt,
    sizeBytes: lv.sizeBytes,
    usedPercent: lv.snapPercent ?? 0,
    valid: !lv.attr.invalid,
  };
}
