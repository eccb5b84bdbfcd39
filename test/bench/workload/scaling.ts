import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/ssh";
import { attachTestHost } from "../../host/attach";
import { startTestHost, TestHost } from "../../host/testHost";
import { mustSucceed, testEngine } from "../../support/engine";
import { rootConnection, rootConnectionArgs, scrubDisks } from "../../support/guest";
import { countScripts, stopCountingScripts } from "../../support/sshTraffic";
import { Result } from "../../engine/driver";
import { measured, median, PhaseRow } from "./measure";
import { floorPlan, floorSession } from "./naive";
import { program, workload } from "./workload";

/**
 * Scaling (issue 12): a refresh and an up that changes nothing, for 1, 10 and 50 qcow2 disks with a chain snapshot
 * each, on one host through the engine driver and the real plugin: time, SSH handshakes and scripts started (execs),
 * and the floor of the refresh (its reads by hand in an open session, so how the reads alone grow),
 * medians of REPS (default 3) runs, and how each grows against one disk. `SIZES` (default "1,10,50") and
 * `PULUMI_LVM_TEST_HOST` as in the workload benchmark; the JSON goes beside it. Timing never fails it.
 */
async function main(): Promise<void> {
  const sizes = (process.env.SIZES ?? "1,10,50").split(",").map(Number);
  const reps = Number(process.env.REPS ?? 3);
  const info = process.env.PULUMI_LVM_TEST_HOST;
  const h: TestHost = info ? attachTestHost(JSON.parse(fs.readFileSync(info, "utf8"))) : await startTestHost();
  const device = h.disks[h.disks.length - 1];
  const rows: { disks: number; resources: number; refresh: PhaseRow; floorRefresh: PhaseRow; unchanged: PhaseRow; pluginPeakRssMB: number }[] = [];
  try {
    await countScripts(h);
    for (const n of sizes) {
      const w = workload("scalevg", device, n);
      await scrubDisks(h, [device], [w.vg]);
      const { engine } = testEngine("scaling");
      const p = program(w, rootConnectionArgs(h), { snapshots: true, deletedWith: true });
      mustSucceed(await engine.up(p));
      const refresh: PhaseRow[] = [];
      const floorRefresh: PhaseRow[] = [];
      const unchanged: PhaseRow[] = [];
      const floor = await floorSession(rootConnection(h));
      let rss = 0;
      const noted = (r: Result) => { rss = Math.max(rss, (mustSucceed(r).pluginPeakRss ?? 0) / 1e6); };
      for (let rep = 0; rep < reps; rep++) {
        refresh.push(await measured(h, "refresh", async () => noted(await engine.refresh())));
        // The same reads by hand in one open session: one lvs, one qemu-img info --backing-chain per disk.
        floorRefresh.push(await measured(h, "refresh", () => floor.phase("refresh", floorPlan(w).refresh)));
        unchanged.push(await measured(h, "unchanged", async () => noted(await engine.up(p))));
      }
      const med = (xs: PhaseRow[]): PhaseRow => ({ phase: xs[0].phase, seconds: median(xs.map((x) => x.seconds)),
        handshakes: median(xs.map((x) => x.handshakes)), execs: median(xs.map((x) => x.execs)) });
      floor.close();
      rows.push({ disks: n, resources: 2 * n + 1, refresh: med(refresh), floorRefresh: med(floorRefresh), unchanged: med(unchanged), pluginPeakRssMB: Math.round(rss) });
      mustSucceed(await engine.destroy());
      console.log(`${n} disks: refresh ${rows[rows.length - 1].refresh.seconds.toFixed(2)} s`);
    }
  } finally {
    await scrubDisks(h, [device], ["scalevg"]).catch(() => undefined);
    await stopCountingScripts(h).catch(() => undefined);
    await closeAll();
    if (!info) await h.stop();
  }
  const one = rows[0];
  console.log(`\nscaling: qcow2 disks with a chain snapshot each, one host; median of ${reps} (hs = SSH handshakes, exec = scripts started)`);
  console.log(`${"disks".padStart(5)} ${"resources".padStart(9)} ${"refresh s".padStart(10)} ${"x first".padStart(8)} ${"hs/exec".padStart(8)} ` +
    `${"floor refresh s".padStart(16)} ${"x first".padStart(8)} ` +
    `${"unchanged up s".padStart(15)} ${"x first".padStart(8)} ${"hs/exec".padStart(8)} ${"plugin RSS MB".padStart(14)}`);
  for (const r of rows) {
    console.log(`${String(r.disks).padStart(5)} ${String(r.resources).padStart(9)} ${r.refresh.seconds.toFixed(2).padStart(10)} ` +
      `${(r.refresh.seconds / one.refresh.seconds).toFixed(2).padStart(8)} ${`${r.refresh.handshakes}/${r.refresh.execs}`.padStart(8)} ` +
      `${r.floorRefresh.seconds.toFixed(2).padStart(16)} ${(r.floorRefresh.seconds / one.floorRefresh.seconds).toFixed(2).padStart(8)} ` +
      `${r.unchanged.seconds.toFixed(2).padStart(15)} ${(r.unchanged.seconds / one.unchanged.seconds).toFixed(2).padStart(8)} ` +
      `${`${r.unchanged.handshakes}/${r.unchanged.execs}`.padStart(8)} ${String(r.pluginPeakRssMB).padStart(14)}`);
  }
  const dir = process.env.BENCH_OUT ?? path.join(os.tmpdir(), "pulumi-lvm-bench");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `scaling-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ reps, rows }, null, 2) + "\n");
  console.log(`written to ${file}`);
}

void main().catch((e) => { console.error(e); process.exitCode = 1; });
