import { Script, sh } from "../../command";
import { LvRow } from "../../lvm/report";
import { HostSession } from "../../resource";
import { ACTIVATE, REQUIRE_CLOSED } from "../../storage/hostChecks";
import { retakeTag } from "../../storage/journal";
import { snapshotTag } from "../../storage/naming";
import { addThickSnapshot, FoundSnapshot, removeUnfinishedSnapshot } from "../../storage/snapshots";
import { LOCK_TIMEOUT_SECONDS, refusal } from "../common";
import { withQuiesce } from "../quiesce";
import { label, RollbackInputs, RollbackOutputs } from "./inputs";

/** After `lvconvert --merge` returns, the snapshot LV must be gone: LVM defers a merge it cannot start now. */
const REQUIRE_MERGED = sh`if lvs -- "$vg/$lv" >/dev/null 2>&1; then
  __fail "LVM did not merge $vg/$lv now (it defers a merge while the disk is open, and finishes it at the disk's next activation); the disk is not rolled back yet: close it, then deactivate and activate it (lvchange -an, -ay) to let LVM finish the merge, and run again"
fi`;

/**
 * Rolls a disk back to a thick snapshot: `lvconvert --merge` writes the snapshot's state back into the disk (and
 * consumes the snapshot), then the snapshot is taken again with the same LV name, size and tags, so the Snapshot
 * resource's state stays true and the same state can be restored again. One locked host operation; refused while
 * the disk or the snapshot is open, as LVM would only defer the merge to the next activation.
 *
 * The disk is journaled `retake=<lv>:<bytes>:<name>` before the merge: a run cut off after the merge has consumed
 * the snapshot leaves a journal entry from which the next run re-takes it (and refresh keeps the Snapshot present).
 */
export async function rollbackThick(host: HostSession, inputs: RollbackInputs, disk: LvRow, snap: FoundSnapshot): Promise<RollbackOutputs> {
  const operation = `roll back ${label(inputs)}`;
  const vg = inputs.volumeGroup;
  if (snap.lv.attr.invalid) {
    throw refusal(host, operation, `the thick snapshot ${vg}/${snap.lvName} is invalid: more was written to the disk than its copy-on-write area holds, so its content is lost; nothing was changed`);
  }
  if (snap.lv.attr.type === "S") {
    throw refusal(host, operation, `${vg}/${snap.lvName} is being merged into ${vg}/${inputs.disk} already (an earlier merge LVM deferred or has not finished); let it finish, then run again`);
  }
  const closed = (lv: string, what: string) => ({ vg, lv, what });
  const script = new Script(operation).lock(vg, LOCK_TIMEOUT_SECONDS);
  withQuiesce(script, inputs.quiesce, () => {
    script.code("activate the disk", ACTIVATE, { vg, lv: inputs.disk })
      .code("check the disk is not in use", REQUIRE_CLOSED, closed(inputs.disk, "stop the VM first: LVM merges a snapshot into an open disk only at its next activation"))
      .code("check the snapshot is not in use", REQUIRE_CLOSED, closed(snap.lvName, "close it first (LVM would defer the merge)"))
      .run("journal the re-take", ["lvchange", "--addtag", retakeTag(snap.lvName, snap.lv.sizeBytes, inputs.snapshot), "--", `${vg}/${inputs.disk}`])
      .run("lvconvert --merge the snapshot into the disk", ["lvconvert", "--merge", "--interval", "1", "--", `${vg}/${snap.lvName}`])
      .code("check the merge is done", REQUIRE_MERGED, { vg, lv: snap.lvName });
    retake(script, vg, inputs.disk, snap.lvName, snap.lv.sizeBytes, inputs.snapshot, snap.lv.tags);
  });
  await host.run(script);
  return { ...inputs, method: "thick", snapshotLvName: snap.lvName, rolledBackAt: new Date().toISOString() };
}

/**
 * Finishes a rollback whose merge consumed the snapshot before it was taken again (the journal says so); `unfinished`:
 * the re-take itself was cut off mid-lvcreate, and left the snapshot's LV unfinished (isUnfinishedThickSnapshot).
 */
export async function finishRetake(host: HostSession, inputs: RollbackInputs, snapshotLv: string, bytes: number, unfinished: boolean): Promise<RollbackOutputs> {
  const script = new Script(`finish the rollback ${label(inputs)}`).lock(inputs.volumeGroup, LOCK_TIMEOUT_SECONDS);
  if (unfinished) removeUnfinishedSnapshot(script, inputs.volumeGroup, snapshotLv);
  await host.run(retake(script, inputs.volumeGroup, inputs.disk, snapshotLv, bytes, inputs.snapshot, [snapshotTag(inputs.snapshot)]));
  return { ...inputs, method: "thick", snapshotLvName: snapshotLv, rolledBackAt: new Date().toISOString() };
}

function retake(script: Script, vg: string, disk: string, snapshotLv: string, bytes: number, name: string, tags: readonly string[]): Script {
  return addThickSnapshot(script, "take the snapshot again", { vg, origin: disk, lvName: snapshotLv, bytes, tags })
    .run("close the journal entry", ["lvchange", "--deltag", retakeTag(snapshotLv, bytes, name), "--", `${vg}/${disk}`]);
}
