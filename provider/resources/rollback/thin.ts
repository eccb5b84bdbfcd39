import { Script } from "../../command";
import { LvRow } from "../../lvm/report";
import { HostSession } from "../../resource";
import { requireDiskClosed } from "../../storage/chain";
import { REQUIRE_NEW_LV } from "../../storage/hostChecks";
import { replacesTag } from "../../storage/journal";
import { replacementLvName } from "../../storage/naming";
import { FoundSnapshot } from "../../storage/snapshots";
import { addThinSnapshot, checkThinPool, findThinPool, poolLimitsOf } from "../../storage/thin";
import { LOCK_TIMEOUT_SECONDS, refusal } from "../common";
import { withQuiesce } from "../quiesce";
import { finishReplace } from "./chain";
import { label, RollbackInputs, RollbackOutputs } from "./inputs";

/**
 * Rolls a thin disk back to any of its thin snapshots, the way Proxmox VE's lvmthin storage does: the disk's LV is
 * replaced by a writable thin snapshot of the snapshot, under the disk's name and with the disk's tags. The snapshot
 * itself is never written, so it stays (and so do the disk's other snapshots, older and newer: thin snapshots share
 * blocks but do not depend on each other).
 *
 * As for a chain rollback, the new LV is built first under a temporary name, journaled `replaces=<disk>`; only then
 * is the old LV removed and the new one renamed. A run cut off before the removal leaves the disk as it was; one cut
 * off after it leaves an LV the journal names as the disk, which the next run renames (storage/journal.ts).
 */
export async function rollbackThin(host: HostSession, inputs: RollbackInputs, disk: LvRow, lvs: LvRow[], snap: FoundSnapshot): Promise<RollbackOutputs> {
  const operation = `roll back ${label(inputs)}`;
  const vg = inputs.volumeGroup;
  const thick = lvs.filter((l) => l.origin === inputs.disk && l.attr.type !== "V").map((l) => l.name);
  if (thick.length > 0) {
    throw refusal(host, operation, `${vg}/${inputs.disk} has thick snapshots (${thick.join(", ")}), which a rollback would remove with the disk's LV; delete them first`);
  }
  const pool = findThinPool(lvs, vg, snap.lv.poolLv);
  const fresh = replacementLvName(inputs.disk);
  const script = new Script(operation).lock(vg, LOCK_TIMEOUT_SECONDS);
  withQuiesce(script, inputs.quiesce, () => {
    requireDiskClosed(script, vg, inputs.disk, "stop the VM first: a rollback replaces the disk's LV under it");
    if (lvs.some((l) => l.name === fresh)) {
      script.run("remove the LV an interrupted rollback left", ["lvremove", "--yes", "--", `${vg}/${fresh}`]);
    }
    script.code("check the new LV's name is free", REQUIRE_NEW_LV, { vg, lv: fresh, exists_hint: "" });
    checkThinPool(script, { vg, pool: snap.lv.poolLv, limits: poolLimitsOf(pool?.tags ?? []), fill: true,
      what: `rolling ${inputs.disk} back to ${inputs.snapshot} (a new thin LV)` });
    addThinSnapshot(script, {
      vg, origin: snap.lvName, lvName: fresh, tags: [...disk.tags, replacesTag(inputs.disk)], readOnly: false, activationSkip: false,
    });
    // From here the journal, not an undo, finishes the work: the new LV is what the disk is to become.
    script.forgetUndos()
      .run("remove the disk's old LV", ["lvremove", "--yes", "--", `${vg}/${inputs.disk}`]);
    finishReplace(script, vg, fresh, inputs.disk);
  });
  await host.run(script);
  return { ...inputs, method: "thin", snapshotLvName: snap.lvName, rolledBackAt: new Date().toISOString() };
}
