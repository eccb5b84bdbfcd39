import { isDeepStrictEqual } from "util";
import { Script } from "../../command";
import { deviceUuidArgv, parseLvUuidOfDevice } from "../../lvm/device";
import { readHostLvm } from "../../lvm/hostState";
import { LvRow, parseLvs, reportArgv } from "../../lvm/report";
import { ImageInfo, infoArgv, measureQcow2, parseImageInfo, Preallocation, Qcow2Options, qcow2OptionString, readImageInfo } from "../../qemu";
import { Failure, HostSession, ResourceKind } from "../../resource";
import { Capabilities, requireTool } from "../../ssh";
import { formatBytes, roundUpToExtent } from "../../validate";
import { ACTIVATE, CHECK_FREE, makeLv, REMOVE_IF_TAGGED, REQUIRE_CLOSED, REQUIRE_NEW_LV, WAIT_FOR_DEVICE } from "../../storage/hostChecks";
import { CREATING_TAG } from "../../storage/journal";
import { chainSnapshotPrefix, diskFormatOf, formatTag, snapshotLvName, snapshotTag, userTags } from "../../storage/naming";
import { lvOrHeir } from "../../storage/chain";
import { checkThinPool, findThinPool, isThinLv, poolLimitsOf, thinPoolProblem } from "../../storage/thin";
import { LOCK_TIMEOUT_SECONDS, refusal, resourceId, tagChange } from "../common";
import { REMOVE_SNAPSHOTS, REQUIRE_REMOVABLE, ZERO } from "./host";
import { VmDiskInputs, VmDiskOutputFields, VmDiskOutputs } from "./inputs";

export { VmDiskInputs, VmDiskOutputs } from "./inputs";

const KiB = 1024;

/** The Proxmox VE 9 qcow2-on-LVM layout, used when the host's qemu-img has subclusters (qemu 5.2+). */
const SUBCLUSTER_CLUSTER_SIZE = 128 * KiB;
/** qemu-img's qcow2 cluster size where none is given. */
const QEMU_CLUSTER_SIZE = 64 * KiB;
const DEFAULT_PREALLOCATION: Preallocation = "metadata";

/**
 * qemu-img refuses falloc and full for an image on a block device ("unsupported for this non-regular file"). A thick
 * LV's extents are all allocated already, which is what falloc asks for; full also has qemu write zeros over the
 * data area, which zeroing the LV before `qemu-img create` gives. So both are created with metadata preallocation.
 */
const PREALLOCATION_ON_LV: Record<Preallocation, Preallocation> = { off: "off", metadata: "metadata", falloc: "metadata", full: "metadata" };

export const vmDisk: ResourceKind<VmDiskInputs, VmDiskOutputs> = {
  type: "VmDisk",
  inputs: VmDiskInputs,
  outputs: VmDiskOutputFields,
  replaceOn: ["name", "volumeGroup", "format", "qcow2", "source", "thinPool"],
  stateOnly: ["wipeOnDelete", "deleteSnapshots", "adopt"],
  // qemu-img only for qcow2 disks and imports: checked per operation (capabilitiesFor), so raw disks do without it.
  tools: ["lvm", "flock"],

  checkChange(olds, news): Failure[] {
    const replaced = olds.connection.host !== news.connection.host
      || vmDisk.replaceOn.some((field) => !isDeepStrictEqual(olds[field] ?? null, news[field] ?? null));
    if (replaced || news.size >= olds.size) return []; // a replacement starts afresh
    return [{ property: "size", reason: shrinkRefusal(olds.size, news.size) }];
  },

  id: (inputs) => resourceId(inputs.connection, inputs.volumeGroup, inputs.name),

  async create(host, inputs) {
    const caps = await capabilitiesFor(host, inputs);
    const qcow2 = inputs.format === "qcow2" ? qcow2OptionsFor(inputs, caps) : undefined;
    const found = await inspect(host, inputs, qcow2, inputs.adopt ? { probe: true } : undefined);
    const unfinished = found.lv?.tags.includes(CREATING_TAG) ?? false;
    if (found.lv && !unfinished) {
      if (!inputs.adopt) throw refusal(host, `create disk ${label(inputs)}`, `logical volume ${label(inputs)} already exists; set adopt: true to take it over`);
      return adopt(host, inputs, found);
    }
    if (found.source && found.source.virtualSizeBytes > inputs.size) {
      throw refusal(host, `create disk ${label(inputs)}`, `source image ${inputs.source!.path} has a virtual size of ${formatBytes(found.source.virtualSizeBytes)}, larger than the disk's size ${formatBytes(inputs.size)}; make the disk at least that large`);
    }

    const vars = diskVars(inputs);
    const pool = thinPoolFor(host, `create disk ${label(inputs)}`, inputs, found);
    const tags = [...inputs.tags, formatTag(inputs.format), CREATING_TAG].flatMap((t) => ["--addtag", t]);
    const script = new Script(`create disk ${label(inputs)}`).lock(inputs.volumeGroup, LOCK_TIMEOUT_SECONDS);
    if (unfinished) script.code("remove what a create cut off left", REMOVE_IF_TAGGED, { ...vars, tag: CREATING_TAG });
    const nameVars = { ...vars, exists_hint: "; set adopt: true to take it over" };
    if (pool) {
      // A thin LV takes no room up front: the pool's guards stand in for the free-space check. A new thin LV reads as
      // zeros (unwritten blocks are unmapped), so there is nothing to zero; -Wy still clears any signature it shows.
      script.code("check the name is free", REQUIRE_NEW_LV, nameVars);
      checkThinPool(script, { vg: inputs.volumeGroup, pool: pool.name, limits: poolLimitsOf(pool.tags), fill: true,
        what: `a new thin disk ${inputs.name} (${formatBytes(found.lvBytes)})`, addingBytes: found.lvBytes })
        .run("lvcreate", ["lvcreate", "--yes", "-Wy", "-V", `${found.lvBytes}b`, "--thinpool", `${inputs.volumeGroup}/${pool.name}`,
          "-n", inputs.name, ...tags, "--", inputs.volumeGroup]);
    } else {
      // lvcreate itself refuses a taken name and too little room (makeLv words its refusals as the checks would).
      // -Wy -Zy: a new disk must not show a former LV's signatures (an old PV label, a qcow2 header) to the host.
      makeLv(script, "lvcreate", ["lvcreate", "--yes", "-Wy", "-Zy", "-L", `${found.lvBytes}b`, "-n", inputs.name, ...tags, "--", inputs.volumeGroup],
        { ...nameVars, ...freeSpaceVars(found.lvBytes, `disk ${inputs.name}`) });
    }
    script.undo(["lvremove", "--yes", "--", `${inputs.volumeGroup}/${inputs.name}`])
      .code("wait for the device", WAIT_FOR_DEVICE, vars);
    if (qcow2) {
      if (inputs.qcow2?.preallocation === "full") zeroDevice(script, caps, inputs);
      script.run("qemu-img create", ["qemu-img", "create", "-q", "-f", "qcow2", "-o", qcow2OptionString(qcow2),
        vars.dev, String(inputs.size)]);
    }
    if (inputs.source && found.source) {
      // `-t writeback`: convert's default output cache mode is "unsafe", which never flushes; the create is declared
      // done (its journal tag removed) only once the imported data is on the disk, not in the page cache, so a power
      // loss after it cannot leave a finished disk with its content lost.
      script.runWithProgress("qemu-img convert", ["qemu-img", "convert", "-p", "-n", "-t", "writeback", "-f", found.source.format,
        "-O", inputs.format, inputs.source.path, vars.dev], { text: `${progressOf(inputs)} importing ${inputs.source.path}`, format: "qemu-img" });
    }
    script.run("finish the create", ["lvchange", "--deltag", CREATING_TAG, "--", label(inputs)]);
    // A thin disk's outputs include what its pool reports (allocation): read back as after an update. Of a thick disk
    // only the uuid is not known already, read from the kernel (an lvs costs a slow host half a second in the lock).
    if (pool) return outputsFrom(inputs, (await host.run(withState(script, inputs))).sections);
    const { sections } = await host.run(script.capture("uuid", deviceUuidArgv(vars.dev)));
    return createdOutputs(inputs, found.lvBytes, parseLvUuidOfDevice(sections.uuid), qcow2);
  },

  /**
   * An unconfirmed create (glue/unconfirmed.ts) made the disk if its LV is there without the `creating` tag: adopt
   * checks it is exactly the disk asked for. A tagged one is removed and made again, as by any create.
   */
  async finishCreate(host, inputs) {
    return { ...(await vmDisk.create(host, { ...inputs, adopt: true })), adopt: inputs.adopt };
  },

  async read(host, olds) {
    const [lvm, image] = await Promise.all([
      readHostLvm(host),
      olds.format === "qcow2" ? readImageInfo(host, devicePath(olds), "qcow2") : undefined,
    ]);
    // While an interrupted snapshot deletion leaves the disk's name to be taken back (storage/journal.ts), the disk
    // is the LV journaled to take it: it exists, and the next operation on its chain finishes the rename.
    const lv = lvOrHeir(lvm.lvs, olds.volumeGroup, olds.name)?.lv;
    if (!lv) return undefined;
    // An inactive LV has no device to read the image from: keep what was last seen.
    const seen = image ?? (olds.format === "qcow2" ? lastSeenImage(olds) : undefined);
    return describe(olds, lv, seen);
  },

  /** `vg/lv`: the format from its tag or name (as inspect tells them), the size a VM sees, its pool if thin. */
  async importFrom(host, path, connection) {
    const [volumeGroup, name] = path.split("/");
    const lv = (await readHostLvm(host)).lvs.find((l) => l.vg === volumeGroup && l.name === name);
    if (!lv) return undefined;
    const seed = VmDiskInputs.parse({
      connection, volumeGroup, name, size: lv.sizeBytes, format: diskFormatOf(lv.name, lv.tags), tags: userTags(lv.tags),
      ...(isThinLv(lv) ? { thinPool: lv.poolLv } : {}),
    });
    const found = await vmDisk.read(host, seed as VmDiskOutputs);
    return found && { ...found, size: found.virtualSizeBytes };
  },

  async update(host, olds, news) {
    const operation = `update disk ${label(news)}`;
    if (news.size < olds.size) throw refusal(host, operation, shrinkRefusal(olds.size, news.size));
    const vars = diskVars(news);
    const script = new Script(operation).lock(news.volumeGroup, LOCK_TIMEOUT_SECONDS);

    if (news.size !== olds.size) {
      const caps = await capabilitiesFor(host, news);
      const qcow2 = news.format === "qcow2" ? { ...qcow2OptionsFor(news, caps), ...imageOptionsOf(olds) } : undefined;
      const found = await inspect(host, news, qcow2, qcow2 ? { format: "qcow2" } : undefined);
      if (!found.lv) throw refusal(host, operation, `logical volume ${label(news)} does not exist (removed outside Pulumi?); run pulumi refresh`);
      if (qcow2 && !found.existing) throw refusal(host, operation, `${label(news)} is not active, so its image cannot be resized; activate it (lvchange -ay) first`);
      const extendLv = found.lvBytes > found.lv.sizeBytes;
      const resizeImage = qcow2 !== undefined && found.existing!.virtualSizeBytes < news.size;
      if (extendLv || resizeImage) {
        script.code("check the disk is not in use", REQUIRE_CLOSED, { ...vars, what: "stop what uses it before growing the disk" });
      }
      if (extendLv && found.lv.attr.type === "o" && found.lv.attr.active) {
        // LVM refuses it half-way into the script ("Snapshot origin volumes can be resized only while inactive").
        const thick = found.lvs.filter((l) => l.origin === news.name).map((l) => l.name).join(", ");
        throw refusal(host, operation, `${label(news)} has thick snapshots (${thick}): LVM grows the origin of a thick snapshot only ` +
          `while it is inactive; delete the snapshots first, or deactivate the disk (lvchange -an) and run pulumi up again; nothing was changed`);
      }
      if (extendLv) {
        const growth = found.lvBytes - found.lv.sizeBytes;
        const pool = thinPoolFor(host, operation, news, found);
        // A thin disk grows its virtual size only: the pool's over-commit limit stands in for the free-space check.
        if (pool) {
          checkThinPool(script, { vg: news.volumeGroup, pool: pool.name, limits: poolLimitsOf(pool.tags), fill: false,
            what: `growing thin disk ${news.name} by ${formatBytes(growth)}`, addingBytes: growth });
        } else {
          script.code("check free space", CHECK_FREE, { ...vars, ...freeSpaceVars(growth, `growing disk ${news.name}`) });
        }
        // No undo: a grown LV is harmless, while shrinking one back could cut data.
        script.run("lvextend", ["lvextend", "--yes", "-L", `${found.lvBytes}b`, "--", `${news.volumeGroup}/${news.name}`]);
      }
      if (resizeImage) {
        script.code("wait for the device", WAIT_FOR_DEVICE, vars)
          .run("qemu-img resize", ["qemu-img", "resize", "-q", "-f", "qcow2", `--preallocation=${qcow2!.preallocation}`,
            vars.dev, String(news.size)]);
      }
    }

    const tags = tagChange("lvchange", label(news), olds.tags, news.tags);
    if (tags) script.run("update tags", tags);
    return outputsFrom(news, (await host.run(withState(script, news))).sections);
  },

  async delete(host, olds) {
    const vars = { ...diskVars(olds), chain_prefix: chainSnapshotPrefix(olds.name),
      snapshot_lv_prefix: snapshotLvName(olds.name, "", "thin"), snapshot_tag: snapshotTag("") };
    const script = new Script(`delete disk ${label(olds)}`)
      .lock(olds.volumeGroup, LOCK_TIMEOUT_SECONDS)
      .code("check the disk can be removed", REQUIRE_REMOVABLE, { ...vars, what: "stop what uses it before deleting the disk",
        remove_snapshots: olds.deleteSnapshots ? "1" : "" });
    if (olds.deleteSnapshots) script.code("remove its snapshots with it", REMOVE_SNAPSHOTS);
    if (olds.wipeOnDelete) zeroDevice(script.code("activate the disk", ACTIVATE, vars), await host.capabilities(), olds);
    await host.run(script.run("remove the logical volume", ["lvremove", "--yes", "--", label(olds)]));
  },
};

/** Writes zeros over the disk's whole LV: blkdiscard --zeroout where installed (the kernel offloads it), else dd. */
function zeroDevice(script: Script, caps: Capabilities, disk: VmDiskInputs): Script {
  return script.code("zero the disk", ZERO, { dev: devicePath(disk), blkdiscard: caps.tools.blkdiscard ? "1" : "",
    progress: `${progressOf(disk)} writing zeros over the disk` });
}

/** The qcow2 options a disk is created with: the inputs, else the Proxmox layout where qemu-img supports it. */
function qcow2OptionsFor(inputs: VmDiskInputs, caps: Capabilities): Qcow2Options {
  const asked = inputs.qcow2 ?? {};
  if (asked.extendedL2 && !caps.qcow2ExtendedL2) {
    throw new Error(`qemu-img ${caps.qemuImgVersion ?? ""} on ${caps.target} does not support qcow2 extended_l2 (qemu 5.2 or later does); set qcow2.extendedL2: false`);
  }
  const extendedL2 = asked.extendedL2 ?? caps.qcow2ExtendedL2;
  return {
    clusterSizeBytes: asked.clusterSize ?? (extendedL2 ? SUBCLUSTER_CLUSTER_SIZE : undefined),
    extendedL2,
    preallocation: PREALLOCATION_ON_LV[asked.preallocation ?? DEFAULT_PREALLOCATION],
  };
}

/** The layout an existing image was created with, as recorded from qemu-img info (measuring a grow must match it). */
function imageOptionsOf(disk: VmDiskOutputs): Partial<Qcow2Options> {
  return {
    ...(disk.clusterSizeBytes !== undefined ? { clusterSizeBytes: disk.clusterSizeBytes } : {}),
    ...(disk.extendedL2 !== undefined ? { extendedL2: disk.extendedL2 } : {}),
  };
}

/** The host's capabilities, after checking it has qemu-img if this disk needs it. */
async function capabilitiesFor(host: HostSession, inputs: VmDiskInputs): Promise<Capabilities> {
  const caps = await host.capabilities();
  if (inputs.format === "qcow2" || inputs.source) requireTool(caps, "qemu-img");
  return caps;
}

interface Inspection {
  /** The LV the disk needs, in whole extents. */
  lvBytes: number;
  /** The LV of this name, if it exists. */
  lv?: LvRow;
  /** Every LV of the VG (the thin pool, and its guards on its tags, among them). */
  lvs: LvRow[];
  /** qemu-img info of the existing LV's image (when asked for and the LV is active) and of the source image. */
  existing?: ImageInfo;
  source?: ImageInfo;
}

/**
 * The reads before a create or grow, batched with every other read of the host in the same turn (command/batch.ts),
 * so disks created at once share one round trip: the host's LVM state, qemu-img's measure of the qcow2 size, and the
 * existing LV's image (read as `existing.format`, or probed). A `source` image is read on its own (a file, not an
 * LV; a failure there is the create's). Its facts are checked here, in TypeScript; the locked script that follows
 * re-checks on the host only what another operation could change meanwhile (the name, the free space, the open flag).
 */
async function inspect(host: HostSession, inputs: VmDiskInputs, qcow2: Qcow2Options | undefined,
  existing?: { format: string } | { probe: true }): Promise<Inspection> {
  const [lvm, measure, existingImage, source] = await Promise.all([
    readHostLvm(host),
    qcow2 ? measureQcow2(host, inputs.size, qcow2) : undefined,
    existing ? readImageInfo(host, devicePath(inputs), "format" in existing ? existing.format : "") : undefined,
    inputs.source ? readSourceImage(host, inputs, inputs.source) : undefined,
  ]);
  const vg = lvm.vgs.find((v) => v.name === inputs.volumeGroup);
  if (!vg) throw refusal(host, `inspect disk ${label(inputs)}`, `volume group ${inputs.volumeGroup} does not exist on this host`);
  const lvs = lvm.lvs.filter((l) => l.vg === inputs.volumeGroup);
  return {
    lvBytes: roundUpToExtent(measure ? measure.fullyAllocatedBytes : inputs.size, vg.extentSizeBytes),
    lv: findLv(lvs, inputs),
    lvs,
    existing: existingImage,
    source,
  };
}

async function readSourceImage(host: HostSession, inputs: VmDiskInputs, source: NonNullable<VmDiskInputs["source"]>): Promise<ImageInfo> {
  const { sections } = await host.run(new Script(`inspect the source image of disk ${label(inputs)}`)
    .capture("inspect source image", infoArgv(source.path, { format: source.format })));
  return parseImageInfo(sections["inspect source image"]);
}

/** Takes over an existing LV when its format and size are what the inputs ask for; nothing changes otherwise. */
async function adopt(host: HostSession, inputs: VmDiskInputs, found: Inspection): Promise<VmDiskOutputs> {
  const operation = `adopt disk ${label(inputs)}`;
  const lv = found.lv!;
  if (!found.existing) throw refusal(host, operation, `${label(inputs)} is not active, so its content cannot be inspected; activate it (lvchange -ay) first; nothing was changed`);
  const image = found.existing;
  const problems: string[] = [];
  if (inputs.thinPool !== undefined && lv.poolLv !== inputs.thinPool) {
    problems.push(isThinLv(lv) ? `it is a thin LV of pool ${lv.poolLv}, not ${inputs.thinPool}` : `it is not a thin LV (of pool ${inputs.thinPool})`);
  } else if (inputs.thinPool === undefined && isThinLv(lv)) {
    problems.push(`it is a thin LV of pool ${lv.poolLv}; set thinPool: "${lv.poolLv}"`);
  }
  if (image.format !== inputs.format) problems.push(`it holds a ${image.format} image, not ${inputs.format}`);
  else if (inputs.format === "qcow2") {
    if (image.virtualSizeBytes !== inputs.size) problems.push(`its virtual size is ${formatBytes(image.virtualSizeBytes)}, not ${formatBytes(inputs.size)}`);
    if (lv.sizeBytes < found.lvBytes) problems.push(`the LV (${formatBytes(lv.sizeBytes)}) is smaller than a fully allocated image needs (${formatBytes(found.lvBytes)})`);
    const asked = inputs.qcow2 ?? {};
    if (asked.clusterSize !== undefined && asked.clusterSize !== image.clusterSizeBytes) problems.push(`its cluster size is ${formatBytes(image.clusterSizeBytes ?? 0)}, not ${formatBytes(asked.clusterSize)}`);
    if (asked.extendedL2 !== undefined && asked.extendedL2 !== image.extendedL2) problems.push(`its extended_l2 is ${image.extendedL2 ? "on" : "off"}`);
  } else if (lv.sizeBytes !== found.lvBytes) {
    problems.push(`its size is ${formatBytes(lv.sizeBytes)}, not ${formatBytes(found.lvBytes)}`);
  }
  if (problems.length > 0) throw refusal(host, operation, `${label(inputs)} exists but ${problems.join("; ")}; nothing was changed`);

  const adopted = describe(inputs, lv, inputs.format === "qcow2" ? image : undefined);
  if (adopted.tags.join() === inputs.tags.join()) return adopted;
  return vmDisk.update(host, { ...adopted, tags: userTags(lv.tags) }, inputs);
}

/** The disk's thin pool as the inspection found it (refused when missing or not a pool); undefined for a thick disk. */
function thinPoolFor(host: HostSession, operation: string, inputs: VmDiskInputs, found: Inspection): LvRow | undefined {
  if (inputs.thinPool === undefined) return undefined;
  const problem = thinPoolProblem(found.lvs, inputs.volumeGroup, inputs.thinPool);
  if (problem) throw refusal(host, operation, problem);
  return findThinPool(found.lvs, inputs.volumeGroup, inputs.thinPool);
}

function shrinkRefusal(from: number, to: number): string {
  return `shrinking destroys data: size ${formatBytes(from)} -> ${formatBytes(to)}; a disk can only grow (to make it smaller, copy its data to a new disk)`;
}

const label = (disk: VmDiskInputs) => `${disk.volumeGroup}/${disk.name}`;
/** How the disk's progress lines start, as DiskExport's do: `VmDisk <vg>/<name>:`. */
const progressOf = (disk: VmDiskInputs) => `VmDisk ${label(disk)}:`;
const devicePath = (disk: VmDiskInputs) => `/dev/${disk.volumeGroup}/${disk.name}`;
const diskVars = (disk: VmDiskInputs) => ({ vg: disk.volumeGroup, lv: disk.name, dev: devicePath(disk) });
const freeSpaceVars = (bytes: number, what: string) => ({ need: String(bytes), need_text: formatBytes(bytes), what });
const findLv = (lvs: LvRow[], disk: VmDiskInputs) => lvs.find((l) => l.vg === disk.volumeGroup && l.name === disk.name);

function lastSeenImage(disk: VmDiskOutputs): ImageInfo {
  return { format: disk.format, virtualSizeBytes: disk.virtualSizeBytes, ...imageOptionsOf(disk) };
}

/** Appends what the outputs are made of: the LV as LVM reports it and, for qcow2, the image as qemu-img reads it. */
function withState(script: Script, disk: VmDiskInputs): Script {
  script.capture("lvs", reportArgv("lv"));
  return disk.format === "qcow2" ? script.capture("image", infoArgv(devicePath(disk), { format: "qcow2", shared: true })) : script;
}

function outputsFrom(inputs: VmDiskInputs, sections: Record<string, string>): VmDiskOutputs {
  const lv = findLv(parseLvs(sections.lvs), inputs);
  if (!lv) throw new Error(`logical volume ${label(inputs)} is missing after the operation`);
  return describe(inputs, lv, inputs.format === "qcow2" ? parseImageInfo(sections.image) : undefined);
}

/**
 * The outputs of a thick disk just made as `inputs` asks: an active LV of `lvBytes` with the inputs' tags, unopened,
 * holding (qcow2) an image of the inputs' size made with `qcow2` (a convert into it with -n keeps its size and layout).
 */
function createdOutputs(inputs: VmDiskInputs, lvBytes: number, uuid: string, qcow2: Qcow2Options | undefined): VmDiskOutputs {
  return {
    ...inputs,
    path: devicePath(inputs),
    lvName: inputs.name,
    uuid,
    lvSizeBytes: lvBytes,
    virtualSizeBytes: qcow2 ? inputs.size : lvBytes,
    active: true,
    open: false,
    ...(qcow2 ? { clusterSizeBytes: qcow2.clusterSizeBytes ?? QEMU_CLUSTER_SIZE, extendedL2: qcow2.extendedL2 } : {}),
  };
}

/** The outputs: the inputs, with the LV (and the qcow2 image in it) as the host reports them. */
function describe(inputs: VmDiskInputs, lv: LvRow, image: ImageInfo | undefined): VmDiskOutputs {
  return {
    ...inputs,
    tags: userTags(lv.tags).sort(),
    path: devicePath(inputs),
    lvName: lv.name,
    uuid: lv.uuid,
    lvSizeBytes: lv.sizeBytes,
    virtualSizeBytes: image?.virtualSizeBytes ?? lv.sizeBytes,
    active: lv.attr.active,
    open: lv.attr.open,
    ...(image?.clusterSizeBytes !== undefined ? { clusterSizeBytes: image.clusterSizeBytes } : {}),
    ...(image?.extendedL2 !== undefined ? { extendedL2: image.extendedL2 } : {}),
    ...(isThinLv(lv) && lv.dataPercent !== undefined ? { allocatedPercent: lv.dataPercent } : {}),
  };
}
