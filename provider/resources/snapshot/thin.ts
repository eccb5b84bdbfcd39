import { Script } from "../../command";
import { LvRow, parseLvs, reportArgv } from "../../lvm/report";
import { HostSession } from "../../resource";
import { REQUIRE_NEW_LV } from "../../storage/hostChecks";
import { snapshotTag } from "../../storage/naming";
import { addThinSnapshot, checkThinPool, findThinPool, poolLimitsOf } from "../../storage/thin";
import { LOCK_TIMEOUT_SECONDS } from "../common";
import { withQuiesce } from "../quiesce";
import { Found, label } from "./common";
import { SnapshotInputs, SnapshotOutputs } from "./inputs";

/**
 * A thin snapshot (`lvcreate -s` of a thin disk, as Proxmox VE's lvmthin storage takes them): no size, as it shares
 * every block with its disk in the pool until one of them rewrites it; safe while the disk is in use. It is taken
 * read-only (a frozen state) with LVM's activation-skip flag, so a host does not activate every snapshot at boot:
 * whatever reads it activates it with `-K` (storage/thin.ts). Refused while the pool is above its fill limit: a full
 * pool fails every write to each of its thin LVs.
 */
export async function createThin(host: HostSession, inputs: SnapshotInputs, found: Found, lvName: string): Promise<SnapshotOutputs> {
  const vg = inputs.volumeGroup;
  const pool = findThinPool(found.lvs, vg, found.disk.poolLv);
  const script = new Script(`snapshot ${label(inputs)} (thin)`)
    .lock(vg, LOCK_TIMEOUT_SECONDS)
    .code("check the snapshot's name is free", REQUIRE_NEW_LV, { vg, lv: lvName, exists_hint: "" });
  checkThinPool(script, { vg, pool: found.disk.poolLv, limits: poolLimitsOf(pool?.tags ?? []), fill: true,
    what: `a new thin snapshot ${lvName}` });
  withQuiesce(script, inputs.quiesce, () => addThinSnapshot(script, {
    vg, origin: inputs.disk, lvName, tags: [snapshotTag(inputs.name)], readOnly: true, activationSkip: true,
  }));
  script.capture("lvs", reportArgv("lv", `vg_name=${vg}`));
  const lv = parseLvs((await host.run(script)).sections.lvs).find((l) => l.name === lvName);
  if (!lv) throw new Error(`snapshot LV ${vg}/${lvName} is missing after lvcreate`);
  return describeThin(inputs, lv, new Date().toISOString());
}

export function describeThin(inputs: SnapshotInputs, lv: LvRow, createdAt: string): SnapshotOutputs {
  return { ...inputs, method: "thin", lvName: lv.name, createdAt, sizeBytes: lv.sizeBytes, thinPool: lv.poolLv };
}
