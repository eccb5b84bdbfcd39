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

/** Deletes a thick or thin snapshot: `lvremove` of its LV (nothing else reads through it), if it is still there. */
export async function removeSnapshotLv(host: HostSession, olds: SnapshotOutputs): Promise<void> {
  await host.run(new Script(`delete snapshot ${label(olds)}`)
    .lock(olds.volumeGroup, LOCK_TIMEOUT_SECONDS)
    .code("check the snapshot exists", EXIT_IF_GONE, { vg: olds.volumeGroup, lv: olds.lvName })
    .run("lvremove the snapshot", ["lvremove", "--yes", "--", `${olds.volumeGroup}/${olds.lvName}`]));
}
