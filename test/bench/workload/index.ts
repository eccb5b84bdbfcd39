import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/ssh";
import { attachTestHost } from "../../host/attach";
import { startTestHost, TestHost } from "../../host/testHost";
import { rootConnection, rootConnectionArgs, scrubDisks } from "../../support/guest";
import { countScripts, stopCountingScripts } from "../../support/sshTraffic";
import { measured, medians, PhaseRow, table, total } from "./measure";
import { baselinePhase, floorPlan, floorSession, journaledFloorPlan, naivePlan } from "./naive";
import { phasesThroughEngine } from "./engineRun";
import { PhaseName, PHASES, program, Workload, workload } from "./workload";
import { Argv } from "../../../provider/command";

/**
 * The workload benchmark (issue 12): a VG and N qcow2 disks, a chain snapshot of each, a refresh, an up that changes
 * nothing, a destroy — through the engine driver and the real plugin ("ours"), the naive way ("baseline") and by one
 * script per phase in one SSH session ("floor"), in one run against one guest; and ours again with each snapshot
 * `deletedWith` its disk ("deletedWith": the destroy removes each chain with its disk, merging nothing). Prints the
 * medians of REPS repetitions and writes them as JSON. Timing never fails it; only a failed operation does.
 * `PULUMI_LVM_TEST_HOST=<info.json>` attaches to a running guest; `N` (default 20), `REPS` (default 3),
 * `BENCH_OUT` (default <tmp>/pulumi-lvm-bench) where the JSON goes, `WAYS` (default all four) which ways to run.
 */
const WAYS = ["floor", "journaled", "baseline", "ours", "deletedWith"] as const;
type Way = typeof WAYS[number];

async function main(): Promise<void> {
  const n = Number(process.env.N ?? 20);
  const reps = Number(process.env.REPS ?? 3);
  const info = process.env.PULUMI_LVM_TEST_HOST;
  const h: TestHost = info ? attachTestHost(JSON.parse(fs.readFileSync(info, "utf8"))) : await startTestHost();
  const w = workload("benchvg", h.disks[h.disks.length - 1], n);
  const clean = () => scrubDisks(h, [w.device], [w.vg]);
  const runs: Record<Way, PhaseRow[][]> = { floor: [], journaled: [], baseline: [], ours: [], deletedWith: [] };
  const ways = (process.env.WAYS ?? WAYS.join(",")).split(",") as Way[];
  const extra = { stateBytesPerResource: [] as number[], providerBytes: {} as Record<string, number>, pluginPeakRssMB: [] as number[], pluginStartMs: [] as number[] };
  try {
    await countScripts(h);
    const run = { floor: () => floor(h, floorPlan(w)), journaled: () => floor(h, journaledFloorPlan(w)), baseline: () => baseline(h, w), ours: () => ours(h, w, extra, false), deletedWith: () => ours(h, w, extra, true) };
    for (let rep = 1; rep <= reps; rep++) {
      for (const way of ways) {
        await clean();
        runs[way].push(await run[way]());
      }
      console.log(`repetition ${rep}/${reps}: ${ways.map((way) => `${way} ${total(runs[way][rep - 1]).seconds.toFixed(1)} s`).join(", ")}`);
    }
  } finally {
    await clean().catch(() => undefined);
    await stopCountingScripts(h).catch(() => undefined);
    await closeAll();
    if (!info) await h.stop();
  }
  const med = Object.fromEntries(ways.map((way) => [way, medians(runs[way])]));
  const summary = {
    stateBytesPerResource: Math.max(...extra.stateBytesPerResource),
    providerBytesPerResource: extra.providerBytes,
    pluginPeakRssMB: Math.max(...extra.pluginPeakRssMB),
    pluginStartMs: Math.round(Math.max(...extra.pluginStartMs)),
  };
  console.log(`\nworkload: a VG, ${n} qcow2 disks of ${w.diskMiB} MiB, a chain snapshot of each; median of ${reps} (hs = SSH handshakes, exec = scripts started)`);
  for (const line of table(med, [["ours", "floor"], ["baseline", "ours"], ["ours", "journaled"], ["journaled", "floor"], ["deletedWith", "floor"]])) console.log(line);
  console.log(`ours: state ${summary.stateBytesPerResource} bytes per resource; serialized provider per resource ` +
    `${Object.entries(summary.providerBytesPerResource).map(([t, b]) => `${t} ${b}`).join(", ")} bytes; ` +
    `plugin peak RSS ${summary.pluginPeakRssMB.toFixed(0)} MB; plugin start ${summary.pluginStartMs} ms`);
  const dir = process.env.BENCH_OUT ?? path.join(os.tmpdir(), "pulumi-lvm-bench");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `workload-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ n, reps, diskMiB: w.diskMiB, medians: med, runs, ...summary }, null, 2) + "\n");
  console.log(`written to ${file}`);
}

/** One script per phase in one SSH session: the floor, or the journaled floor. */
async function floor(h: TestHost, plan: Record<PhaseName, Argv[]>): Promise<PhaseRow[]> {
  let session: Awaited<ReturnType<typeof floorSession>> | undefined;
  const rows: PhaseRow[] = [];
  try {
    for (const phase of PHASES) {
      rows.push(await measured(h, phase, async () => {
        session ??= await floorSession(rootConnection(h)); // the handshake counts in the first phase
        await session.phase(phase, plan[phase]);
      }));
    }
  } finally { session?.close(); }
  return rows;
}

async function baseline(h: TestHost, w: Workload): Promise<PhaseRow[]> {
  const plan = naivePlan(w);
  const rows: PhaseRow[] = [];
  for (const phase of PHASES) rows.push(await measured(h, phase, () => baselinePhase(rootConnection(h), plan[phase])));
  return rows;
}

/** Ours: the program through the engine driver and the real plugin, one operation per phase; `deletedWith` as program() says. */
async function ours(h: TestHost, w: Workload, extra: { stateBytesPerResource: number[]; providerBytes: Record<string, number>; pluginPeakRssMB: number[]; pluginStartMs: number[] },
  deletedWith: boolean): Promise<PhaseRow[]> {
  const args = rootConnectionArgs(h);
  return phasesThroughEngine(h, "bench", (snapshots) => program(w, args, { snapshots, deletedWith }), (phase, r, { engine, stateFile }) => {
    if (r.pluginPeakRss) extra.pluginPeakRssMB.push(r.pluginPeakRss / 1e6);
    if (r.pluginStartMs) extra.pluginStartMs.push(r.pluginStartMs);
    Object.assign(extra.providerBytes, r.providerBytes);
    if (phase === "snapshot") extra.stateBytesPerResource.push(Math.round(fs.statSync(stateFile).size / engine.readState().resources.length));
  });
}

void main().catch((e) => { console.error(e); process.exitCode = 1; });
