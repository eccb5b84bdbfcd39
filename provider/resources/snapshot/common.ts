import { LvRow, VgRow } from "../../lvm/report";
import { SnapshotInputs } from "./inputs";

/** What create found on the host before deciding anything: the VG and the disk's LV. */
export interface Found {
  vg: VgRow;
  disk: LvRow;
  lvs: LvRow[];
}

export const label = (s: Pick<SnapshotInputs, "volumeGroup" | "disk" | "name">) => `${s.volumeGroup}/${s.disk}@${s.name}`;
