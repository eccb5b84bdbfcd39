import { Script, sh } from "../command";
import { LvRow } from "../lvm/report";
import { TAG_PREFIX } from "./naming";

/**
 * Thin provisioning (lvmthin(7), Proxmox VE's `local-lvm`): a thin pool LV holds the blocks of thin LVs, which take
 * room only as they are written, and of their thin snapshots, which share every block they have not rewritten. What
 * every kind that makes or reads thin LVs shares lives here: the pool's guards, its usage, and the thin snapshot
 * steps (ThinPool, VmDisk with `thinPool`, Snapshot `thin`, DiskExport, and Rollback's thin rollback).
 */

/** The fill above which a new thin disk or snapshot is refused, when the pool does not say otherwise. */
export const DEFAULT_REFUSE_ABOVE_PERCENT = 95;

/**
 * A pool's guards, as the ThinPool resource wrote them on the pool's LV (tags travel with it and come with every
 * `lvs` a create already runs, so reading them costs nothing). A pool that carries none (made outside Pulumi, e.g. by
 * the Proxmox installer) gets the defaults: refuse above 95% full, no over-commit limit.
 */
export interface PoolLimits {
  /** Refuse new thin disks and snapshots while the pool's data or metadata use is above this, in percent. */
  refuseAbovePercent: number;
  /** Refuse a new (or grown) thin disk that would bring the sum of the pool's thin LVs above this times its data size. */
  maxOverCommit?: number;
}

const REFUSE_ABOVE = `${TAG_PREFIX}thin-refuse-above=`;
const MAX_OVER_COMMIT = `${TAG_PREFIX}thin-max-over-commit=`;

/** The tags that record a pool's guards. */
export function poolLimitTags(limits: PoolLimits): string[] {
  return [`${REFUSE_ABOVE}${limits.refuseAbovePercent}`,
    ...(limits.maxOverCommit !== undefined ? [`${MAX_OVER_COMMIT}${limits.maxOverCommit}`] : [])];
}

/** Whether a pool's tags record any guard (a ThinPool made or adopted it), rather than leaving it the defaults. */
export const hasPoolLimitTags = (tags: readonly string[]) =>
  tags.some((t) => t.startsWith(REFUSE_ABOVE) || t.startsWith(MAX_OVER_COMMIT));

/** The guards a pool's tags record (defaults for what they do not). */
export function poolLimitsOf(tags: readonly string[]): PoolLimits {
  const value = (prefix: string) => {
    const tag = tags.find((t) => t.startsWith(prefix));
    const n = tag === undefined ? NaN : Number(tag.slice(prefix.length));
    return Number.isFinite(n) ? n : undefined;
  };
  const maxOverCommit = value(MAX_OVER_COMMIT);
  return {
    refuseAbovePercent: value(REFUSE_ABOVE) ?? DEFAULT_REFUSE_ABOVE_PERCENT,
    ...(maxOverCommit !== undefined ? { maxOverCommit } : {}),
  };
}

export const isThinPool = (lv: LvRow) => lv.attr.type === "t";
/** A thin LV: a thin disk, or a thin snapshot (which is a thin LV with an origin). */
export const isThinLv = (lv: LvRow) => lv.attr.type === "V";

/** The thin pool `name` of `vg`, if LVM lists it as one. */
export function findThinPool(lvs: readonly LvRow[], vg: string, name: string): LvRow | undefined {
  return lvs.find((l) => l.vg === vg && l.name === name && isThinPool(l));
}

/** Why `vg`/`name` cannot hold thin LVs (it does not exist, or is not a thin pool), or undefined when it can. */
export function thinPoolProblem(lvs: readonly LvRow[], vg: string, name: string): string | undefined {
  if (findThinPool(lvs, vg, name)) return undefined;
  const lv = lvs.find((l) => l.vg === vg && l.name === name);
  return lv
    ? `${vg}/${name} is not a thin pool (lv_attr ${lv.attr.raw}); thinPool names a ThinPool of the volume group`
    : `thin pool ${vg}/${name} does not exist on this host; create it with a ThinPool first`;
}

/** What a pool holds, from the same `lvs` report. */
export interface PoolUsage {
  /** The sum of the virtual sizes of its thin LVs, snapshots included (as LVM's own over-provisioning warning counts). */
  virtualSizeBytes: number;
  /** virtualSizeBytes over the pool's data size: above 1, the pool cannot hold every thin LV fully written. */
  overCommit: number;
  /** Its thin LVs, snapshots included. */
  thinLvCount: number;
}

export function poolUsage(lvs: readonly LvRow[], pool: LvRow): PoolUsage {
  const thin = lvs.filter((l) => l.vg === pool.vg && l.poolLv === pool.name && isThinLv(l));
  const virtualSizeBytes = thin.reduce((sum, l) => sum + l.sizeBytes, 0);
  return {
    virtualSizeBytes,
    overCommit: pool.sizeBytes > 0 ? Math.round((virtualSizeBytes / pool.sizeBytes) * 1000) / 1000 : 0,
    thinLvCount: thin.length,
  };
}

/**
 * The guards, checked on the host under the VG lock right before a thin LV is made (the pool fills between a read
 * and a create): refuses while the pool $vg/$pool's data or metadata use is above $refuse_above percent (when
 * $check_fill is 1), and when $adding more bytes of thin LVs would take the sum of its thin LVs above
 * $max_over_commit times its data size (when set). An inactive pool reports no use: it is activated first, as the
 * lvcreate that follows would. $what says what is refused.
 */
const CHECK_THIN_POOL = sh`pool_facts() { lvs --noheadings --units b --nosuffix -o lv_attr,lv_size,data_percent,metadata_percent -- "$vg/$pool" 2>/dev/null; }
facts=$(pool_facts) || __fail "thin pool $vg/$pool does not exist on this host"
set -- $facts
case "$1" in t*) ;; *) __fail "$vg/$pool is not a thin pool" ;; esac
case "$1" in ????a*) ;; *) lvchange --activate y -- "$vg/$pool" >&2; set -- $(pool_facts) ;; esac
pool_size=$2 data=\${3:-0} meta=\${4:-0}
above() { awk -v v="$1" -v l="$2" 'BEGIN { exit !(v + 0 > l + 0) }'; }
if [ "$check_fill" = 1 ] && above "$data" "$refuse_above"; then
  __fail "thin pool $vg/$pool is $data% full (data), above its refuseAbovePercent of $refuse_above%: $what is refused until the pool has room. Grow the pool: raise the ThinPool's size and run pulumi up (or lvextend -L +<size> $vg/$pool), or delete thin disks or snapshots it no longer needs"
fi
if [ "$check_fill" = 1 ] && above "$meta" "$refuse_above"; then
  __fail "thin pool $vg/$pool is $meta% full (metadata), above its refuseAbovePercent of $refuse_above%: $what is refused until the pool has room. Grow its metadata: raise the ThinPool's metadataSize and run pulumi up (or lvextend --poolmetadatasize +<size> $vg/$pool), or delete thin snapshots it no longer needs"
fi
if [ -n "$max_over_commit" ]; then
  virtual=$(lvs --noheadings --units b --nosuffix -o lv_size,pool_lv -- "$vg" | awk -v p="$pool" '$2 == p { s += $1 } END { printf "%.0f", s }')
  ratio=$(awk -v v="$virtual" -v a="$adding" -v s="$pool_size" 'BEGIN { printf "%.2f", (v + a) / s }')
  if above "$ratio" "$max_over_commit"; then
    __fail "$what would over-commit thin pool $vg/$pool to \${ratio}x its data space ($(( (virtual + adding) / 1048576 )) MiB of thin LVs on $(( pool_size / 1048576 )) MiB), above its maxOverCommit of $max_over_commit: grow the pool (raise the ThinPool's size) or raise its maxOverCommit"
  fi
fi`;

export interface PoolCheck {
  vg: string;
  pool: string;
  limits: PoolLimits;
  /** What the operation makes, for the message: e.g. "a new thin disk vm-1 (1 GiB)". */
  what: string;
  /** Refuse while the pool is above its fill limit: for anything that makes a thin LV. */
  fill: boolean;
  /** The virtual bytes the operation adds, checked against maxOverCommit (new and grown thin disks only). */
  addingBytes?: number;
}

/** Adds the pool's guards (CHECK_THIN_POOL) to a locked script. */
export function checkThinPool(script: Script, c: PoolCheck): Script {
  const overCommit = c.addingBytes !== undefined && c.limits.maxOverCommit !== undefined;
  return script.code("check the thin pool", CHECK_THIN_POOL, {
    vg: c.vg, pool: c.pool, what: c.what,
    check_fill: c.fill ? "1" : "0",
    refuse_above: String(c.limits.refuseAbovePercent),
    max_over_commit: overCommit ? String(c.limits.maxOverCommit) : "",
    adding: String(c.addingBytes ?? 0),
  });
}

export interface NewThinSnapshot {
  vg: string;
  /** The thin LV to snapshot: a disk, or (for a rollback) a snapshot. */
  origin: string;
  lvName: string;
  tags: readonly string[];
  /** A frozen state is read-only (`-p r`, as Proxmox takes them); a disk made from a snapshot is writable. */
  readOnly: boolean;
  /**
   * The activation-skip flag (`-k`): LVM's default for thin snapshots, so a host does not activate every snapshot at
   * boot; reading one then needs `activateLvs` (storage/hostChecks.ts, which passes `-K`). A disk made from a snapshot turns it off.
   */
  activationSkip: boolean;
}

/**
 * Adds the step that takes a thin snapshot (`lvcreate -s` of a thin LV, no size: it shares the origin's blocks), and
 * its undo. Thin snapshots take no -W/-Z: their content is the origin's.
 */
export function addThinSnapshot(script: Script, s: NewThinSnapshot): Script {
  return script
    .run("lvcreate the thin snapshot", ["lvcreate", "--yes", "--snapshot", "--permission", s.readOnly ? "r" : "rw",
      "--setactivationskip", s.activationSkip ? "y" : "n", "-n", s.lvName, ...s.tags.flatMap((t) => ["--addtag", t]),
      "--", `${s.vg}/${s.origin}`])
    .undo(["lvremove", "--yes", "--", `${s.vg}/${s.lvName}`]);
}
