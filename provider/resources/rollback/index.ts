import { Script } from "../../command";
import { readHostLvm } from "../../lvm/hostState";
import { ResourceKind } from "../../resource";
import { requireTool } from "../../ssh";
import { lvOrHeir } from "../../storage/chain";
import { pendingOf } from "../../storage/journal";
import { isThinLv } from "../../storage/thin";
import { RESERVED_SNAPSHOT_PREFIX, snapshotLvName } from "../../storage/naming";
import { findSnapshot, isUnfinishedThickSnapshot, snapshotsOf } from "../../storage/snapshots";
import { LOCK_TIMEOUT_SECONDS, refusal, resourceId } from "../common";
import { rollbackChain } from "./chain";
import { label, RollbackInputs, RollbackOutputFields, RollbackOutputs } from "./inputs";
import { finishReplace } from "./replace";
import { finishRetake, rollbackThick } from "./thick";
import { rollbackThin } from "./thin";

export { RollbackInputs, RollbackOutputs } from "./inputs";

/**
 * Returns a disk's content to one of its snapshots' (Snapshot `name`), keeping the snapshot, so a CI pipeline can
 * restore the same golden state any number of times: a change of `triggers` replaces the resource, and so rolls
 * back again. A rollback is an event: refresh keeps it as recorded, and deleting it changes nothing on the host.
 */
export const rollback: ResourceKind<RollbackInputs, RollbackOutputs> = {
  type: "Rollback",
  inputs: RollbackInputs,
  outputs: RollbackOutputFields,
  replaceOn: ["volumeGroup", "disk", "snapshot", "triggers"],
  stateOnly: ["quiesce"],
  // A new trigger rolls back first and only then drops the old record (which changes nothing): a rollback that
  // fails keeps the last one that happened in the stack.
  deleteBeforeReplace: () => false,
  tools: ["lvm", "flock"],

  id: (inputs) => resourceId(inputs.connection, inputs.volumeGroup, `${inputs.disk}@${inputs.snapshot}`),

  async create(host, inputs) {
    const operation = `roll back ${label(inputs)}`;
    const vg = inputs.volumeGroup;
    const lvm = await readHostLvm(host);
    const vgRow = lvm.vgs.find((v) => v.name === vg);
    if (!vgRow) throw refusal(host, operation, `volume group ${vg} does not exist on this host`);
    const lvs = lvm.lvs.filter((l) => l.vg === vg);
    const disk = lvOrHeir(lvs, vg, inputs.disk);
    if (!disk) throw refusal(host, operation, `disk ${vg}/${inputs.disk} does not exist on this host`);

    // An earlier run of this rollback that was cut off: finish what its journal says.
    const pending = pendingOf(disk.lv);
    if (disk.heir && pending?.op === "replace") {
      await host.run(finishReplace(new Script(`finish the rollback ${label(inputs)}`).lock(vg, LOCK_TIMEOUT_SECONDS), vg, disk.lv.name, inputs.disk));
      const method = isThinLv(disk.lv) ? "thin" : "chain";
      return { ...inputs, method, snapshotLvName: snapshotLvName(inputs.disk, inputs.snapshot, method), rolledBackAt: new Date().toISOString() };
    }
    const retaken = pending?.op === "retake" && lvs.find((l) => l.name === pending.snapshotLv);
    if (pending?.op === "retake" && pending.name === inputs.snapshot && (!retaken || isUnfinishedThickSnapshot(retaken))) {
      return finishRetake(host, inputs, pending.snapshotLv, pending.bytes, retaken !== undefined);
    }

    const snap = findSnapshot(lvs, vg, inputs.disk, inputs.snapshot);
    if (!snap) {
      const names = snapshotsOf(lvs, vg, inputs.disk).map((s) => s.name).filter((n) => !n.startsWith(RESERVED_SNAPSHOT_PREFIX));
      throw refusal(host, operation, `${vg}/${inputs.disk} has no snapshot named ${inputs.snapshot} (it has ${names.length ? names.join(", ") : "none"}); nothing was changed`);
    }
    switch (snap.method) {
      case "chain":
        requireTool(await host.capabilities(), "qemu-img");
        return rollbackChain(host, inputs, vgRow, disk.lv, lvs, snap);
      case "thick":
        return rollbackThick(host, inputs, disk.lv, snap);
      case "thin":
        return rollbackThin(host, inputs, disk.lv, lvs, snap);
    }
  },

  // A rollback is something that happened, not something on the host to compare: it stays as recorded.
  async read(_host, olds) {
    return olds;
  },

  async update(host, olds) {
    // Every field either replaces the rollback or is state-only (handled by the glue): nothing reaches here.
    throw refusal(host, `update rollback ${label(olds)}`, "a rollback cannot be changed in place");
  },

  async delete() {
    // Deleting the record of a rollback changes nothing on the host: the disk keeps its content, the snapshot stays.
  },
};
