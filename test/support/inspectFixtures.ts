// Canned output of the read `pulumi-lvm inspect` runs, shaped exactly like the test guest's (LVM 2.03.16, qemu-img
// 7.2.22): the guest's `lvs --reportformat json` rows, and qemu-img's JSON, which is JSON.stringify(..., null, 4) of
// the same objects (checked against captured output).

const MiB = 1024 * 1024;
export const EXTENT = 4 * MiB;
export const VG_SIZE = 8581545984;

export interface Row {
  name: string;
  size: number;
  attr?: string;
  tags?: string[];
  origin?: string;
  /** The fill of a thick snapshot, an active thin LV or pool: LVM prints it as both snap_percent and data_percent. */
  snapPercent?: string;
  vg?: string;
  /** Thin LVs: their pool. */
  pool?: string;
  /** Active thin pools. */
  metadataPercent?: string;
  /** Thin pools. */
  metadataSize?: number;
}

const report = (kind: string, rows: object[]) =>
  `  {\n      "report": [\n          {\n              "${kind}": [\n${rows.map((r) => `                  ${JSON.stringify(r).replace(/","/g, "\", \"")}`).join(",\n")}\n              ]\n          }\n      ]\n  }`;

export function lvsReport(rows: Row[], vg = "inspectvg"): string {
  return report("lv", rows.map((r) => ({
    lv_name: r.name, vg_name: r.vg ?? vg, lv_uuid: `uuid-${r.name}`, lv_size: String(r.size), lv_attr: r.attr ?? "-wi-a-----",
    lv_tags: (r.tags ?? []).join(","), origin: r.origin ?? "", snap_percent: r.snapPercent ?? "",
    lv_path: r.name.startsWith("[") || r.attr?.startsWith("t") ? "" : `/dev/${r.vg ?? vg}/${r.name}`,
    pool_lv: r.pool ?? "", data_percent: r.snapPercent ?? "", metadata_percent: r.metadataPercent ?? "",
    lv_metadata_size: r.metadataSize !== undefined ? String(r.metadataSize) : "",
  })));
}

export function vgsReport(free: number, vg = "inspectvg"): string {
  return report("vg", [{ vg_name: vg, vg_uuid: "2eyRp8-LN9p-ZzX2-w9SQ-QWYI-3LWe-BVuJ3s", vg_size: String(VG_SIZE), vg_free: String(free),
    vg_extent_size: String(EXTENT), lv_count: "11", pv_count: "2", vg_tags: "", vg_mda_size: "1044480" }]);
}

export function pvsReport(frees = [3976200192, 4286578688], vg = "inspectvg"): string {
  return report("pv", ["/dev/vdb", "/dev/vdc"].map((device, i) => (
    { pv_name: device, vg_name: vg, pv_size: "4290772992", pv_free: String(frees[i]), pv_used: String(4290772992 - frees[i]), pv_uuid: `uuid-${i}` })));
}

export interface Image {
  /** The LV, in inspectvg unless `dev` says otherwise. */
  lv: string;
  virtualSize?: number;
  clusterSize?: number;
  extendedL2?: boolean;
  backing?: string;
  dev?: string;
}

/** `qemu-img info --output=json -U -f qcow2 --backing-chain` of a chain, top first, as qemu-img 7.2 prints it. */
export function chainJson(images: Image[], vg = "inspectvg"): string {
  return JSON.stringify(images.map((i) => ({
    ...(i.backing ? { "backing-filename-format": "qcow2" } : {}),
    "virtual-size": i.virtualSize ?? 32 * MiB,
    "filename": i.dev ?? `/dev/${vg}/${i.lv}`,
    "cluster-size": i.clusterSize ?? 131072,
    "format": "qcow2",
    "actual-size": 0,
    "format-specific": { type: "qcow2", data: { "compat": "1.1", "compression-type": "zlib", "lazy-refcounts": false,
      "refcount-bits": 16, "corrupt": false, "extended-l2": i.extendedL2 ?? true } },
    ...(i.backing ? { "full-backing-filename": `/dev/${vg}/${i.backing}`, "backing-filename": i.backing } : {}),
    "dirty-flag": false,
  })), null, 4);
}

/** The Proxmox chain of `disk` (`vm-602-disk-0.qcow2`) with snapshots `ids`, oldest first. */
export function proxmoxChain(disk: string, ids: string[], vg = "inspectvg"): string {
  const lv = (id: string) => `snap_${disk.replace(/\.qcow2$/, "")}_${id}.qcow2`;
  const names = [disk, ...[...ids].reverse().map(lv)];
  return chainJson(names.map((name, i) => ({ lv: name, ...(names[i + 1] ? { backing: names[i + 1] } : {}) })), vg);
}

/** The measure section the host prints: the arguments it ran `qemu-img` with, then its JSON. */
export function measureSection(virtualSize: number, fullyAllocated: number, options = "cluster_size=131072,extended_l2=on,preallocation=metadata"): string {
  return `measure --output=json --size ${virtualSize} -O qcow2 -o ${options}\n` +
    JSON.stringify({ "required": 655360, "fully-allocated": fullyAllocated }, null, 4);
}

/** qemu-img's error for a chain whose backing LV is gone. */
export const missingBacking = (dev: string) => `qemu-img: Could not open '${dev}': Could not open '${dev}': No such file or directory`;

/** The e2e's thin pool pool0 as the guest reported it, with its guards (refuse above 90%, 5x over-commit) and internal LVs. */
export const POOL_ROWS: Row[] = [
  { name: "[lvol0_pmspare]", size: 4 * MiB, attr: "ewi-------" },
  { name: "pool0", size: 64 * MiB, attr: "twi-aotz--", tags: ["pulumi-lvm/thin-max-over-commit=5", "pulumi-lvm/thin-refuse-above=90"],
    snapPercent: "12.50", metadataPercent: "10.94", metadataSize: 4 * MiB },
  { name: "[pool0_tdata]", size: 64 * MiB, attr: "Twi-ao----" },
  { name: "[pool0_tmeta]", size: 4 * MiB, attr: "ewi-ao----" },
];

/** A thin snapshot as Snapshot takes it (read-only, activation-skip, inactive) of a thin disk in pool0. */
export const thinSnapshotRow = (disk: string, name: string, patch: Partial<Row> = {}): Row => ({
  name: `snap_${disk}_${name}`, size: 96 * MiB, attr: "Vri---tz-k", tags: [`pulumi-lvm/snapshot=${name}`], origin: disk, pool: "pool0", ...patch,
});

/**
 * The e2e scenario as the guest reported it: VG inspectvg on /dev/vdb and /dev/vdc, a raw disk with a thick snapshot
 * (25.2% full), a qcow2 disk with the Proxmox chain s1 <- s2 <- s3 <- disk, an unrelated LV, and the thin pool pool0
 * with a thin raw disk (8 MiB written) and its thin snapshots s1 and s2.
 */
export const SCENARIO_ROWS: Row[] = [
  ...POOL_ROWS,
  { name: "scratch", size: 16 * MiB },
  { name: "snap_vm-601-disk-0_golden", size: 8 * MiB, attr: "swi-a-s---", tags: ["pulumi-lvm/snapshot=golden"], origin: "vm-601-disk-0", snapPercent: "25.20" },
  { name: "snap_vm-602-disk-0_s1.qcow2", size: 36 * MiB, tags: ["pulumi-lvm/format=qcow2"] },
  { name: "snap_vm-602-disk-0_s2.qcow2", size: 36 * MiB, tags: ["pulumi-lvm/format=qcow2"] },
  { name: "snap_vm-602-disk-0_s3.qcow2", size: 36 * MiB, tags: ["pulumi-lvm/format=qcow2"] },
  { name: "vm-601-disk-0", size: 64 * MiB, attr: "owi-a-s---", tags: ["pulumi-lvm/format=raw", "web"] },
  { name: "vm-602-disk-0.qcow2", size: 36 * MiB, tags: ["pulumi-lvm/format=qcow2"] },
  thinSnapshotRow("vm-701-disk-0", "s1"),
  thinSnapshotRow("vm-701-disk-0", "s2"),
  { name: "vm-701-disk-0", size: 96 * MiB, attr: "Vwi-a-tz--", tags: ["pulumi-lvm/format=raw"], pool: "pool0", snapPercent: "8.33" },
];

export const SCENARIO_FREE = 8262778880;

/** The scenario qcow2 disk's chain and measure, as the host's image loop prints them. */
export function scenarioImages(): Record<string, string> {
  return {
    "chain inspectvg/vm-602-disk-0.qcow2": proxmoxChain("vm-602-disk-0.qcow2", ["s1", "s2", "s3"]),
    "measure inspectvg/vm-602-disk-0.qcow2": measureSection(32 * MiB, 34209792),
  };
}

/**
 * The sections of the one read for `rows` (the scenario's by default): LVM's reports, the scenario disk's chain and
 * measure (unless `extra` replaces them) and `extra`.
 */
export function readSections(rows: Row[] = SCENARIO_ROWS, extra: Record<string, string> = {}, free = SCENARIO_FREE): Record<string, string> {
  return {
    "hostname": "test-host",
    "vgs": vgsReport(free),
    "pvs": pvsReport(),
    "lvs": lvsReport(rows),
    "running exports": "",
    ...(Object.keys(extra).some((k) => k.startsWith("chain inspectvg/vm-602-disk-0.qcow2")) ? {} : scenarioImages()),
    ...extra,
  };
}

export const scenarioSections = () => readSections();

/** The sections without any image read: what a host without qemu-img, or with only inactive qcow2 LVs, returns. */
export function withoutImages(sections: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(sections).filter(([name]) => !/^(chain|measure) /.test(name)));
}
