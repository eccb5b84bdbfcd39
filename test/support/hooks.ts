import * as fs from "fs";
import { startTestHost, TestHost } from "../host/testHost";

/**
 * The guest is booted once per mocha run, by the first end-to-end suite that asks for it, and always stopped
 * at the end (root afterAll, plus signal handlers; the watchdog in testHost covers SIGKILL).
 *
 * For development, `PULUMI_LVM_TEST_HOST=<file>` attaches to a guest kept running by
 * `node dist/test/host/cli.js start <file>` instead of booting one.
 */
let started: Promise<TestHost> | undefined;

export function useTestHost(): Promise<TestHost> {
  if (!started) {
    const attach = process.env.PULUMI_LVM_TEST_HOST;
    started = attach ? attachTo(attach) : startTestHost();
    started.then((h) => {
      if (!attach) process.stderr.write(`[test-host] image ready in ${h.imageBuildSeconds.toFixed(1)} s, boot ${h.bootSeconds.toFixed(1)} s\n`);
    }, () => undefined);
  }
  return started;
}

async function attachTo(file: string): Promise<TestHost> {
  const { attachTestHost } = await import("../host/attach");
  return attachTestHost(JSON.parse(fs.readFileSync(file, "utf8")));
}

async function stopHost(): Promise<void> {
  const host = started;
  started = undefined;
  if (host) await host.then((h) => h.stop(), () => undefined);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => { void stopHost().finally(() => process.exit(130)); });
}

const runStart = Date.now();
export const mochaHooks = {
  async afterAll(this: unknown) {
    await stopHost();
    process.stderr.write(`[test-host] suite took ${((Date.now() - runStart) / 1000).toFixed(1)} s\n`);
  },
};
