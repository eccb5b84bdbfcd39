import { batchedReads, CommandRunner, Script } from "../command";
import { LvRow, parseLvs, parsePvs, parseVgs, PvRow, reportArgv, VgRow } from "./report";

/** Everything LVM knows on one host: every VG, PV and LV. */
export interface HostLvm {
  vgs: VgRow[];
  pvs: PvRow[];
  lvs: LvRow[];
}

/** Adds the three report captures to a script (so a mutating script can return fresh state in the same trip). */
export function captureHostLvm(script: Script): Script {
  return script.capture("vgs", reportArgv("vg")).capture("pvs", reportArgv("pv")).capture("lvs", reportArgv("lv"));
}

export function parseHostLvm(sections: Record<string, string>): HostLvm {
  return { vgs: parseVgs(sections.vgs), pvs: parsePvs(sections.pvs), lvs: parseLvs(sections.lvs) };
}

const readBatched = batchedReads<never>("read LVM state", (script) => captureHostLvm(script));

/** A host's whole LVM state, read in one round trip shared by every caller in the same turn (see batchedReads). */
export async function readHostLvm(host: CommandRunner): Promise<HostLvm> {
  return parseHostLvm(await readBatched(host));
}
