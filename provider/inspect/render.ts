import { userTags } from "../storage/naming";
import { formatBytes } from "../validate";
import {
  ChainSnapshotReport, DiskReport, InspectReport, LvReport, ThickSnapshotReport, ThinPoolReport, ThinSnapshotReport, VolumeGroupReport,
  Warning,
} from "./model";
import { FILLING_PERCENT } from "./warnings";

/** The text inspect prints: the host as a tree, then the warnings, each line at most `width` columns where it can be. */
export function renderReport(report: InspectReport, opts: { color: boolean; width?: number }): string {
  const paint = painter(opts.color);
  const width = opts.width ?? 80;
  const { host } = report;
  const lines = [fit([paint.bold(host.target), `(${host.hostname})`, `LVM ${host.lvmVersion ?? "?"}`,
    `qemu-img ${host.qemuImgVersion ?? "not installed"}`], "", "  ", width).join("\n")];
  for (const vg of report.volumeGroups) lines.push("", ...renderTree(vgNode(vg, paint), width));
  if (report.unusedPvs.length > 0) {
    lines.push("", ...renderTree({
      head: [paint.bold("PVs in no VG")],
      children: report.unusedPvs.map((pv) => ({ head: [`PV ${pv.device}`, formatBytes(pv.sizeBytes)], children: [] })),
    }, width));
  }
  if (report.volumeGroups.length === 0) lines.push("", "No volume groups.");
  lines.push("", ...renderWarnings(report.warnings, paint, width));
  return `${lines.join("\n")}\n`;
}

interface Node {
  /** Parts of the line, joined by two spaces; those that do not fit go on continuation lines below. */
  head: string[];
  children: Node[];
  /** The head is the words of a sentence: joined by one space. */
  words?: boolean;
}

function vgNode(vg: VolumeGroupReport, paint: Painter): Node {
  const children: Node[] = vg.pvs.map((pv) => ({
    head: [`PV ${pv.device}`, `${formatBytes(pv.sizeBytes)}, ${formatBytes(pv.freeBytes)} free`], children: [],
  }));
  children.push(...vg.thinPools.map((p) => poolNode(p, paint)));
  children.push(...vg.disks.map((d) => diskNode(d, paint)));
  if (vg.otherLvs.length > 0) {
    children.push({ head: [paint.dim("other LVs (not VM disks)")], children: vg.otherLvs.map((lv) => otherNode(lv, paint)) });
  }
  return {
    head: [`${paint.bold(`VG ${vg.name}`)}`, `${formatBytes(vg.sizeBytes)}, ${formatBytes(vg.freeBytes)} free`,
      `${bar(vg.usedPercent, 20, paint, 90)} ${percent(vg.usedPercent)} used`],
    children,
  };
}

function diskNode(disk: DiskReport, paint: Painter): Node {
  const size = disk.format === "raw"
    ? `raw, ${formatBytes(disk.sizeBytes)}`
    : `qcow2${disk.virtualSizeBytes !== undefined ? `, ${formatBytes(disk.virtualSizeBytes)}` : ""} (LV ${formatBytes(disk.sizeBytes)})`;
  const children: Node[] = [];
  if (disk.chainProblem) {
    children.push({ head: `chain: ${disk.chainProblem.message}`.split(" ").map(paint.yellow), children: [], words: true });
  }
  children.push(...disk.chain.map((link) => chainNode(link, paint)));
  children.push(...snapshotNodes(disk, paint));
  return { head: [paint.cyan(disk.lvName), size, ...thinness(disk), ...lvFlags(disk, paint)], children };
}

function otherNode(lv: LvReport, paint: Painter): Node {
  return {
    head: [lv.lvName, formatBytes(lv.sizeBytes), paint.dim(lv.attr), ...thinness(lv), ...lvFlags(lv, paint)],
    children: snapshotNodes(lv, paint),
  };
}

function snapshotNodes(lv: LvReport, paint: Painter): Node[] {
  return [...lv.thickSnapshots.map((s) => thickNode(s, paint)), ...lv.thinSnapshots.map((s) => thinNode(s, paint))];
}

/** A thin LV's pool, and how much of it is written. */
function thinness(lv: LvReport): string[] {
  if (lv.thinPool === undefined) return [];
  return [`thin in ${lv.thinPool}${lv.allocatedPercent !== undefined ? `, ${percent(lv.allocatedPercent)} allocated` : ""}`];
}

/** The pool, then its fill, what its thin LVs add up to, and the guards its tags set. */
function poolNode(pool: ThinPoolReport, paint: Painter): Node {
  const fill = (what: string, pct: number | undefined) => pct === undefined ? [] : [`${what} ${bar(pct, 10, paint, FILLING_PERCENT)} ${percent(pct)}`];
  const fills = [...fill("data", pool.dataPercent), ...fill("metadata", pool.metadataPercent)];
  const count = `${pool.thinLvCount} thin LV${pool.thinLvCount === 1 ? "" : "s"}`;
  const children: Node[] = [
    { head: fills.length > 0 ? fills : ["fill unknown (inactive)"], children: [] },
    { head: [`${count}, ${formatBytes(pool.virtualSizeBytes)} virtual: ${ratio(pool.overCommit)} over-commit`], children: [] },
  ];
  if (pool.limitsTagged) {
    const overCommit = pool.maxOverCommit !== undefined ? ` or ${ratio(pool.maxOverCommit)} over-commit` : "";
    children.push({ head: [`limits: refuse new thin LVs above ${percent(pool.refuseAbovePercent)} full${overCommit}`], children: [] });
  }
  return {
    head: [pool.lvName, `thin pool, ${formatBytes(pool.sizeBytes)} (metadata ${formatBytes(pool.metadataSizeBytes)})`,
      ...(userTags(pool.tags).length > 0 ? [`tags: ${userTags(pool.tags).join(",")}`] : [])],
    children,
  };
}

function chainNode(link: ChainSnapshotReport, paint: Painter): Node {
  return {
    head: [`${link.name} ${paint.dim("(chain)")}`, `LV ${formatBytes(link.sizeBytes)}`, paint.dim(link.lvName),
      ...(link.inChain ? [] : [paint.yellow("unconfirmed")]),
      ...(link.active ? [] : ["inactive"]), ...(link.open ? ["open"] : []),
      ...(link.pending ? [paint.yellow("PENDING")] : [])],
    children: [],
  };
}

function thickNode(snap: ThickSnapshotReport, paint: Painter): Node {
  const fill = !snap.valid ? `${bar(100, 10, paint, 0)} ${paint.red("INVALID")}`
    : snap.usedPercent !== undefined ? `${bar(snap.usedPercent, 10, paint, FILLING_PERCENT)} ${percent(snap.usedPercent)}`
    : "fill unknown (inactive)";
  return {
    head: [`${snap.name} ${paint.dim("(thick)")}`, formatBytes(snap.sizeBytes), fill,
      ...(snap.merging ? [paint.yellow("MERGING")] : []),
      ...(snap.temporary === "leftover" ? [paint.yellow("LEFTOVER temporary")] : snap.temporary ? ["temporary (export running)"] : []),
      ...(snap.pending ? [paint.yellow("PENDING")] : []),
      paint.dim(snap.lvName)],
    children: [],
  };
}

function thinNode(snap: ThinSnapshotReport, paint: Painter): Node {
  return {
    head: [`${snap.name} ${paint.dim("(thin)")}`, formatBytes(snap.sizeBytes),
      snap.active ? `active${snap.allocatedPercent !== undefined ? `, ${percent(snap.allocatedPercent)} allocated` : ""}` : paint.dim("inactive"),
      ...(snap.open ? ["open"] : []), ...(snap.activationSkip ? ["activation-skip"] : []),
      ...(snap.temporary === "leftover" ? [paint.yellow("LEFTOVER temporary")] : snap.temporary ? ["temporary (export running)"] : []),
      ...(snap.pending ? [paint.yellow("PENDING")] : []),
      paint.dim(snap.lvName)],
    children: [],
  };
}

function lvFlags(lv: LvReport, paint: Painter): string[] {
  const tags = userTags(lv.tags);
  return [
    lv.active ? "active" : paint.dim("inactive"),
    ...(lv.open ? ["open"] : []),
    ...(tags.length > 0 ? [`tags: ${tags.join(",")}`] : []),
    ...(lv.pending ? [paint.yellow("PENDING")] : []),
  ];
}

function renderTree(node: Node, width: number, prefix = "", childPrefix = ""): string[] {
  // Continuation lines: indented under the node's text, with the line down to its children drawn through them.
  const lines = fit(node.head, prefix, `${childPrefix}${node.children.length > 0 ? "│" : " "}   `, width, node.words ? " " : "  ");
  node.children.forEach((child, i) => {
    const last = i === node.children.length - 1;
    lines.push(...renderTree(child, width, `${childPrefix}${last ? "└─ " : "├─ "}`, `${childPrefix}${last ? "   " : "│  "}`));
  });
  return lines;
}

/** Packs parts after `first`, two spaces apart, while they fit in `width`; the rest go on lines starting with `next`. */
function fit(parts: string[], first: string, next: string, width: number, separator = "  "): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const part of parts) {
    if (!empty && visibleLength(line) + separator.length + visibleLength(part) > width) {
      lines.push(line);
      line = next;
      empty = true;
    }
    line += empty ? part : `${separator}${part}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

function renderWarnings(warnings: readonly Warning[], paint: Painter, width: number): string[] {
  if (warnings.length === 0) return [paint.green("No warnings.")];
  const lines = [paint.yellow(paint.bold(`${warnings.length} warning${warnings.length === 1 ? "" : "s"}:`))];
  for (const w of warnings) {
    lines.push(...wrap(`${paint.yellow("!")} ${paint.bold(w.subject)}: ${w.message}`, "", "  ", width));
    lines.push(...wrap(`${paint.dim("→")} ${w.action}`, "  ", "    ", width));
  }
  return lines;
}

/** Word-wraps text to `width` columns, keeping a size and its unit ("8 MiB") on one line. */
function wrap(text: string, first: string, next: string, width: number): string[] {
  const words = text.split(" ").reduce<string[]>((acc, word) => {
    const previous = acc[acc.length - 1];
    if (previous !== undefined && /^(B|KiB|MiB|GiB|TiB|PiB)\b/.test(word) && /\d$/.test(previous)) acc[acc.length - 1] = `${previous} ${word}`;
    else acc.push(word);
    return acc;
  }, []);
  return fit(words, first, next, width, " ");
}

function bar(pct: number, cells: number, paint: Painter, warnAt: number): string {
  const filled = Math.min(cells, Math.max(0, Math.round((pct / 100) * cells)));
  const body = "█".repeat(filled) + "░".repeat(cells - filled);
  return `[${pct > warnAt ? paint.red(body) : paint.green(body)}]`;
}

const percent = (pct: number) => `${Number(pct.toFixed(1))}%`;
const ratio = (n: number) => `${Number(n.toFixed(2))}x`;

const ANSI = /\x1b\[[0-9;]*m/g;
const visibleLength = (s: string) => s.replace(ANSI, "").length;

interface Painter {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

function painter(color: boolean): Painter {
  const code = (open: number) => (s: string) => (color ? `\x1b[${open}m${s}\x1b[0m` : s);
  return { bold: code(1), dim: code(2), red: code(31), yellow: code(33), green: code(32), cyan: code(36) };
}
