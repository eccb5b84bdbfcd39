import * as fs from "fs";
import { startTestHost } from "./testHost";

/**
 * Development helper: `node dist/test/host/cli.js start <info.json>` boots a guest, writes how to reach it to
 * <info.json> and keeps it running until this process gets SIGINT/SIGTERM. Tests attach to it with
 * PULUMI_LVM_TEST_HOST=<info.json>, skipping the boot.
 */
async function main(): Promise<void> {
  const [cmd, file] = process.argv.slice(2);
  if (cmd !== "start" || !file) {
    console.error("usage: cli.js start <info.json>");
    process.exit(2);
  }
  // Three further SSH ports, so the many-hosts benchmark can attach too (test/bench/workload/manyHosts.ts).
  const host = await startTestHost({ extraSshPorts: 3 });
  const { image, runDir, port, pid, disks, bootSeconds, imageBuildSeconds, extraSsh } = host;
  fs.writeFileSync(file, JSON.stringify({ image, runDir, port, pid, disks, bootSeconds, imageBuildSeconds, extraSsh }, null, 2));
  console.log(`guest ready: ssh -p ${port} root@127.0.0.1 (info in ${file})`);
  const stop = () => { void host.stop().finally(() => { fs.rmSync(file, { force: true }); process.exit(0); }); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  setInterval(() => undefined, 1 << 30);
}
void main();
