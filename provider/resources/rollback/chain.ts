import { Script } from "../../command";
import { LvRow, VgRow } from "../../lvm/report";
import { measureQcow2 } from "../../qemu";
import { HostSession } from "../../resource";
import { addOverlay, overlayOptions, positionOf, readChain, requireBacking, requireDiskClosed } from "../../storage/chain";
import { activateLvs, CHECK_FREE, formatFreeVars } from "../../storage/hostChecks";
import { chainSnapshotId } from "../../storage/naming";
import { FoundSnapshot } from "../../storage/snapshots";
import { formatBytes, roundUpToExtent } from "../../validate";
import { LOCK_TIMEOUT_SECONDS, refusal } from "../common";
import { withQuiesce } from "../quiesce";
import { label, RollbackInputs, RollbackOutputs } from "./inputs";
import { refuseThickSnapshots, replaceDiskLv } from "./replace";

/**
 * Rolls a qcow2 disk back to its newest chain snapshot: the disk's current overlay is dropped and a fresh, empty one
 * backed by the snapshot takes its place, made exactly as a chain snapshot makes it (sized by `qemu-img measure`,
 * relative backing name, the same layout, the disk's tags and current virtual size). The snapshot stays as it is,
 * so the same state can be restored any number of times. Only the newest snapshot can be the target: an older one
 * is what its newer snapshots read through (Proxmox refuses the same way).
 *
 * The fresh overlay replaces the old one as replace.ts does it: built and journaled first, the old one removed
 * last (refresh keeps the disk present meanwhile).
 */
export async function rollbackChain(host: HostSession, inputs: RollbackInputs, vg: VgRow, disk: LvRow, lvs: LvRow[], snap: FoundSnapshot): Promise<RollbackOutputs> {
  const operation = `roll back ${label(inputs)}`;
  const name = inputs.volumeGroup;
  const chain = await readChain(host, name, inputs.disk);
  const at = chain && positionOf(chain, snap.lvName);
  if (!chain || !at) throw refusal(host, operation, `${name}/${snap.lvName} is not in the volume chain of ${name}/${inputs.disk}; nothing was changed`);
  if (at.index > 1) {
    const newer = chain.links.slice(1, at.index).map((l) => chainSnapshotId(l.lvName, inputs.disk) ?? l.lvName);
    throw refusal(host, operation, `${label(inputs)} is not the newest snapshot of the disk: the newer snapshot${newer.length > 1 ? "s" : ""} ${newer.join(", ")} read${newer.length > 1 ? "" : "s"} through it; delete ${newer.length > 1 ? "them" : "it"} first (newest first) to roll back to ${inputs.snapshot}`);
  }
  refuseThickSnapshots(host, operation, name, inputs.disk, lvs);

  const current = chain.links[0].image;
  const options = overlayOptions(current);
  const lvBytes = roundUpToExtent((await measureQcow2(host, current.virtualSizeBytes, options)).fullyAllocatedBytes, vg.extentSizeBytes);

  const script = new Script(operation).lock(name, LOCK_TIMEOUT_SECONDS);
  withQuiesce(script, inputs.quiesce, () => {
    requireDiskClosed(script, name, inputs.disk, "stop the VM first: a rollback replaces the disk's overlay under it");
    requireBacking(script, name, inputs.disk, snap.lvName);
    replaceDiskLv(script, name, inputs.disk, lvs, (fresh, journal) => {
      script.code("check free space", CHECK_FREE, { vg: name, ...formatFreeVars(lvBytes, formatBytes(lvBytes), `the new overlay of ${inputs.disk}`) });
      activateLvs(script, "activate the chain", name, [snap.lvName]);
      addOverlay(script, {
        vg: name, lvName: fresh, backing: snap.lvName, virtualSizeBytes: current.virtualSizeBytes, lvBytes, options,
        tags: [...disk.tags, journal],
      });
    });
  });
  await host.run(script);
  return { ...inputs, method: "chain", snapshotLvName: snap.lvName, rolledBackAt: new Date().toISOString() };
}
