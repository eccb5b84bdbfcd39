import { Script } from "../../command";
import { LvRow } from "../../lvm/report";
import { HostSession } from "../../resource";
import { requireDiskClosed } from "../../storage/chain";
import { FoundSnapshot } from "../../storage/snapshots";
import { addThinSnapshot, checkThinPool, findThinPool, poolLimitsOf } from "../../storage/thin";
import { LOCK_TIMEOUT_SECONDS } from "../common";
import { withQuiesce } from "../quiesce";
import { label, RollbackInputs, RollbackOutputs } from "./inputs";
import { refuseThickSnapshots, replaceDiskLv } from "./replace";

/**
 * Rolls a thin disk back to any of its thin snapshots, the way Proxmox VE's lvmthin storage does: the disk's LV is
 * replaced by a writable thin snapshot of the snapshot, under the disk's name and with the disk's tags. The snapshot
 * itself is never written, so it stays (and so do the disk's other snapshots, older and newer: thin snapshots share
 * blocks but do not depend on each other).
 *
 * As for a chain rollback, the new LV replaces the old one as replace.ts does it: built and journaled first, the old
 * one removed last.
 */
export async function rollbackThin(host: HostSession, inputs: RollbackInputs, disk: LvRow, lvs: LvRow[], snap: FoundSnapshot): Promise<RollbackOutputs> {
  const operation = `roll back ${label(inputs)}`;
  const vg = inputs.volumeGroup;
  refuseThickSnapshots(host, operation, vg, inputs.disk, lvs);
  const pool = findThinPool(lvs, vg, snap.lv.poolLv);
  const script = new Script(operation).lock(vg, LOCK_TIMEOUT_SECONDS);
  withQuiesce(script, inputs.quiesce, () => {
    requireDiskClosed(script, vg, inputs.disk, "stop the VM first: a rollback replaces the disk's LV under it");
    replaceDiskLv(script, vg, inputs.disk, lvs, (fresh, journal) => {
      checkThinPool(script, { vg, pool: snap.lv.poolLv, limits: poolLimitsOf(pool?.tags ?? []), fill: true,
        what: `rolling ${inputs.disk} back to ${inputs.snapshot} (a new thin LV)` });
      addThinSnapshot(script, { vg, origin: snap.lvName, lvName: fresh, tags: [...disk.tags, journal], readOnly: false, activationSkip: false });
    });
  });
  await host.run(script);
  return { ...inputs, method: "thin", snapshotLvName: snap.lvName, rolledBackAt: new Date().toISOString() };
}
