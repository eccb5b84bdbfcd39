// Per-phase figures as the guest records them (sshd's logins, the scripts started), and how they are summarised.
import { TestHost } from "../../host/testHost";
import { acceptedLogins, scriptsStarted } from "../../support/sshTraffic";
import { PhaseName, PHASES } from "./workload";

export interface PhaseRow { phase: PhaseName; seconds: number; handshakes: number; execs: number }

/** Runs one phase and counts, on the guest, the SSH logins and the scripts (`sh -s`) it caused. */
export async function measured(h: TestHost, phase: PhaseName, work: () => Promise<unknown>): Promise<PhaseRow> {
  const [logins, scripts] = [await acceptedLogins(h), await scriptsStarted(h)];
  const start = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { phase, seconds, handshakes: (await acceptedLogins(h)) - logins, execs: (await scriptsStarted(h)) - scripts };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The median of each figure of each phase over the repetitions, and a total row. */
export function medians(reps: PhaseRow[][]): PhaseRow[] {
  const rows = PHASES.map((phase) => {
    const of = (k: "seconds" | "handshakes" | "execs") => median(reps.map((r) => r.find((x) => x.phase === phase)![k]));
    return { phase, seconds: of("seconds"), handshakes: of("handshakes"), execs: of("execs") };
  });
  return rows;
}

export function total(rows: PhaseRow[]): Omit<PhaseRow, "phase"> {
  return rows.reduce((t, r) => ({ seconds: t.seconds + r.seconds, handshakes: t.handshakes + r.handshakes, execs: t.execs + r.execs }),
    { seconds: 0, handshakes: 0, execs: 0 });
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0.0005 ? `${(a / b).toFixed(2)}x` : "—");

/**
 * The table a benchmark prints: one row per phase, then the total, for every way; the ratios `[a, b]` (a's seconds
 * over b's) from the same run, for the ways present.
 */
export function table(ways: Record<string, PhaseRow[]>, ratios: [string, string][]): string[] {
  const names = Object.keys(ways);
  const shown = ratios.filter(([a, b]) => ways[a] && ways[b]);
  const width = Math.max(12, ...names.map((n) => n.length + 2));
  const rows = [...PHASES.map((p) => ({ label: p as string, get: (w: string) => ways[w].find((r) => r.phase === p)! })),
    { label: "total", get: (w: string) => total(ways[w]) }];
  const head = ["phase".padEnd(10), ...names.map((n) => `${n} s`.padStart(width)), ...shown.map(([a, b]) => `${a}/${b}`.padStart(width)),
    ...names.map((n) => `${n} hs/exec`.padStart(width + 8))].join(" ");
  return [head, ...rows.map(({ label, get }) => [
    label.padEnd(10),
    ...names.map((n) => get(n).seconds.toFixed(2).padStart(width)),
    ...shown.map(([a, b]) => ratio(get(a).seconds, get(b).seconds).padStart(width)),
    ...names.map((n) => `${get(n).handshakes}/${get(n).execs}`.padStart(width + 8)),
  ].join(" "))];
}
