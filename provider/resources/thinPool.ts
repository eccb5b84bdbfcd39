import { z } from "zod";
import { Script, sh } from "../command";
import { readHostLvm } from "../lvm/hostState";
import { LvRow, parseLvs, parseVgs, reportArgv, VgRow } from "../lvm/report";
import { Failure, HostSession, ResourceKind } from "../resource";
import { ConnectionSchema } from "../ssh";
import { CHECK_FREE, EXIT_IF_GONE, formatFreeVars, REQUIRE_NEW_LV } from "../storage/hostChecks";
import { nextLvolNumber, poolCreatingOf, poolCreatingTag } from "../storage/journal";
import { userTags } from "../storage/naming";
import { DEFAULT_REFUSE_ABOVE_PERCENT, isThinPool, PoolLimits, poolLimitsOf, poolLimitTags, poolUsage } from "../storage/thin";
import { formatBytes, lvInVgProblem, LvName, PositiveSize, roundUpToExtent, Size, Tags, validVgAndLv, VgName } from "../validate";
import { LOCK_TIMEOUT_SECONDS, refusal, resourceId, tagChange } from "./common";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const ThinPoolInputs = z.strictObject({
  connection: ConnectionSchema,
  volumeGroup: VgName,
  name: LvName,
  /** The data space, rounded up to whole extents. */
  size: PositiveSize,
  /** Default: LVM's choice for the data size and chunk size. Grows in place; never shrinks. */
  metadataSize: Size.refine((b) => b >= 2 * MiB && b <= 16 * GiB, "metadataSize must be from 2MiB to 16GiB").optional(),
  /** Default: LVM's choice (64KiB for small pools). Fixed at creation. */
  chunkSize: Size.refine((b) => b >= 64 * KiB && b <= GiB && b % (64 * KiB) === 0,
    "chunkSize must be a multiple of 64KiB from 64KiB to 1GiB, like 64KiB or 256KiB").optional(),
  /** Zero each new block before a thin LV first uses it (`-Z y`), so no thin LV reads what a deleted one left. */
  zero: z.boolean({ error: "zero must be true or false" }).default(true),
  /** Refuse a new or grown thin disk that brings the sum of the pool's thin LVs above this times its data size. */
  maxOverCommit: z.number({ error: "maxOverCommit must be a number, like 2 or 1.5" })
    .positive("maxOverCommit must be greater than zero").optional(),
  /** Refuse new thin disks and snapshots while the pool's data or metadata use is above this percentage. */
  refuseAbovePercent: z.number({ error: "refuseAbovePercent must be a number from 1 to 100" })
    .min(1, "refuseAbovePercent must be from 1 to 100").max(100, "refuseAbovePercent must be from 1 to 100")
    .default(DEFAULT_REFUSE_ABOVE_PERCENT),
  tags: Tags.transform((t) => [...t].sort()),
  adopt: z.boolean().default(false),
}).superRefine((pool, ctx) => {
  // LVM builds the pool on hidden LVs <pool>_tdata and <pool>_tmeta (and a <pool>-tpool device): they must fit too.
  if (!validVgAndLv(pool.volumeGroup, pool.name)) return;
  const problem = lvInVgProblem(pool.volumeGroup, `${pool.name}_tdata`);
  if (problem) ctx.addIssue({ code: "custom", path: ["name"], message: `the thin pool's data LV ${problem}; use shorter names` });
});
export type ThinPoolInputs = z.infer<typeof ThinPoolInputs>;

export const ThinPoolOutputFields = z.object({
  lvName: z.string(),
  uuid: z.string(),
  sizeBytes: z.number().describe("The data space."),
  metadataSizeBytes: z.number(),
  chunkSizeBytes: z.number(),
  dataPercent: z.number().describe("How much of the data space thin LVs use, in percent."),
  metadataPercent: z.number().describe("How much of the metadata space is used, in percent."),
  virtualSizeBytes: z.number().describe("The sum of the virtual sizes of the pool's thin LVs, snapshots included."),
  overCommit: z.number().describe("virtualSizeBytes / sizeBytes: above 1, the pool cannot hold every thin LV fully written."),
  thinLvCount: z.number().describe("The pool's thin LVs, snapshots included."),
  active: z.boolean(),
});
export type ThinPoolOutputs = ThinPoolInputs & z.infer<typeof ThinPoolOutputFields>;

/** Refuses to remove a pool that still holds thin LVs: `lvremove` of a pool removes them with it. */
const REQUIRE_NO_THIN_LVS = sh`thin_lvs=$(lvs --noheadings -o lv_name,pool_lv -- "$vg" | awk -v pool="$lv" '$2 == pool { print $1 }' | paste -sd, -)
if [ -n "$thin_lvs" ]; then
  __fail "thin pool $vg/$lv still holds thin LVs: $thin_lvs; delete them first (removing the pool would remove them with it)"
fi`;

/**
 * Before the create's journal entry (storage/journal.ts, poolCreatingTag): no lvol<N> at or above $first, the number
 * read before the lock, has appeared since, so that the next run never removes an LV that was there before this one.
 */
const REQUIRE_NO_NEWER_LVOL = sh`last=$(lvs --noheadings -o lv_name -- "$vg" | awk 'BEGIN { max = -1 } $1 ~ /^lvol[0-9]+$/ && substr($1, 5) + 0 > max { max = substr($1, 5) + 0 } END { print max }')
[ "$last" -lt "$first" ] || __fail "volume group $vg gained the LV lvol$last since it was read; nothing was changed: run again"`;

/** Removes the untagged linear lvol<M>, M >= $first, that a create of $vg/$lv cut off by a power loss left. */
const REMOVE_POOL_LEFTOVERS = sh`for name in $(lvs --noheadings --separator '|' -o lv_name,segtype,lv_tags -- "$vg" | tr -d ' ' |
    awk -F'|' -v first="$first" '$1 ~ /^lvol[0-9]+$/ && substr($1, 5) + 0 >= first && $2 == "linear" && $3 == "" { print $1 }'); do
  lvremove --yes -- "$vg/$name" >/dev/null
  echo "removed $vg/$name, the metadata LV a cut-off create of the thin pool $vg/$lv left" >&2
done`;

/** The pool's chunk size (a segment field, so not part of the shared LV report), or nothing when it does not exist. */
const CHUNK_SIZE = sh`lvs --noheadings --units b --nosuffix -o chunk_size -- "$vg/$lv" 2>/dev/null | tr -d ' ' || true`;

export const thinPool: ResourceKind<ThinPoolInputs, ThinPoolOutputs> = {
  type: "ThinPool",
  inputs: ThinPoolInputs,
  outputs: ThinPoolOutputFields,
  replaceOn: ["name", "volumeGroup"],
  stateOnly: ["adopt"],
  tools: ["lvm", "flock"],

  checkChange(olds, news): Failure[] {
    if (olds.connection.host !== news.connection.host || olds.name !== news.name || olds.volumeGroup !== news.volumeGroup) return [];
    const failures: Failure[] = [];
    if (news.size < olds.size) failures.push({ property: "size", reason: shrinkRefusal("size", olds.size, news.size) });
    if (olds.metadataSize !== undefined && news.metadataSize !== undefined && news.metadataSize < olds.metadataSize) {
      failures.push({ property: "metadataSize", reason: shrinkRefusal("metadataSize", olds.metadataSize, news.metadataSize) });
    }
    if (news.chunkSize !== undefined && news.chunkSize !== olds.chunkSize) {
      failures.push({ property: "chunkSize", reason: `chunkSize is fixed when a thin pool is created and cannot change on an existing one (${olds.chunkSize ?? "default"} -> ${news.chunkSize}); create a new pool to change it` });
    }
    return failures;
  },

  id: (inputs) => resourceId(inputs.connection, inputs.volumeGroup, inputs.name),

  async create(host, inputs) {
    let found = await inspect(host, inputs);
    const cutOff = poolCreatingOf(found.vg.tags, inputs.name);
    if (cutOff !== undefined) {
      // A create of this pool that a power loss cut off: remove what its lvcreate left, then create or adopt.
      const journal = poolCreatingTag(inputs.name, cutOff);
      await host.run(new Script(`finish the cut-off create of thin pool ${label(inputs)}`)
        .lock(inputs.volumeGroup, LOCK_TIMEOUT_SECONDS)
        .code("remove what the cut-off lvcreate left", REMOVE_POOL_LEFTOVERS, { vg: inputs.volumeGroup, lv: inputs.name, first: String(cutOff) })
        .run("close the journal entry", ["vgchange", "--deltag", journal, "--", inputs.volumeGroup]));
      found = await inspect(host, inputs);
    }
    if (found.lv) {
      if (!inputs.adopt) throw refusal(host, `create thin pool ${label(inputs)}`, `logical volume ${label(inputs)} already exists; set adopt: true to take it over`);
      return adopt(host, inputs, found);
    }
    const sizeBytes = roundUpToExtent(inputs.size, found.vg.extentSizeBytes);
    // The metadata LV and LVM's spare copy of it (for repairs) come out of the VG too; with LVM's own metadata size
    // not known beforehand, lvcreate says itself when that does not fit.
    const metadataBytes = inputs.metadataSize !== undefined ? roundUpToExtent(inputs.metadataSize, found.vg.extentSizeBytes) : 0;
    const need = sizeBytes + 2 * metadataBytes;
    const vars = { vg: inputs.volumeGroup, lv: inputs.name };
    const first = nextLvolNumber(found.lvs);
    const journal = poolCreatingTag(inputs.name, first);
    const script = new Script(`create thin pool ${label(inputs)}`)
      .lock(inputs.volumeGroup, LOCK_TIMEOUT_SECONDS)
      .code("check the name is free", REQUIRE_NEW_LV, { ...vars, exists_hint: "; set adopt: true to take it over" })
      .code("check free space", CHECK_FREE, { ...vars, ...formatFreeVars(need, formatBytes(need), `thin pool ${inputs.name}`) })
      .code("check no lvol LV appeared", REQUIRE_NO_NEWER_LVOL, { vg: inputs.volumeGroup, first: String(first) })
      .run("journal the create", ["vgchange", "--addtag", journal, "--", inputs.volumeGroup])
      .undo(["vgchange", "--deltag", journal, "--", inputs.volumeGroup])
      // No -W: LVM refuses it for pools (it clears the metadata LV itself; unwritten thin blocks read as zeros).
      .run("lvcreate --type thin-pool", ["lvcreate", "--yes", "--type", "thin-pool", "-L", `${sizeBytes}b`,
        ...(inputs.metadataSize !== undefined ? ["--poolmetadatasize", `${metadataBytes}b`] : []),
        ...(inputs.chunkSize !== undefined ? ["--chunksize", `${inputs.chunkSize}b`] : []),
        "--zero", inputs.zero ? "y" : "n", "-n", inputs.name,
        ...tagsOf(inputs).flatMap((t) => ["--addtag", t]), "--", inputs.volumeGroup])
      .undo(["lvremove", "--yes", "--", label(inputs)])
      .run("close the journal entry", ["vgchange", "--deltag", journal, "--", inputs.volumeGroup]);
    return outputsFrom(inputs, (await host.run(withState(script, inputs))).sections);
  },

  /**
   * An unconfirmed create (glue/unconfirmed.ts) made the pool if it is there as asked: its one lvcreate makes it with
   * its size, options and tags at once, so adopt's checks tell it from another LV; a missing pool is made.
   */
  async finishCreate(host, inputs) {
    return { ...(await thinPool.create(host, { ...inputs, adopt: true })), adopt: inputs.adopt };
  },

  async read(host, olds) {
    const lvm = await readHostLvm(host);
    const lv = lvm.lvs.find((l) => l.vg === olds.volumeGroup && l.name === olds.name);
    if (!lv) return undefined;
    if (!isThinPool(lv)) throw new Error(`${label(olds)} exists but is not a thin pool (lv_attr ${lv.attr.raw}); it was replaced outside Pulumi`);
    // The chunk size is fixed at creation: the one recorded then stands.
    return describe(olds, lv, lvm.lvs, olds.chunkSizeBytes);
  },

  /** `vg/pool`: the pool's data size, zeroing, guards (its tags) and user tags become its inputs. */
  async importFrom(host, path, connection) {
    const [volumeGroup, name] = path.split("/");
    const found = await inspect(host, { volumeGroup, name } as ThinPoolInputs);
    if (!found.lv || !isThinPool(found.lv)) return undefined;
    const limits = poolLimitsOf(found.lv.tags);
    const inputs = ThinPoolInputs.parse({
      connection, volumeGroup, name, size: found.lv.sizeBytes, zero: found.lv.attr.zero, tags: userTags(found.lv.tags), ...limits,
    });
    return describe(inputs, found.lv, found.lvs, found.chunkSizeBytes ?? 0);
  },

  async update(host, olds, news) {
    const operation = `update thin pool ${label(news)}`;
    const found = await inspect(host, news);
    if (!found.lv) throw refusal(host, operation, `thin pool ${label(news)} does not exist (removed outside Pulumi?); run pulumi refresh`);
    const lv = found.lv;
    const extent = found.vg.extentSizeBytes;
    const sizeBytes = roundUpToExtent(news.size, extent);
    const metadataBytes = news.metadataSize !== undefined ? roundUpToExtent(news.metadataSize, extent) : undefined;
    if (news.size < olds.size) throw refusal(host, operation, shrinkRefusal("size", olds.size, news.size));
    if (metadataBytes !== undefined && metadataBytes < (lv.metadataSizeBytes ?? 0)) {
      throw refusal(host, operation, shrinkRefusal("metadataSize", lv.metadataSizeBytes ?? 0, metadataBytes));
    }

    const vars = { vg: news.volumeGroup, lv: news.name };
    const script = new Script(operation).lock(news.volumeGroup, LOCK_TIMEOUT_SECONDS);
    const growData = sizeBytes > lv.sizeBytes ? sizeBytes - lv.sizeBytes : 0;
    // A larger metadata LV grows LVM's spare copy of it as well.
    const growMetadata = metadataBytes !== undefined && metadataBytes > (lv.metadataSizeBytes ?? 0) ? metadataBytes - (lv.metadataSizeBytes ?? 0) : 0;
    if (growData + growMetadata > 0) {
      const need = growData + 2 * growMetadata;
      script.code("check free space", CHECK_FREE, { ...vars, ...formatFreeVars(need, formatBytes(need), `growing thin pool ${news.name}`) });
    }
    // No undo: a grown pool is harmless, and LVM cannot shrink one.
    if (growData > 0) script.run("lvextend the pool's data", ["lvextend", "--yes", "-L", `${sizeBytes}b`, "--", label(news)]);
    if (growMetadata > 0) {
      script.run("lvextend the pool's metadata", ["lvextend", "--yes", "--poolmetadatasize", `${metadataBytes}b`, "--", label(news)]);
    }
    if (news.zero !== lv.attr.zero) script.run("set zeroing", ["lvchange", "--zero", news.zero ? "y" : "n", "--", label(news)]);
    const tags = tagChange("lvchange", label(news), lv.tags, tagsOf(news));
    if (tags) script.run("update tags", tags);
    return outputsFrom(news, (await host.run(withState(script, news))).sections);
  },

  async delete(host, olds) {
    const vars = { vg: olds.volumeGroup, lv: olds.name };
    await host.run(new Script(`delete thin pool ${label(olds)}`)
      .lock(olds.volumeGroup, LOCK_TIMEOUT_SECONDS)
      .code("check the pool exists", EXIT_IF_GONE, vars)
      .code("check the pool holds no thin LVs", REQUIRE_NO_THIN_LVS, vars)
      .run("remove the thin pool", ["lvremove", "--yes", "--", label(olds)]));
  },
};

interface Inspection {
  vg: VgRow;
  lv?: LvRow;
  lvs: LvRow[];
  chunkSizeBytes?: number;
}

/** One read-only round trip: the VG, its LVs, and the pool's chunk size if it exists. */
async function inspect(host: HostSession, inputs: ThinPoolInputs): Promise<Inspection> {
  const { sections } = await host.run(new Script(`inspect thin pool ${label(inputs)}`)
    .capture("vgs", reportArgv("vg"))
    .capture("lvs", reportArgv("lv", `vg_name=${inputs.volumeGroup}`))
    .captureCode("chunk", CHUNK_SIZE, { vg: inputs.volumeGroup, lv: inputs.name }));
  const vg = parseVgs(sections.vgs).find((v) => v.name === inputs.volumeGroup);
  if (!vg) throw refusal(host, `inspect thin pool ${label(inputs)}`, `volume group ${inputs.volumeGroup} does not exist on this host`);
  const lvs = parseLvs(sections.lvs);
  const chunk = Number(sections.chunk?.trim());
  return { vg, lvs, lv: lvs.find((l) => l.name === inputs.name), ...(chunk > 0 ? { chunkSizeBytes: chunk } : {}) };
}

/**
 * Takes over an existing thin pool (one Proxmox's installer made, say) when it is what the inputs describe: its data
 * size, and the metadata size, chunk size and zeroing asked for. Then only the tags change (the user's, and the guards').
 */
async function adopt(host: HostSession, inputs: ThinPoolInputs, found: Inspection): Promise<ThinPoolOutputs> {
  const lv = found.lv!;
  const operation = `adopt thin pool ${label(inputs)}`;
  if (!isThinPool(lv)) throw refusal(host, operation, `${label(inputs)} exists but is not a thin pool (lv_attr ${lv.attr.raw}); nothing was changed`);
  const extent = found.vg.extentSizeBytes;
  const problems: string[] = [];
  const size = roundUpToExtent(inputs.size, extent);
  if (lv.sizeBytes !== size) problems.push(`its data size is ${formatBytes(lv.sizeBytes)}, not ${formatBytes(size)}`);
  if (inputs.metadataSize !== undefined && lv.metadataSizeBytes !== roundUpToExtent(inputs.metadataSize, extent)) {
    problems.push(`its metadata size is ${formatBytes(lv.metadataSizeBytes ?? 0)}, not ${formatBytes(roundUpToExtent(inputs.metadataSize, extent))}`);
  }
  if (inputs.chunkSize !== undefined && found.chunkSizeBytes !== inputs.chunkSize) {
    problems.push(`its chunk size is ${formatBytes(found.chunkSizeBytes ?? 0)}, not ${formatBytes(inputs.chunkSize)}`);
  }
  if (lv.attr.zero !== inputs.zero) problems.push(`its zeroing is ${lv.attr.zero ? "on" : "off"} (set zero: ${lv.attr.zero})`);
  if (problems.length > 0) throw refusal(host, operation, `${label(inputs)} exists but ${problems.join("; ")}; nothing was changed`);

  const adopted = describe(inputs, lv, found.lvs, found.chunkSizeBytes ?? 0);
  if (tagChange("lvchange", label(inputs), lv.tags, tagsOf(inputs)) === undefined) return adopted;
  return thinPool.update(host, adopted, inputs);
}

function shrinkRefusal(field: string, from: number, to: number): string {
  return `a thin pool cannot shrink: ${field} ${formatBytes(from)} -> ${formatBytes(to)}; LVM does not reduce thin pools (to make one smaller, move its thin LVs to a new pool)`;
}

const label = (pool: ThinPoolInputs) => `${pool.volumeGroup}/${pool.name}`;

/** The pool LV's tags: the user's, and the guards that thin disk and snapshot creates read off it. */
function tagsOf(inputs: ThinPoolInputs): string[] {
  const limits: PoolLimits = {
    refuseAbovePercent: inputs.refuseAbovePercent,
    ...(inputs.maxOverCommit !== undefined ? { maxOverCommit: inputs.maxOverCommit } : {}),
  };
  return [...inputs.tags, ...poolLimitTags(limits)];
}

/** Appends what the outputs are made of: the VG's LVs (the pool and its thin LVs) and the pool's chunk size. */
function withState(script: Script, inputs: ThinPoolInputs): Script {
  return script.capture("lvs", reportArgv("lv", `vg_name=${inputs.volumeGroup}`))
    .captureCode("chunk", CHUNK_SIZE, { vg: inputs.volumeGroup, lv: inputs.name });
}

function outputsFrom(inputs: ThinPoolInputs, sections: Record<string, string>): ThinPoolOutputs {
  const lvs = parseLvs(sections.lvs);
  const lv = lvs.find((l) => l.name === inputs.name);
  if (!lv) throw new Error(`thin pool ${label(inputs)} is missing after the operation`);
  return describe(inputs, lv, lvs, Number(sections.chunk?.trim()) || 0);
}

/** The outputs: the inputs, with the pool and what it holds as LVM reports them. */
function describe(inputs: ThinPoolInputs, lv: LvRow, lvs: readonly LvRow[], chunkSizeBytes: number): ThinPoolOutputs {
  return {
    ...inputs,
    tags: userTags(lv.tags).sort(),
    lvName: lv.name,
    uuid: lv.uuid,
    sizeBytes: lv.sizeBytes,
    metadataSizeBytes: lv.metadataSizeBytes ?? 0,
    chunkSizeBytes,
    dataPercent: lv.dataPercent ?? 0,
    metadataPercent: lv.metadataPercent ?? 0,
    ...poolUsage(lvs, lv),
    active: lv.attr.active,
  };
}
