import { Argv } from "../command";

/**
 * LVM's JSON reports (`vgs`/`pvs`/`lvs --reportformat json --units b --nosuffix`): one command builder and
 * one parser for all three. Every value arrives as a string; sizes are whole bytes.
 */
export const VG_FIELDS = ["vg_name", "vg_uuid", "vg_size", "vg_free", "vg_extent_size", "lv_count", "pv_count", "vg_tags",
  "vg_mda_size"] as const;
export const PV_FIELDS = ["pv_name", "vg_name", "pv_size", "pv_free", "pv_used", "pv_uuid"] as const;
export const LV_FIELDS = ["lv_name", "vg_name", "lv_uuid", "lv_size", "lv_attr", "lv_tags", "origin", "snap_percent",
  "lv_path", "pool_lv", "data_percent", "metadata_percent", "lv_metadata_size"] as const;

type Kind = "vg" | "pv" | "lv";
const COMMAND: Record<Kind, { cmd: string; fields: readonly string[] }> = {
  vg: { cmd: "vgs", fields: VG_FIELDS },
  pv: { cmd: "pvs", fields: PV_FIELDS },
  lv: { cmd: "lvs", fields: LV_FIELDS },
};

/** The argv of a report; `select` is an LVM selection like `vg_name=data` (see lvmreport(7)). */
export function reportArgv(kind: Kind, select?: string): Argv {
  const { cmd, fields } = COMMAND[kind];
  return [cmd, "--reportformat", "json", "--units", "b", "--nosuffix", "-o", fields.join(","),
    ...(select ? ["-S", select] : [])];
}

export interface VgRow {
  name: string;
  uuid: string;
  sizeBytes: number;
  freeBytes: number;
  extentSizeBytes: number;
  lvCount: number;
  pvCount: number;
  tags: string[];
  metadataAreaBytes: number;
}

export interface PvRow {
  device: string;
  /** "" for a PV that belongs to no VG. */
  vg: string;
  sizeBytes: number;
  freeBytes: number;
  usedBytes: number;
  uuid: string;
}

export interface LvRow {
  name: string;
  vg: string;
  uuid: string;
  sizeBytes: number;
  attr: LvAttr;
  tags: string[];
  /** For a thick snapshot, the LV it snapshots; "" otherwise. */
  origin: string;
  /** Fill of a thick snapshot, in percent; undefined for other LVs. */
  snapPercent?: number;
  path: string;
  /** For a thin LV (disk or snapshot), its thin pool; "" otherwise. */
  poolLv: string;
  /**
   * Thin pool: how much of its data space is in use; thin LV: how much of its virtual size is mapped (blocks it shares
   * with its snapshots count for each). Percent; undefined for other LVs, and for an inactive one.
   */
  dataPercent?: number;
  /** Thin pool: how much of its metadata space is in use, in percent. */
  metadataPercent?: number;
  /** Thin pool: the size of its metadata LV. */
  metadataSizeBytes?: number;
}

/** The ten lv_attr characters, decoded where this project acts on them (lvs(8)). */
export interface LvAttr {
  raw: string;
  /** 's' thick snapshot, 'o' origin of snapshots, 'S' merging snapshot, 't' thin pool, 'V' thin volume, '-' plain, ... */
  type: string;
  writable: boolean;
  active: boolean;
  /** Open by some process (a running VM, a mount): must not be removed or rewritten. */
  open: boolean;
  /** A thick snapshot that overflowed ('I' state): its content is lost. */
  invalid: boolean;
  /** Thin pool: new blocks are zeroed before first use (the 'z' flag). */
  zero: boolean;
  /** Not activated by a plain `lvchange -ay` or at boot (the 'k' flag; thin snapshots get it): needs `-K`. */
  activationSkip: boolean;
}

export function decodeLvAttr(raw: string): LvAttr {
  const c = (i: number) => raw.charAt(i) || "-";
  return {
    raw,
    type: c(0),
    writable: c(1) === "w",
    active: c(4) === "a",
    open: c(5) === "o",
    invalid: c(4) === "I" || c(4) === "S",
    zero: c(7) === "z",
    activationSkip: c(9) === "k",
  };
}

function rows(json: string, kind: Kind): Record<string, string>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`could not parse ${COMMAND[kind].cmd} JSON output: ${json.slice(0, 200)}`);
  }
  const report = (parsed as { report?: Record<string, Record<string, string>[]>[] }).report;
  if (!Array.isArray(report)) throw new Error(`unexpected ${COMMAND[kind].cmd} JSON output: no report`);
  return report.flatMap((r) => r[kind] ?? []);
}

const num = (s: string | undefined) => (s === undefined || s === "" ? 0 : Number(s));
const optionalNum = (s: string | undefined) => (s === undefined || s === "" ? undefined : Number(s));
const tags = (s: string | undefined) => (s ? s.split(",").filter(Boolean) : []);

export function parseVgs(json: string): VgRow[] {
  return rows(json, "vg").map((r) => ({
    name: r.vg_name, uuid: r.vg_uuid, sizeBytes: num(r.vg_size), freeBytes: num(r.vg_free),
    extentSizeBytes: num(r.vg_extent_size), lvCount: num(r.lv_count), pvCount: num(r.pv_count), tags: tags(r.vg_tags),
    metadataAreaBytes: num(r.vg_mda_size),
  }));
}

export function parsePvs(json: string): PvRow[] {
  return rows(json, "pv").map((r) => ({
    device: r.pv_name, vg: r.vg_name ?? "", sizeBytes: num(r.pv_size), freeBytes: num(r.pv_free),
    usedBytes: num(r.pv_used), uuid: r.pv_uuid,
  }));
}

export function parseLvs(json: string): LvRow[] {
  return rows(json, "lv").map((r) => ({
    name: r.lv_name, vg: r.vg_name, uuid: r.lv_uuid, sizeBytes: num(r.lv_size), attr: decodeLvAttr(r.lv_attr ?? ""),
    tags: tags(r.lv_tags), origin: r.origin ?? "",
    snapPercent: optionalNum(r.snap_percent), path: r.lv_path, poolLv: r.pool_lv ?? "",
    dataPercent: optionalNum(r.data_percent), metadataPercent: optionalNum(r.metadata_percent),
    metadataSizeBytes: optionalNum(r.lv_metadata_size),
  }));
}
