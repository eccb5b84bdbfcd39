import { Script, sh } from "../command";
import { LvRow } from "../lvm/report";
import { ChainImage, ChainRead, Qcow2Options, qcow2OptionString, readImageChain } from "../qemu";
import { HostSession } from "../resource";
import { makeLv, REQUIRE_CLOSED, WAIT_FOR_DEVICE } from "./hostChecks";
import { formatBytes } from "../validate";
import { absorbsTag, DELETING_TAG, heirOf } from "./journal";
import { chainSnapshotPrefix } from "./naming";

/**
 * Proxmox VE 9's qcow2 volume chains on thick LVs. A snapshot renames the disk's LV to the snapshot's name and puts
 * a fresh qcow2 overlay, backed by it, under the disk's name; so the disk keeps its name and path, and each snapshot
 * LV is a frozen state that the newer ones read through. Everything that walks or changes a chain lives here.
 */

/** One LV of a chain and the qcow2 image on it. */
export interface ChainLink {
  lvName: string;
  image: ChainImage;
}

/** A qcow2 disk's chain: `links[0]` is the disk's current image, then its snapshots, newest to oldest. */
export interface Chain {
  vg: string;
  disk: string;
  links: ChainLink[];
}

/** A chain with an image that cannot be opened: reported with the LV it names, never guessed around. */
export class BrokenChainError extends Error {
  constructor(readonly vg: string, readonly disk: string, readonly missing: string | undefined, detail: string) {
    super(missing
      ? `the volume chain of ${vg}/${disk} is broken: ${missing} cannot be opened (missing backing LV?): ${detail}`
      : `the volume chain of ${vg}/${disk} cannot be read: ${detail}`);
  }
}

/** The chain model from what readImageChain returned; throws BrokenChainError for an unreadable chain. */
export function chainFrom(vg: string, disk: string, read: ChainRead): Chain {
  if ("unreadable" in read) {
    const missing = read.missing?.startsWith(`/dev/${vg}/`) ? read.missing.slice(`/dev/${vg}/`.length) : read.missing;
    throw new BrokenChainError(vg, disk, missing, read.unreadable);
  }
  const links = read.images.map((image) => {
    if (!image.filename.startsWith(`/dev/${vg}/`)) {
      throw new BrokenChainError(vg, disk, undefined, `${image.filename} is outside volume group ${vg}; pulumi-lvm manages chains within one VG`);
    }
    return { lvName: image.filename.slice(`/dev/${vg}/`.length), image };
  });
  return { vg, disk, links };
}

/** The disk's chain as the host has it now (activating its LVs if needed); undefined when the disk is gone. */
export async function readChain(host: HostSession, vg: string, disk: string): Promise<Chain | undefined> {
  const read = await readImageChain(host, vg, disk, chainSnapshotPrefix(disk));
  return read && chainFrom(vg, disk, read);
}

/** Where a snapshot LV stands in a chain: its index, the newer image reading through it, and the older one. */
export function positionOf(chain: Chain, lvName: string): { index: number; child: ChainLink; parent?: ChainLink } | undefined {
  const index = chain.links.findIndex((l) => l.lvName === lvName);
  if (index < 1) return undefined; // index 0 is the disk itself
  return { index, child: chain.links[index - 1], parent: chain.links[index + 1] };
}

/**
 * The layout of a new overlay: the cluster size and subclusters of the image it continues (so a chain stays one
 * layout, and growing the disk later measures right), with metadata preallocation where qemu allows it on a backed
 * image (only with extended_l2). For a disk made with the defaults this is Proxmox's
 * `cluster_size=131072,extended_l2=on,preallocation=metadata`.
 */
export function overlayOptions(base: ChainImage): Qcow2Options {
  return {
    ...(base.clusterSizeBytes !== undefined ? { clusterSizeBytes: base.clusterSizeBytes } : {}),
    extendedL2: base.extendedL2 ?? false,
    preallocation: base.extendedL2 ? "metadata" : "off",
  };
}

export interface NewOverlay {
  vg: string;
  /** The LV to create. */
  lvName: string;
  /** The LV it is backed by, written relative (same VG), as Proxmox writes it, so the VG can be renamed. */
  backing: string;
  virtualSizeBytes: number;
  lvBytes: number;
  options: Qcow2Options;
  tags: readonly string[];
}

/** Adds the steps that create an overlay LV and format it; the LV is removed again if a later step fails. */
export function addOverlay(script: Script, o: NewOverlay): Script {
  const dev = `/dev/${o.vg}/${o.lvName}`;
  // lvcreate itself refuses a taken name and too little room, worded as the checks would (makeLv).
  return makeLv(script, "lvcreate the overlay", ["lvcreate", "--yes", "-Wy", "-Zy", "-L", `${o.lvBytes}b`, "-n", o.lvName,
    ...o.tags.flatMap((t) => ["--addtag", t]), "--", o.vg],
  { vg: o.vg, lv: o.lvName, need: String(o.lvBytes), need_text: formatBytes(o.lvBytes), what: `the new overlay of ${o.lvName}` })
    .undo(["lvremove", "--yes", "--", `${o.vg}/${o.lvName}`])
    .code("wait for the overlay's device", WAIT_FOR_DEVICE, { dev })
    .run("qemu-img create the overlay", ["qemu-img", "create", "-q", "-f", "qcow2", "-b", o.backing, "-F", "qcow2",
      "-o", qcow2OptionString(o.options), dev, String(o.virtualSizeBytes)]);
}

/**
 * Refuses unless the image on $dev is still backed by $backing: the plan was made from a read before the lock was
 * taken, and another operation may have changed the chain since. (A guard, not a parser: qemu-img's JSON prints
 * the field as "backing-filename": "<name>".)
 */
const REQUIRE_BACKING = sh`if ! qemu-img info --output=json -U -f qcow2 "$dev" 2>/dev/null | grep -qF "\\"backing-filename\\": \\"$backing\\""; then
  __fail "the volume chain changed since it was read: $dev is no longer backed by $backing; run pulumi refresh and try again"
fi`;

/** Adds a check, run under the lock, that the image on `lv` is still backed by `backing`. */
export function requireBacking(script: Script, vg: string, lv: string, backing: string): Script {
  return script.code("check the chain is as read", REQUIRE_BACKING, { dev: `/dev/${vg}/${lv}`, backing });
}

export function requireDiskClosed(script: Script, vg: string, disk: string, what: string): Script {
  return script.code("check the disk is not in use", REQUIRE_CLOSED, { vg, lv: disk, what });
}

/**
 * Removes a chain snapshot that has an older one (`parent`) below it (`progress` starts its progress lines), the way
 * Proxmox does: a safe
 * `qemu-img rebase` of its child onto the parent copies into the child what the child read through the snapshot,
 * then the snapshot's LV is removed.
 *
 * Why this order is safe at every point: the snapshot is journaled `deleting` first. The rebase only writes into
 * the child clusters it does not have, with exactly the data it already read through the snapshot, and switches
 * its backing file last; so the child's content never changes, and the snapshot itself is never written. A crash
 * before the switch leaves the old chain intact (the next run rebases again); after it, the snapshot is an
 * unreferenced but intact LV that the journal tag marks for removal.
 */
export function removeByRebase(script: Script, chain: Chain, snapshot: string, child: string, parent: string,
  progress: string): Script {
  const vg = chain.vg;
  const dev = `/dev/${vg}/${child}`;
  requireBacking(script, vg, child, snapshot);
  return script
    .run("journal the deletion", ["lvchange", "--addtag", DELETING_TAG, "--", `${vg}/${snapshot}`])
    .runWithProgress("qemu-img rebase the child onto the parent", ["qemu-img", "rebase", "-p", "-f", "qcow2", "-F", "qcow2", "-b", parent, dev],
      { text: `${progress} copying its data into ${child}`, format: "qemu-img" })
    .run("remove the snapshot's LV", ["lvremove", "--yes", "--", `${vg}/${snapshot}`]);
}

/**
 * Removes the oldest snapshot of a chain (no parent; `progress` starts its progress lines), the way Proxmox does: the
 * snapshot absorbs its child
 * (`qemu-img commit` of the child into it), the child's LV is removed, and the snapshot's LV takes the child's name
 * (and its tags), so every newer image still finds its backing file by name.
 *
 * Why this order is safe at every point: the snapshot is journaled `absorbs=<child>` before anything else, since
 * from the first write its own state is being replaced by the child's. The commit writes into the snapshot exactly
 * the clusters the child has, so the child reads the same throughout, and so does everything above it. Once the
 * commit is done the snapshot holds the child's state, so removing the child loses nothing; until the rename, the
 * child's name is held by no LV, and the journal says which LV is to take it (heirOf). A grow of the snapshot first,
 * for a child that was grown after the snapshot (Proxmox bug #7094: a commit into a too-small base), happens after
 * the journal entry, as it changes the snapshot's own state too.
 */
export function removeByCommit(script: Script, chain: Chain, snapshot: LvRow, child: LvRow, progress: string,
  grow?: { lvBytes: number; virtualSizeBytes: number }): Script {
  const vg = chain.vg;
  const childDev = `/dev/${vg}/${child.name}`;
  const snapDev = `/dev/${vg}/${snapshot.name}`;
  const addTags = [absorbsTag(child.name), ...child.tags.filter((t) => !snapshot.tags.includes(t))];
  const delTags = snapshot.tags.filter((t) => !child.tags.includes(t) && t !== absorbsTag(child.name));
  requireBacking(script, vg, child.name, snapshot.name)
    .run("journal the merge", ["lvchange", ...addTags.flatMap((t) => ["--addtag", t]),
      ...delTags.flatMap((t) => ["--deltag", t]), "--", `${vg}/${snapshot.name}`]);
  if (grow) {
    if (grow.lvBytes > snapshot.sizeBytes) script.run("grow the snapshot's LV", ["lvextend", "--yes", "-L", `${grow.lvBytes}b`, "--", `${vg}/${snapshot.name}`]);
    script.code("wait for the device", WAIT_FOR_DEVICE, { dev: snapDev })
      .run("qemu-img resize the snapshot", ["qemu-img", "resize", "-q", "-f", "qcow2",
        ...(chain.links.find((l) => l.lvName === snapshot.name)?.image.extendedL2 ? ["--preallocation=metadata"] : []),
        snapDev, String(grow.virtualSizeBytes)]);
  }
  script.runWithProgress("qemu-img commit the child into the snapshot", ["qemu-img", "commit", "-p", "-f", "qcow2", childDev],
    { text: `${progress} merging ${child.name} into it`, format: "qemu-img" });
  return finishAbsorb(script, vg, snapshot.name, child.name, true);
}

/** The steps after a commit: remove the absorbed child (if still there), rename, close the journal entry. */
export function finishAbsorb(script: Script, vg: string, heir: string, child: string, childExists: boolean): Script {
  if (childExists) script.run("remove the absorbed child's LV", ["lvremove", "--yes", "--", `${vg}/${child}`]);
  if (heir !== child) script.run("rename the snapshot to the child's name", ["lvrename", "--", vg, heir, child]);
  return script.run("close the journal entry", ["lvchange", "--deltag", absorbsTag(child), "--", `${vg}/${child}`]);
}

/**
 * The LV called `name` (a disk or a chain snapshot), or the LV journaled to take that name when an interrupted merge
 * left the name free for a moment: the object still exists, under the heir's name until the next run renames it.
 */
export function lvOrHeir(lvs: readonly LvRow[], vg: string, name: string): { lv: LvRow; heir: boolean } | undefined {
  const lv = lvs.find((l) => l.vg === vg && l.name === name);
  if (lv) return { lv, heir: false };
  const heir = heirOf(lvs, vg, name);
  return heir ? { lv: heir, heir: true } : undefined;
}
