import { HostLvm, readHostLvm } from "../../lvm/hostState";
import { HostSession, ResourceKind } from "../../resource";
import { requireTool } from "../../ssh";
import { diskFormatOf, findSnapshot, isThinLv, isUnfinishedThickSnapshot, snapshotLvName } from "../../storage";
import { describePending, pendingOf, retakerOf, snapshotterOf } from "../../storage/journal";
import { refusal, resourceId } from "../common";
import { createChain, deleteChain, readChainSnapshot, recoverChainSnapshot } from "./chain";
import { Found, label, removeSnapshotLv } from "./common";
import { ResolvedMethod, SnapshotInputs, SnapshotOutputFields, SnapshotOutputs } from "./inputs";
import { createThick, describeThick } from "./thick";
import { createThin, describeThin } from "./thin";

export { SnapshotInputs, SnapshotOutputs } from "./inputs";

/**
 * A snapshot of a VM disk, by one of three methods: `chain` (Proxmox VE 9's qcow2 volume chain, for qcow2 disks),
 * `thick` (a classic `lvcreate --snapshot`, for any disk, safe while it is in use) or `thin` (a thin snapshot of a disk
 * on a thin pool, as Proxmox's lvmthin storage takes them). `auto` picks thin for a thin disk, else chain for a qcow2
 * disk and thick for raw. A snapshot is never re-taken silently: only a change of what it is (disk, name, method)
 * replaces it.
 */
export const snapshot: ResourceKind<SnapshotInputs, SnapshotOutputs> = {
  type: "Snapshot",
  inputs: SnapshotInputs,
  outputs: SnapshotOutputFields,
  replaceOn: ["volumeGroup", "disk", "name", "method", "lvName"],
  stateOnly: ["size", "quiesce"],
  resolvedOnHost: { method: "auto", lvName: undefined },
  tools: ["lvm", "flock"],

  id: (inputs) => resourceId(inputs.connection, inputs.volumeGroup, `${inputs.disk}@${inputs.name}`),

  async create(host, inputs) {
    const operation = `snapshot ${label(inputs)}`;
    let lvm = await readHostLvm(host);
    const cutOff = snapshotterOf(lvm.lvs, inputs.volumeGroup, inputs.disk);
    if (cutOff) {
      // A chain snapshot of this disk was cut off by a power loss (storage/journal.ts): finish or undo it first.
      requireTool(await host.capabilities(), "qemu-img");
      const finished = await recoverChainSnapshot(host, inputs, snapshotLvName(inputs.disk, inputs.name, "chain"), cutOff, cutOff.pending);
      if (finished) return finished;
      lvm = await readHostLvm(host);
    }
    const found = inspect(host, inputs, lvm);
    const method = resolveMethod(host, inputs, found);
    if (method === "chain") requireTool(await host.capabilities(), "qemu-img");
    const lvName = inputs.lvName ?? snapshotLvName(inputs.disk, inputs.name, method);
    const taken = findSnapshot(found.lvs, inputs.volumeGroup, inputs.disk, inputs.name);
    if (taken) {
      throw refusal(host, operation, `${label(inputs)} exists already (LV ${inputs.volumeGroup}/${taken.lvName}, a ${taken.method} snapshot): snapshot names must be unique per disk; choose another name, or delete that snapshot first`);
    }
    if (method === "chain") return createChain(host, inputs, found, lvName);
    return method === "thin" ? createThin(host, inputs, found, lvName) : createThick(host, inputs, found, lvName);
  },

  /**
   * An unconfirmed create (glue/unconfirmed.ts) took the snapshot if it is there, by its name (the chain LV, the thick
   * or thin LV with its tag) and no journal entry of a chain snapshot of the disk is left; it must be of the method and
   * LV asked for. Else the create runs, and finishes or undoes first what a journal entry recorded.
   */
  async finishCreate(host, inputs) {
    const { lvs } = await readHostLvm(host);
    const taken = !snapshotterOf(lvs, inputs.volumeGroup, inputs.disk) && findSnapshot(lvs, inputs.volumeGroup, inputs.disk, inputs.name);
    if (!taken) return snapshot.create(host, inputs);
    if ((inputs.method !== "auto" && taken.method !== inputs.method) || (inputs.lvName !== undefined && taken.lvName !== inputs.lvName)) {
      throw refusal(host, `snapshot ${label(inputs)}`, `${label(inputs)} exists as a ${taken.method} snapshot (LV ${inputs.volumeGroup}/${taken.lvName}), not the one asked for; nothing was changed`);
    }
    const found = await snapshot.read(host, { ...inputs, method: taken.method, lvName: taken.lvName, createdAt: new Date().toISOString(), sizeBytes: taken.lv.sizeBytes });
    return found ?? snapshot.create(host, inputs);
  },

  async read(host, olds) {
    if (olds.method === "chain") return readChainSnapshot(host, olds);
    const { lvs } = await readHostLvm(host);
    const lv = lvs.find((l) => l.vg === olds.volumeGroup && l.name === olds.lvName && !isUnfinishedThickSnapshot(l));
    if (lv) return olds.method === "thin" ? describeThin(olds, lv, olds.createdAt) : describeThick(olds, lv, olds.createdAt);
    // A rollback merged it into the disk and was cut off before taking it again: the next up of the Rollback does.
    const retaker = retakerOf(lvs, olds.volumeGroup, olds.lvName);
    return retaker ? { ...olds, pending: describePending(olds.volumeGroup, pendingOf(retaker)!) } : undefined;
  },

  /** `vg/disk@name`: found by Proxmox's names (or Snapshot's tag), as Rollback and inspect find snapshots. */
  async importFrom(host, path, connection) {
    const [, volumeGroup, disk, name] = /^([^/]+)\/([^/@]+)@(.+)$/.exec(path) ?? [];
    const found = disk && findSnapshot((await readHostLvm(host)).lvs, volumeGroup, disk, name);
    if (!found) return undefined;
    const inputs = SnapshotInputs.parse({ connection, volumeGroup, disk, name, method: found.method, lvName: found.lvName });
    return snapshot.read(host, { ...inputs, method: found.method, lvName: found.lvName, createdAt: "", sizeBytes: found.lv.sizeBytes });
  },

  async update(host, olds) {
    // Every field either replaces the snapshot or is state-only (handled by the glue): nothing reaches here.
    throw refusal(host, `update snapshot ${label(olds)}`, "a snapshot cannot be changed in place");
  },

  async delete(host, olds) {
    return olds.method === "chain" ? deleteChain(host, olds) : removeSnapshotLv(host, olds);
  },
};

/** From one read: the VG and every LV (the disk, and the names its snapshots take). */
function inspect(host: HostSession, inputs: SnapshotInputs, lvm: HostLvm): Found {
  const operation = `snapshot ${label(inputs)}`;
  const vg = lvm.vgs.find((v) => v.name === inputs.volumeGroup);
  if (!vg) throw refusal(host, operation, `volume group ${inputs.volumeGroup} does not exist on this host`);
  const disk = lvm.lvs.find((l) => l.vg === inputs.volumeGroup && l.name === inputs.disk);
  if (!disk) throw refusal(host, operation, `disk ${inputs.volumeGroup}/${inputs.disk} does not exist on this host`);
  if (disk.attr.type === "s" || disk.attr.type === "S") {
    throw refusal(host, operation, `${inputs.volumeGroup}/${inputs.disk} is itself a thick snapshot; snapshot its origin ${disk.origin} instead`);
  }
  return { vg, disk, lvs: lvm.lvs.filter((l) => l.vg === inputs.volumeGroup) };
}

/**
 * auto: thin for a disk on a thin pool, else chain for a qcow2 disk and thick for raw. Chain is refused for a raw
 * disk, and for a thin one (its overlay would be a thick LV); thin is refused for a disk that is not on a thin pool.
 */
function resolveMethod(host: HostSession, inputs: SnapshotInputs, found: Found): ResolvedMethod {
  const format = diskFormatOf(found.disk.name, found.disk.tags);
  const thin = isThinLv(found.disk);
  const disk = `${inputs.volumeGroup}/${inputs.disk}`;
  const operation = `snapshot ${label(inputs)}`;
  if (inputs.method === "chain" && format !== "qcow2") {
    throw refusal(host, operation, `${disk} is a raw disk: a chain snapshot needs a qcow2 disk; use method: "thick"`);
  }
  if (inputs.method === "chain" && thin) {
    throw refusal(host, operation, `${disk} is a thin disk (pool ${found.disk.poolLv}): a chain snapshot would move its current state to a thick overlay; use method: "thin"`);
  }
  if (inputs.method === "thin" && !thin) {
    throw refusal(host, operation, `${disk} is not a thin disk: a thin snapshot needs a disk on a thin pool (a VmDisk with thinPool); use method: "${format === "qcow2" ? "chain" : "thick"}"`);
  }
  const method = inputs.method === "auto" ? (thin ? "thin" : format === "qcow2" ? "chain" : "thick") : inputs.method;
  if (method !== "thick" && inputs.lvName !== undefined) {
    throw refusal(host, operation, `lvName applies only to thick snapshots, and ${disk} gets a ${method} snapshot; set method: "thick" to name its LV`);
  }
  return method;
}
