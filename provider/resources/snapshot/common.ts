import { Script } from "../../command";
import { LvRow, VgRow } from "../../lvm/report";
import { HostSession } from "../../resource";
import { EXIT_IF_GONE } from "../../storage/hostChecks";
import { LOCK_TIMEOUT_SECONDS } from "../common";
import { SnapshotInputs, SnapshotOutputs } from "./inputs";

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

/** Deletes a thick or thin snapshot: `lvremove` of its LV (nothing else reads through it), if it is still there. */
export async function removeSnapshotLv(host: HostSession, olds: SnapshotOutputs): Promise<void> {
  await host.run(new Script(`delete snapshot ${label(olds)}`)
    .lock(olds.volumeGroup, LOCK_TIMEOUT_SECONDS)
    .code("check the snapshot exists", EXIT_IF_GONE, { vg: olds.volumeGroup, lv: olds.lvName })
    .run("lvremove the snapshot", ["lvremove", "--yes", "--", `${olds.volumeGroup}/${olds.lvName}`]));
}
