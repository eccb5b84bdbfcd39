import * as fs from "fs";
import { CommandRunner, Script, ScriptResult } from "../../provider/command";
import { readHostLvm } from "../../provider/lvm/hostState";
import { parseLvs, reportArgv } from "../../provider/lvm/report";
import { closeAll, hostFor, parseConnection } from "../../provider/ssh";
import { attachTestHost } from "../host/attach";
import { startTestHost, TestHost } from "../host/testHost";

/**
 * A refresh of N resources on one host: every resource reads its LV. Batched (readHostLvm: the reads asked for in
 * the same turn share one `vgs`+`pvs`+`lvs` round trip) against the baseline of one `lvs` script per resource.
 * Both use the same pooled SSH connection, so the difference is round trips and LVM runs alone.
 * `PULUMI_LVM_TEST_HOST=<info.json>` attaches to a running guest; `N=<count>` (default 20).
 */
async function main(): Promise<void> {
  const n = Number(process.env.N ?? 20);
  const info = process.env.PULUMI_LVM_TEST_HOST;
  const h: TestHost = info ? attachTestHost(JSON.parse(fs.readFileSync(info, "utf8"))) : await startTestHost();
  const disk = h.disks[h.disks.length - 1];
  try {
    await h.exec(`pvcreate -qy ${disk} && vgcreate -qy benchvg ${disk} && for i in $(seq 1 ${n}); do lvcreate -qy -Wn -an -L 4m -n lv$i benchvg; done >/dev/null`);
    const host = counting(hostFor(parseConnection({ host: h.host, port: h.port, privateKey: h.privateKey, hostKey: h.hostKey })));
    await host.run(new Script("warm up").capture("x", ["true"]));
    const names = Array.from({ length: n }, (_, i) => `lv${i + 1}`);

    host.trips = 0;
    const batched = await timed(() => Promise.all(names.map(async (lv) => {
      const state = await readHostLvm(host);
      if (!state.lvs.some((l) => l.vg === "benchvg" && l.name === lv)) throw new Error(`${lv} missing`);
    })));
    const batchedTrips = host.trips;

    host.trips = 0;
    const separate = await timed(() => Promise.all(names.map(async (lv) => {
      const r = await host.run(new Script(`read ${lv}`).capture("lvs", reportArgv("lv", `vg_name=benchvg && lv_name=${lv}`)));
      if (parseLvs(r.sections.lvs).length !== 1) throw new Error(`${lv} missing`);
    })));
    const separateTrips = host.trips;

    console.log(`refresh of ${n} resources on one host (same pooled SSH connection for both)`);
    console.log(`  one read per resource (baseline): ${(separate / 1000).toFixed(2).padStart(6)} s, ${separateTrips} round trips`);
    console.log(`  batched per host:                 ${(batched / 1000).toFixed(2).padStart(6)} s, ${batchedTrips} round trip${batchedTrips === 1 ? "" : "s"}`);
    console.log(`  speed-up: ${(separate / batched).toFixed(1)}x`);
  } finally {
    await h.exec(`vgremove -qffy benchvg >/dev/null 2>&1; pvremove -qy ${disk} >/dev/null 2>&1; wipefs -aq ${disk}`).catch(() => undefined);
    await closeAll();
    if (!info) await h.stop();
  }
}

function counting<T extends CommandRunner>(runner: T): T & { trips: number } {
  const counted = Object.assign(Object.create(runner) as T, { trips: 0 });
  counted.run = (script: Script): Promise<ScriptResult> => { counted.trips++; return runner.run(script); };
  return counted;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

void main().catch((e) => { console.error(e); process.exitCode = 1; });
