import { HostCommandError, Script, sh } from "../../command";
import { readHostLvm } from "../../lvm/hostState";
import { LvRow } from "../../lvm/report";
import { measureQcow2, readImageChain } from "../../qemu";
import { HostSession } from "../../resource";
import {
  addOverlay, BrokenChainError, Chain, chainFrom, readChain, lvOrHeir, finishAbsorb, overlayOptions, positionOf,
  removeByCommit, removeByRebase, requireDiskClosed,
} from "../../storage/chain";
import { activateLvs, makeLv } from "../../storage/hostChecks";
import { absorbsTag, describePending, heirOf, Pending, pendingOf, snapshottingTag } from "../../storage/journal";
import { chainSnapshotPrefix } from "../../storage/naming";
import { roundUpToExtent } from "../../validate";
import { LOCK_TIMEOUT_SECONDS, refusal } from "../common";
import { withQuiesce } from "../quiesce";
import { Found, label } from "./common";
import { SnapshotInputs, SnapshotOutputs } from "./inputs";

/**
 * Proxmox VE 9's snapshot-as-volume-chain: in one locked host operation, rename the disk's LV to the snapshot's
 * name, create an LV under the disk's name sized by `qemu-img measure`, and format it as a qcow2 overlay backed by
 * the snapshot (relative name). Any failing step undoes the earlier ones on the host, so the disk reads as before.
 * A power loss runs no undo: the steps are journaled on the disk's LV (snapshottingTag) from before the rename until
 * the overlay is made, and the next create finishes or undoes them (recoverChainSnapshot).
 * Refused while the disk is open: a running VM would keep writing to the renamed LV.
 */
export async function createChain(host: HostSession, inputs: SnapshotInputs, found: Found, lvName: string): Promise<SnapshotOutputs> {
  const operation = `snapshot ${label(inputs)} (chain)`;
  const vg = inputs.volumeGroup;
  if (found.disk.attr.open) {
    throw refusal(host, operation, `${vg}/${inputs.disk} is open (in use, e.g. by a running VM): a chain snapshot renames the disk's LV under it; stop the VM first, or use method: "thick", which is safe while the disk is in use`);
  }
  const thick = found.lvs.filter((l) => l.origin === inputs.disk).map((l) => l.name);
  if (thick.length > 0) {
    throw refusal(host, operation, `${vg}/${inputs.disk} has thick snapshots (${thick.join(", ")}): a chain snapshot renames their origin; delete them first, or take this snapshot with method: "thick" too`);
  }
  const chain = await readChain(host, vg, inputs.disk);
  if (!chain) throw refusal(host, operation, `${vg}/${inputs.disk} has no readable qcow2 image`);
  const top = chain.links[0].image;
  const options = overlayOptions(top);
  const lvBytes = roundUpToExtent((await measureQcow2(host, top.virtualSizeBytes, options)).fullyAllocatedBytes, found.vg.extentSizeBytes);

  const script = new Script(operation).lock(vg, LOCK_TIMEOUT_SECONDS);
  // lvrename and lvcreate refuse a taken name and too little room themselves (makeLv words their refusals), undone
  // in order; the snapshot's LV is the disk's LV renamed, so its size is known without reading it back.
  requireDiskClosed(script, vg, inputs.disk, `stop what uses it before taking a chain snapshot, or use method: "thick"`);
  const journal = snapshottingTag(inputs.disk, lvName);
  script.run("journal the snapshot", ["lvchange", "--addtag", journal, "--", `${vg}/${inputs.disk}`])
    .undo(["lvchange", "--deltag", journal, "--", `${vg}/${inputs.disk}`]);
  withQuiesce(script, inputs.quiesce, () => {
    makeLv(script, "rename the disk's LV to the snapshot's name", ["lvrename", "--", vg, inputs.disk, lvName], { vg, lv: lvName })
      .undo(["lvrename", "--", vg, lvName, inputs.disk]);
    addOverlay(script, {
      vg, lvName: inputs.disk, backing: lvName, virtualSizeBytes: top.virtualSizeBytes, lvBytes, options,
      tags: found.disk.tags,
    });
  });
  script.run("close the journal entry", ["lvchange", "--deltag", journal, "--", `${vg}/${lvName}`]);
  await host.run(script);
  return {
    ...inputs, method: "chain", lvName, createdAt: new Date().toISOString(), sizeBytes: found.disk.sizeBytes,
    ...(chain.links[1] ? { parent: chain.links[1].lvName } : {}), backingFile: lvName,
  };
}

/**
 * Finishes a cut-off chain snapshot when its overlay was made: a qcow2 image backed by the snapshot that `qemu-img
 * check` finds clean or only leaking clusters (qemu-img create was cut after its last write; the leaks are repaired).
 * A VM may have been started on it since the boot, so it is kept. Otherwise it undoes it: the overlay, missing or
 * not a sound image (cut off mid-way through qemu-img create), holds nothing of anyone's, as nothing can have opened
 * it, and is removed (never while open), and the disk's LV gets its name back. Prints "finished" or "undone".
 */
const RECOVER_SNAPSHOT = sh`outcome=undone
if lvs -- "$vg/$disk" >/dev/null 2>&1; then
  for lv in "$snapshot" "$disk"; do
    [ -b "/dev/$vg/$lv" ] || lvchange --activate y -- "$vg/$lv" >&2
  done
  if command -v udevadm >/dev/null 2>&1; then udevadm settle; fi
  checked=0
  qemu-img check -q -f qcow2 "/dev/$vg/$disk" >&2 || checked=$?
  if { [ "$checked" -eq 0 ] || [ "$checked" -eq 3 ]; } &&
      qemu-img info --output=json -U -f qcow2 "/dev/$vg/$disk" 2>/dev/null | grep -qF "\\"backing-filename\\": \\"$snapshot\\""; then
    outcome=finished
    [ "$checked" -eq 0 ] || qemu-img check -q -r leaks -f qcow2 "/dev/$vg/$disk" >&2
  else
    case "$(lvs --noheadings -o lv_attr -- "$vg/$disk" | tr -d ' ')" in
      ?????o*) __fail "$vg/$disk, the unfinished overlay of a cut-off snapshot, is open; stop what uses it and run again" ;;
    esac
    lvremove --yes -- "$vg/$disk" >&2
  fi
fi
if [ "$outcome" = finished ]; then
  lvchange --deltag "$tag" -- "$vg/$snapshot" >&2
else
  lvrename -- "$vg" "$snapshot" "$disk" >&2
  lvchange --deltag "$tag" -- "$vg/$disk" >&2
fi
echo "$outcome"`;

/**
 * Finishes or undoes a chain snapshot of `inputs.disk` that was cut off between its steps (a power loss; the journal
 * entry is on `lv`), under the VG's lock. Returns the snapshot's outputs when it finished the very snapshot `inputs`
 * asks for; otherwise the caller goes on to take it.
 */
export async function recoverChainSnapshot(host: HostSession, inputs: SnapshotInputs, lvName: string,
  lv: LvRow, pending: Pending & { op: "snapshot" }): Promise<SnapshotOutputs | undefined> {
  const vg = inputs.volumeGroup;
  const tag = snapshottingTag(pending.disk, pending.snapshotLv);
  const script = new Script(`finish the cut-off snapshot ${vg}/${pending.snapshotLv} of ${vg}/${pending.disk}`).lock(vg, LOCK_TIMEOUT_SECONDS);
  if (lv.name === pending.disk) {
    // Cut off before the rename: nothing was changed but the journal entry.
    await host.run(script.run("close the journal entry", ["lvchange", "--deltag", tag, "--", `${vg}/${lv.name}`]));
    return undefined;
  }
  const { sections } = await host.run(script.captureCode("recover", RECOVER_SNAPSHOT, { vg, disk: pending.disk, snapshot: pending.snapshotLv, tag }));
  if (sections.recover.trim() !== "finished" || pending.snapshotLv !== lvName) return undefined;
  const [chain, lvm] = [await readChain(host, vg, inputs.disk), await readHostLvm(host)];
  const snap = lvm.lvs.find((l) => l.vg === vg && l.name === lvName);
  if (!chain || chain.links[1]?.lvName !== lvName || !snap) throw new Error(`${vg}/${lvName} is not in the chain of ${vg}/${inputs.disk} after finishing it`);
  return {
    ...inputs, method: "chain", lvName, createdAt: new Date().toISOString(), sizeBytes: snap.sizeBytes,
    ...(chain.links[2] ? { parent: chain.links[2].lvName } : {}), backingFile: lvName,
  };
}

/**
 * The snapshot as the host has it: gone, in its disk's chain (with its parent), or journaled by an unfinished
 * deletion. A chain that cannot be read is an error naming the LV that is missing, unless the journal explains it.
 */
export async function readChainSnapshot(host: HostSession, olds: SnapshotOutputs): Promise<SnapshotOutputs | undefined> {
  const vg = olds.volumeGroup;
  const [lvm, read] = await Promise.all([
    readHostLvm(host), readImageChain(host, vg, olds.disk, chainSnapshotPrefix(olds.disk)),
  ]);
  const found = lvOrHeir(lvm.lvs, vg, olds.lvName);
  if (!found) return undefined;
  const { lv } = found;
  const pending = pendingOf(lv);
  if (pending) return { ...olds, sizeBytes: lv.sizeBytes, pending: describePending(vg, pending) };
  // The disk's name is free for a moment while an interrupted rollback's fresh overlay waits to take it.
  const diskHeir = lvm.lvs.some((l) => l.vg === vg && l.name === olds.disk) ? undefined : heirOf(lvm.lvs, vg, olds.disk);
  if (diskHeir) return { ...olds, sizeBytes: lv.sizeBytes, pending: describePending(vg, pendingOf(diskHeir)!) };
  let chain: Chain | undefined;
  try {
    chain = read && chainFrom(vg, olds.disk, read);
  } catch (e) {
    const missing = e instanceof BrokenChainError ? e.missing : undefined;
    const heir = missing ? heirOf(lvm.lvs, vg, missing) : undefined;
    if (heir) return { ...olds, sizeBytes: lv.sizeBytes, pending: describePending(vg, pendingOf(heir)!) };
    throw e;
  }
  const at = chain && positionOf(chain, olds.lvName);
  if (!chain || !at) {
    throw new Error(`${vg}/${olds.lvName} exists but is not in the volume chain of ${vg}/${olds.disk}; pulumi-lvm will not guess how it got there: check it with qemu-img info --backing-chain /dev/${vg}/${olds.disk}`);
  }
  const { pending: _, ...rest } = olds;
  return {
    ...rest, sizeBytes: lv.sizeBytes, backingFile: chain.links[0].image.backingFile,
    ...(at.parent ? { parent: at.parent.lvName } : { parent: undefined }),
  };
}

/**
 * Deletes a chain snapshot the way Proxmox does (storage/chain.ts says why each order is safe), and finishes
 * what an interrupted deletion journaled. Refused while the disk is open.
 */
export async function deleteChain(host: HostSession, olds: SnapshotOutputs): Promise<void> {
  const operation = `delete snapshot ${label(olds)}`;
  const vg = olds.volumeGroup;
  const lvm = await readHostLvm(host);
  const lv = lvm.lvs.find((l) => l.vg === vg && l.name === olds.lvName);
  const script = new Script(operation).lock(vg, LOCK_TIMEOUT_SECONDS);
  requireDiskClosed(script, vg, lvOrHeir(lvm.lvs, vg, olds.disk)?.lv.name ?? olds.disk,
    "stop the VM before deleting a chain snapshot (its data is merged into the disk's chain)");

  if (!lv) {
    // Gone. If it was renamed to its child's name by an interrupted merge, only the journal entry is left to close.
    const renamed = lvm.lvs.find((l) => l.vg === vg && l.tags.includes(absorbsTag(l.name)));
    if (renamed) await host.run(script.run("close the journal entry", ["lvchange", "--deltag", absorbsTag(renamed.name), "--", `${vg}/${renamed.name}`]));
    return;
  }
  const pending = pendingOf(lv);
  if (pending?.op === "absorb" && !lvm.lvs.some((l) => l.vg === vg && l.name === pending.child)) {
    // The commit finished and the child's LV is gone: only the rename and the journal entry are left.
    await host.run(finishAbsorb(script, vg, lv.name, pending.child, false));
    return;
  }
  const chain = await readChain(host, vg, olds.disk);
  const at = chain && positionOf(chain, olds.lvName);
  if (!chain || !at) {
    if (pending?.op === "delete") {
      // The child was rebased past it already: the snapshot is unreferenced, and journaled for removal.
      await host.run(script.run("remove the snapshot's LV", ["lvremove", "--yes", "--", `${vg}/${olds.lvName}`]));
      return;
    }
    throw refusal(host, operation, `${vg}/${olds.lvName} is not in the volume chain of ${vg}/${olds.disk}; nothing was changed`);
  }
  const lvOf = (name: string): LvRow => {
    const row = lvm.lvs.find((l) => l.vg === vg && l.name === name);
    if (!row) throw new HostCommandError(host.target, operation, "refused", undefined, null, `${vg}/${name} is in the chain but LVM does not list it`);
    return row;
  };
  const progress = `Snapshot ${label(olds)}:`;
  // Every LV of the chain that the steps touch must have a device.
  activateLvs(script, "activate the chain", vg, chain.links.map((l) => l.lvName));
  if (at.parent) {
    await host.run(removeByRebase(script, chain, olds.lvName, at.child.lvName, at.parent.lvName, progress));
    return;
  }
  const child = lvOf(at.child.lvName);
  const snapshot = lvOf(olds.lvName);
  const childSize = at.child.image.virtualSizeBytes;
  const grow = childSize > chain.links[at.index].image.virtualSizeBytes || child.sizeBytes > snapshot.sizeBytes
    ? { lvBytes: Math.max(child.sizeBytes, snapshot.sizeBytes), virtualSizeBytes: childSize }
    : undefined;
  await host.run(removeByCommit(script, chain, snapshot, child, progress, grow));
}
