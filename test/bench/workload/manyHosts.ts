import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/ssh";
import { attachTestHost } from "../../host/attach";
import { startExtraSshd, startTestHost, TestHost } from "../../host/testHost";
import { rootConnectionArgs, scrubDisks } from "../../support/guest";
import { countScripts, stopCountingScripts } from "../../support/sshTraffic";
import { phasesThroughEngine } from "./engineRun";
import { medians, PhaseRow, table, total } from "./measure";
import { programOnHosts, Workload, workload } from "./workload";

/**
 * Many hosts (issue 12): the workload (a VG, N qcow2 disks, a chain snapshot of each, refresh, an unchanged up,
 * destroy) split over HOSTS hosts in one stack, against one host doing 1/HOSTS of it and one host doing all of it,
 * through the engine driver and the real plugin. The hosts are further sshd instances of the test guest, each reached
 * on a port of its own, so the plugin opens a connection (a handshake) per host; each host has its own VG on its own
 * disk. What they share is the guest's two emulated CPUs, which a real fleet would not. `N` (default 20), `REPS`
 * (default 3), `PULUMI_LVM_TEST_HOST` (a guest started by cli.js, which forwards the ports) and `BENCH_OUT` as in the
 * workload benchmark. Timing never fails it.
 */
const HOSTS = 4;

async function main(): Promise<void> {
  const n = Number(process.env.N ?? 20);
  const reps = Number(process.env.REPS ?? 3);
  const info = process.env.PULUMI_LVM_TEST_HOST;
  const h: TestHost = info ? attachTestHost(JSON.parse(fs.readFileSync(info, "utf8"))) : await startTestHost({ extraSshPorts: HOSTS - 1 });
  const extra = h.extraSsh ?? [];
  if (extra.length < HOSTS - 1) throw new Error(`the guest forwards ${extra.length} further SSH ports; ${HOSTS - 1} are needed (start it with cli.js)`);
  const share = Math.ceil(n / HOSTS);
  // Host k: its own port, VG and disk; its disks numbered after the other hosts', so their names differ too.
  const hosts = Array.from({ length: HOSTS }, (_, k) => ({
    connection: { ...rootConnectionArgs(h), port: k === 0 ? h.port : extra[k - 1].port },
    w: workload(`benchvg${k}`, h.disks[h.disks.length - 1 - k], share, k * share),
  }));
  const ways: Record<string, () => Promise<PhaseRow[]>> = {
    [`${HOSTS} hosts`]: () => run(h, hosts),
    "1 host, 1/4": () => run(h, [hosts[0]]),
    "1 host, all": () => run(h, [{ ...hosts[0], w: workload("benchvg0", hosts[0].w.device, share * HOSTS) }]),
  };
  const runs: Record<string, PhaseRow[][]> = Object.fromEntries(Object.keys(ways).map((way) => [way, []]));
  const clean = () => scrubDisks(h, hosts.map((x) => x.w.device), hosts.map((x) => x.w.vg));
  try {
    await startExtraSshd(h, extra.slice(0, HOSTS - 1));
    await countScripts(h);
    for (let rep = 1; rep <= reps; rep++) {
      for (const [way, go] of Object.entries(ways)) {
        await clean();
        runs[way].push(await go());
      }
      console.log(`repetition ${rep}/${reps}: ${Object.keys(ways).map((way) => `${way} ${total(runs[way][rep - 1]).seconds.toFixed(1)} s`).join(", ")}`);
    }
  } finally {
    await clean().catch(() => undefined);
    await stopCountingScripts(h).catch(() => undefined);
    await closeAll();
    if (!info) await h.stop();
  }
  const med = Object.fromEntries(Object.keys(ways).map((way) => [way, medians(runs[way])]));
  console.log(`\nmany hosts: ${share * HOSTS} qcow2 disks of 16 MiB with a chain snapshot each, on ${HOSTS} hosts (${share} each) or one; ` +
    `median of ${reps} (hs = SSH handshakes, exec = scripts started, on all hosts)`);
  const [all4, quarter, whole] = Object.keys(ways);
  for (const line of table(med, [[all4, quarter], [all4, whole]])) console.log(line);
  const dir = process.env.BENCH_OUT ?? path.join(os.tmpdir(), "pulumi-lvm-bench");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `many-hosts-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ n: share * HOSTS, hosts: HOSTS, reps, medians: med, runs }, null, 2) + "\n");
  console.log(`written to ${file}`);
}

/** The workloads of `parts` as one stack, phase by phase. */
function run(h: TestHost, parts: { connection: ReturnType<typeof rootConnectionArgs>; w: Workload }[]): Promise<PhaseRow[]> {
  return phasesThroughEngine(h, "many-hosts", (snapshots) => programOnHosts(parts, { snapshots, deletedWith: true }));
}

void main().catch((e) => { console.error(e); process.exitCode = 1; });
