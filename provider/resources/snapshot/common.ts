import { Script } from "../../command";
import { LvRow, VgRow } from "../../lvm/report";
import { SnapshotInputs } from "./inputs";

/** What create found on the host before deciding anything: the VG and the disk's LV. */
export interface Found {
  vg: VgRow;
  disk: LvRow;
  lvs: LvRow[];
}

export const label = (s: Pick<SnapshotInputs, "volumeGroup" | "disk" | "name">) => `${s.volumeGroup}/${s.disk}@${s.name}`;

/**
 * Runs `take` between the user's quiesce hooks, in the same host operation: `before` hooks first (a failing one
 * aborts with nothing taken), `after` hooks right after the snapshot, and also when taking it failed.
 */
export function withQuiesce(script: Script, inputs: SnapshotInputs, take: () => void): void {
  const { before = [], after = [] } = inputs.quiesce ?? {};
  before.forEach((argv, i) => script.run(`quiesce.before[${i}]`, argv));
  for (const argv of after) script.finally(argv);
  take();
  if (after.length > 0) script.runFinally("quiesce.after");
}
