import { TestHost } from "../host/testHost";

/**
 * What "the next up converged" means after a fault, judged from what the host and the stack show (convergenceProblems,
 * a pure function, so the judgement itself is unit-tested: test/unit/faultSteps.test.ts):
 * - every VG the operation touched holds exactly its declared LVs (LVM's own hidden ones aside: a thin pool's data and
 *   metadata, its spare; a pvmove's temporary mirror is not one of them);
 * - no LV or VG there carries a journal entry (a `pulumi-lvm/` tag other than the lasting markers), unless the stack's
 *   state says an operation is pending;
 * - every declared image (a disk, a snapshot) reads checksum-identical to what it must hold;
 * - `qemu-img check` finds no error in any qcow2 image there: each image of each chain, not only the top one;
 * - a second preview has nothing to do.
 */

/** Per VG the operation touches: each LV it must hold, with the SHA-256 of what a VM reads from it, or null (a thin pool). */
export type Declared = Record<string, Record<string, string | null>>;

export interface Seen {
  lvs: Array<{ vg: string; name: string; tags: string[] }>;
  vgs: Array<{ name: string; tags: string[] }>;
  /** What each declared image reads as ("vg/lv" -> SHA-256). */
  sums: Record<string, string>;
  /** `qemu-img check`'s output for each qcow2 LV ("vg/lv"). */
  checks: Record<string, string>;
  /** What a second preview would do ("create disk", ...), or its failure. */
  preview: string[] | { failed: string };
  /** The resources whose state says an operation is pending. */
  pending: string[];
}

/** The tags pulumi-lvm keeps on purpose; every other `pulumi-lvm/` tag is a journal entry or a temporary LV's mark. */
const LASTING_MARKERS = ["pulumi-lvm/snapshot=", "pulumi-lvm/format=", "pulumi-lvm/thin-refuse-above=", "pulumi-lvm/thin-max-over-commit="];
export const isJournalTag = (tag: string) => tag.startsWith("pulumi-lvm/") && !LASTING_MARKERS.some((m) => tag.startsWith(m));

/** LVM's own hidden LVs that come with what is declared: a thin pool's data and metadata LVs, the pool spare. */
const hiddenOf = (lv: string) => /^\[(.+)_(tdata|tmeta)\]$/.exec(lv)?.[1];
const isPoolSpare = (lv: string) => /^\[lvol\d+_pmspare\]$/.test(lv);

/** The qcow2 LVs among the declared ones (qcow2 disks and chain snapshots are named `*.qcow2`). */
export const qcow2Lvs = (declared: Declared) =>
  Object.entries(declared).flatMap(([vg, lvs]) => Object.keys(lvs).filter((lv) => lv.endsWith(".qcow2")).map((lv) => `${vg}/${lv}`));

/** Everything that keeps the host and the stack from being converged on `declared`; empty when they are. */
export function convergenceProblems(declared: Declared, seen: Seen): string[] {
  const problems: string[] = [];
  for (const [vg, want] of Object.entries(declared)) {
    const here = seen.lvs.filter((l) => l.vg === vg);
    const visible = here.map((l) => l.name).filter((n) => !n.startsWith("["));
    const names = Object.keys(want);
    const extra = visible.filter((n) => !names.includes(n));
    const missing = names.filter((n) => !visible.includes(n));
    if (extra.length || missing.length) {
      problems.push(`VG ${vg} holds ${JSON.stringify(visible.sort())}, declared ${JSON.stringify([...names].sort())}` +
        `${extra.length ? `; left over: ${extra.join(", ")}` : ""}${missing.length ? `; missing: ${missing.join(", ")}` : ""}`);
    }
    for (const hidden of here.map((l) => l.name).filter((n) => n.startsWith("["))) {
      const owner = hiddenOf(hidden);
      if (!(owner !== undefined && names.includes(owner)) && !isPoolSpare(hidden)) problems.push(`VG ${vg} holds the hidden LV ${hidden}, left over`);
    }
    if (seen.pending.length === 0) {
      for (const l of here) {
        const journal = l.tags.filter(isJournalTag);
        if (journal.length) problems.push(`${vg}/${l.name} still carries the journal tag(s) ${journal.join(", ")}`);
      }
      const journal = (seen.vgs.find((v) => v.name === vg)?.tags ?? []).filter(isJournalTag);
      if (journal.length) problems.push(`VG ${vg} still carries the journal tag(s) ${journal.join(", ")}`);
    }
    for (const [lv, sum] of Object.entries(want)) {
      if (sum === null) continue;
      const got = seen.sums[`${vg}/${lv}`];
      if (got !== sum) problems.push(`${vg}/${lv} reads ${got === undefined ? "nothing (not read)" : `as ${got}`}, must read as ${sum}`);
    }
  }
  for (const image of qcow2Lvs(declared)) {
    const check = seen.checks[image];
    if (check === undefined) problems.push(`${image} was not checked with qemu-img check`);
    else if (!/No errors were found/.test(check)) problems.push(`qemu-img check ${image}: ${check.trim().split("\n").slice(0, 4).join(" / ")}`);
  }
  if (!Array.isArray(seen.preview)) problems.push(`the second preview failed: ${seen.preview.failed}`);
  else if (seen.preview.length) problems.push(`the second preview still has something to do: ${seen.preview.join(", ")}`);
  return problems;
}

/**
 * Reads from the host what convergenceProblems judges, in one SSH session: every LV of the declared VGs (hidden ones
 * too) with its tags, the VGs' tags, what each declared image reads as (its LV activated first if it is not, as LVs may
 * be inactive after a boot; a thin snapshot skips activation without -K), and qemu-img check of every qcow2 LV there.
 */
export async function readHost(h: TestHost, declared: Declared): Promise<Pick<Seen, "lvs" | "vgs" | "sums" | "checks">> {
  const vgs = Object.keys(declared);
  const images = Object.entries(declared).flatMap(([vg, lvs]) => Object.entries(lvs).filter(([, sum]) => sum !== null).map(([lv]) => `${vg}/${lv}`));
  const script = [
    // Only an inactive one: lvchange -ay on an active thick snapshot can wait on dmeventd for minutes.
    ...images.map((i) => `[ -e /dev/${i} ] || lvchange -ay -K ${i} >/dev/null 2>&1 || true`),
    ...images.map((i) => i.endsWith(".qcow2")
      ? `echo "@sum ${i} $(qemu-img convert -U -f qcow2 -O raw /dev/${i} /root/content.raw && sha256sum < /root/content.raw | cut -c1-64; rm -f /root/content.raw)"`
      : `echo "@sum ${i} $(sha256sum < /dev/${i} | cut -c1-64)"`),
    ...qcow2Lvs(declared).map((i) => `echo "@check ${i}"; qemu-img check -U /dev/${i} 2>&1 || true`),
    `echo @lvs; lvs -a --noheadings --separator '|' -o vg_name,lv_name,lv_tags ${vgs.join(" ")} 2>/dev/null || true`,
    `echo @vgs; vgs --noheadings --separator '|' -o vg_name,vg_tags ${vgs.join(" ")} 2>/dev/null || true`,
  ].join("\n");
  const seen: Pick<Seen, "lvs" | "vgs" | "sums" | "checks"> = { lvs: [], vgs: [], sums: {}, checks: {} };
  let section = "";
  let check = "";
  for (const line of (await h.exec(script)).split("\n")) {
    const sum = /^@sum (\S+) ?(\S*)$/.exec(line);
    if (sum) { if (sum[2]) seen.sums[sum[1]] = sum[2]; continue; }
    const head = /^@(check|lvs|vgs)\s*(\S*)$/.exec(line);
    if (head) { [section, check] = [head[1], head[2]]; if (section === "check") seen.checks[check] = ""; continue; }
    if (section === "check") seen.checks[check] += `${line}\n`;
    const cols = line.trim().split("|");
    if (section === "lvs" && cols.length === 3) seen.lvs.push({ vg: cols[0], name: cols[1], tags: cols[2] ? cols[2].split(",") : [] });
    if (section === "vgs" && cols.length === 2) seen.vgs.push({ name: cols[0], tags: cols[1] ? cols[1].split(",") : [] });
  }
  return seen;
}
