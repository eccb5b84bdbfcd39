import { posix } from "path";
import { batchedReads, Script, sh } from "../../command";
import { LvRow, parseLvs, parseVgs, reportArgv, VgRow } from "../../lvm/report";
import { INFO_IF_PRESENT, parseImageInfo } from "../../qemu";
import { HostSession, ResourceKind } from "../../resource";
import { diskFormatOf, RESERVED_SNAPSHOT_PREFIX, TEMPORARY_TAG } from "../../storage/naming";
import { findSnapshot, isUnfinishedThickSnapshot, snapshotsOf } from "../../storage/snapshots";
import { findThinPool, isThinLv, poolLimitsOf } from "../../storage/thin";
import { resolveSize, SizeOrPercent } from "../../validate";
import { refusal, resourceId } from "../common";
import { FILE_FACTS, HASH_LIB, REMOVE_EXPORT } from "./host";
import { DEFAULT_SNAPSHOT_SIZE, DiskExportInputs, DiskExportOutputFields, DiskExportOutputs, MARKER_SUFFIX, temporaryLvName } from "./inputs";
import { ExportResult, ExportSource, HASH_CHUNK_BYTES, keyValues, runExport, sweepLeftovers } from "./job";
import { Marker, markerHead, parseMarker, sameExport } from "./marker";

export { DiskExportInputs, DiskExportOutputs } from "./inputs";

/**
 * DiskExport: an image file on the host with the content of a disk (through a temporary snapshot, safe while the
 * VM runs) or of one of its snapshots. The copy runs detached on the host (job.ts, host.ts); this file decides what
 * to copy and keeps the resource's view of the file.
 */
export const diskExport: ResourceKind<DiskExportInputs, DiskExportOutputs> = {
  type: "DiskExport",
  inputs: DiskExportInputs,
  outputs: DiskExportOutputFields,
  replaceOn: ["volumeGroup", "disk", "snapshot", "path", "format", "compress", "triggers"],
  stateOnly: ["snapshotSize"],
  tools: ["lvm", "flock", "qemu-img"],

  id: (inputs) => resourceId(inputs.connection, inputs.path.replace(/^\/+/, "")),

  async create(host, inputs) {
    const found = await inspect(host, inputs);
    const head = markerHead(diskExport.id(inputs), inputs, found.source.state);
    if (found.destination.file === "regular") {
      // Only a file whose marker names this very export (a create retried after a lost connection) is taken over.
      const marker = parseMarker(found.destination.marker);
      const unchanged = marker && Number(found.destination.size) === marker.apparentSizeBytes && found.destination.mtime === marker.mtime;
      if (marker && sameExport(marker, head) && unchanged) {
        if (found.leftovers) await sweepLeftovers(host, inputs, found.source, head);
        return fromMarker(inputs, marker, found.destination);
      }
      throw refusal(host, `export to ${inputs.path}`, marker && sameExport(marker, head)
        ? `${inputs.path} was written by this export but has changed since (size or modification time); move it away or delete it`
        : `${inputs.path} already exists and was not written by this export; move it away or choose another path`);
    }
    return outputs(inputs, found.source.state, await runExport(host, inputs, found.source, head));
  },

  async read(host, olds) {
    const now = await readDestination(host, olds.path);
    if (now.file !== "regular") return undefined;
    const sizeBytes = allocatedBytes(now);
    if (Number(now.size) === olds.apparentSizeBytes && now.mtime === olds.mtime) return { ...olds, sizeBytes };
    // Changed outside Pulumi: report what the file holds now (a full read, so only then).
    const { virtualSizeBytes, sha256 } = await checksum(host, olds.path, olds.format);
    return { ...olds, sizeBytes, apparentSizeBytes: Number(now.size), mtime: now.mtime, virtualSizeBytes, sha256 };
  },

  // Every input but snapshotSize (state only) replaces the export, so an update has nothing to do on the host.
  async update(_host, olds, news) {
    return { ...olds, ...news };
  },

  async delete(host, olds) {
    const now = await readDestination(host, olds.path);
    const marker = parseMarker(now.marker);
    const ours = marker !== undefined && marker.resource === diskExport.id(olds) && marker.createdAt === olds.createdAt;
    if (now.file === "none" && !ours) return;
    if (!ours) {
      throw refusal(host, `delete export ${olds.path}`, `${olds.path} is not the file this export wrote (its marker ` +
        `${olds.path}${MARKER_SUFFIX} is missing or names another export); it was left alone: remove it by hand`);
    }
    await host.run(new Script(`delete export ${olds.path}`)
      .code("remove the file and its marker", REMOVE_EXPORT, { path: olds.path, marker: `${olds.path}${MARKER_SUFFIX}` }));
  },
};

interface Inspection {
  source: ExportSource;
  destination: Record<string, string>;
  /** Whether a temporary snapshot of an earlier export of the disk is still there. */
  leftovers: boolean;
}

/**
 * One read-only round trip before an export: the VG and its LVs, the destination, and (for a disk named .qcow2)
 * the disk's image. Decides what is copied and refuses what cannot be, before anything changes on the host.
 */
async function inspect(host: HostSession, inputs: DiskExportInputs): Promise<Inspection> {
  const operation = `export ${label(inputs)} to ${inputs.path}`;
  const script = new Script(`inspect ${operation}`)
    .capture("vgs", reportArgv("vg"))
    .capture("lvs", reportArgv("lv"))
    .captureCode("destination", FILE_FACTS, destinationVars(inputs.path));
  if (inputs.disk.endsWith(".qcow2")) {
    script.captureCode("disk image", INFO_IF_PRESENT, { image: `/dev/${inputs.volumeGroup}/${inputs.disk}`, format: "qcow2" });
  }
  const { sections } = await host.run(script);

  const vg = parseVgs(sections.vgs).find((v) => v.name === inputs.volumeGroup);
  if (!vg) throw refusal(host, operation, `volume group ${inputs.volumeGroup} does not exist on this host`);
  const lvs = parseLvs(sections.lvs).filter((l) => l.vg === inputs.volumeGroup);
  const disk = lvs.find((l) => l.name === inputs.disk);
  if (!disk) throw refusal(host, operation, `logical volume ${label(inputs)} does not exist`);
  const image = sections["disk image"]?.trim();
  if (image) {
    try {
      parseImageInfo(image);
    } catch {
      throw refusal(host, operation, `${label(inputs)} is named .qcow2 but qemu-img cannot read it as qcow2: ${image.slice(0, 300)}`);
    }
  }

  const destination = keyValues(sections.destination);
  const dir = posix.dirname(inputs.path);
  if (destination.dir !== "yes") throw refusal(host, operation, `the destination folder ${dir} does not exist on the host; create it first`);
  if (!["none", "regular"].includes(destination.file)) {
    throw refusal(host, operation, `${inputs.path} exists and is a ${destination.file === "other" ? "special file" : destination.file}, not a file this export wrote`);
  }
  const leftovers = lvs.some((l) => (l.origin === inputs.disk || isUnfinishedThickSnapshot(l))
    && l.name.startsWith(temporaryLvName(inputs.disk, "")) && l.tags.includes(TEMPORARY_TAG));
  return { source: sourceOf(host, operation, inputs, vg, disk, lvs), destination, leftovers };
}

function sourceOf(host: HostSession, operation: string, inputs: DiskExportInputs, vg: VgRow, disk: LvRow, lvs: LvRow[]): ExportSource {
  // Never probed: a raw disk whose guest wrote a qcow2 header would probe as qcow2 (and expose the host files it
  // names as its backing file). A thick or thin snapshot holds the disk's format; a chain snapshot is a qcow2 whose
  // backing chain `qemu-img convert` follows (and so flattens).
  const format = diskFormatOf(disk.name, disk.tags);
  if (inputs.snapshot === undefined) {
    const state = `${label(inputs)} (temporary snapshot)`;
    if (isThinLv(disk)) {
      // A thin disk's temporary snapshot is thin (snapshotSize does not apply): it shares the disk's blocks.
      const pool = findThinPool(lvs, inputs.volumeGroup, disk.poolLv);
      return { lvName: inputs.disk, format, activate: [], temporary: { thinPool: disk.poolLv, limits: poolLimitsOf(pool?.tags ?? []) }, state };
    }
    const size = SizeOrPercent.parse(inputs.snapshotSize ?? DEFAULT_SNAPSHOT_SIZE);
    return { lvName: inputs.disk, format, activate: [], temporary: { bytes: resolveSize(size, disk.sizeBytes, vg.extentSizeBytes) }, state };
  }
  const snapshots = snapshotsOf(lvs, inputs.volumeGroup, inputs.disk);
  const snap = findSnapshot(lvs, inputs.volumeGroup, inputs.disk, inputs.snapshot);
  if (!snap) {
    const names = snapshots.map((s) => s.name).filter((n) => !n.startsWith(RESERVED_SNAPSHOT_PREFIX));
    throw refusal(host, operation, `${label(inputs)} has no snapshot named ${inputs.snapshot} (it has ${names.length ? names.join(", ") : "none"})`);
  }
  const where = `snapshot ${inputs.snapshot} (${inputs.volumeGroup}/${snap.lvName})`;
  if (snap.method === "chain" && format !== "qcow2") {
    throw refusal(host, operation, `${where} looks like a chain snapshot, but ${inputs.disk} is not a qcow2 disk (its name does not end in .qcow2)`);
  }
  if (snap.lv.attr.invalid) throw refusal(host, operation, `${where} is invalid (it overflowed): its content is lost`);
  const activate = snap.method === "chain" ? snapshots.filter((s) => s.method === "chain").map((s) => s.lvName) : [snap.lvName];
  return { lvName: snap.lvName, format, activate, state: `${label(inputs)}@${inputs.snapshot}` };
}

const destinationVars = (path: string) => ({ path, dir: posix.dirname(path), marker: `${path}${MARKER_SUFFIX}` });

const readDestinations = batchedReads<string>("read exported files", (script, paths) => {
  for (const path of new Set(paths)) script.captureCode(`file ${path}`, FILE_FACTS, destinationVars(path));
  return script;
});

/** FILE_FACTS of an export's path, batched with every other export of the host read in the same turn. */
async function readDestination(host: HostSession, path: string): Promise<Record<string, string>> {
  return keyValues((await readDestinations(host, path))[`file ${path}`]);
}

const CHECKSUM = sh`chunk=$(mktemp)
hash_image "$path" "$format" "$chunk" /dev/null || true
rm -f -- "$chunk"`;

/** The virtual size and sha256 of a file as it is now; empty when it no longer reads as `format`. */
async function checksum(host: HostSession, path: string, format: string): Promise<{ virtualSizeBytes: number; sha256: string }> {
  const chunk = { hash_chunk_bytes: String(HASH_CHUNK_BYTES) };
  const { sections } = await host.run(new Script(`checksum ${path}`)
    .code("define the checksum", HASH_LIB, chunk)
    .captureCode("checksum", CHECKSUM, { path, format, ...chunk }));
  const [size, sha256] = (sections.checksum ?? "").trim().split(" ");
  return { virtualSizeBytes: Number(size) || 0, sha256: sha256 ?? "" };
}

const allocatedBytes = (facts: Record<string, string>) => Number(facts.blocks) * Number(facts.block_size);

function outputs(inputs: DiskExportInputs, sourceState: string, r: ExportResult): DiskExportOutputs {
  return { ...inputs, ...r, sourceState };
}

function fromMarker(inputs: DiskExportInputs, m: Marker, facts: Record<string, string>): DiskExportOutputs {
  return outputs(inputs, m.sourceState, {
    sha256: m.sha256, virtualSizeBytes: m.virtualSizeBytes, apparentSizeBytes: m.apparentSizeBytes,
    sizeBytes: allocatedBytes(facts), mtime: m.mtime, createdAt: m.createdAt,
  });
}

const label = (inputs: DiskExportInputs) => `${inputs.volumeGroup}/${inputs.disk}`;
