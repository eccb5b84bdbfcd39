// Records the upgrade fixtures of this release (test/upgrade/fixtures/<release>/), against a running test guest:
//   node dist/test/host/cli.js start /tmp/host.json &   (then, once it is up)
//   npm run build && PULUMI_LVM_TEST_HOST=/tmp/host.json node dist/test/upgrade/record.js <release>
// Only for a new release whose state format is new: once recorded, a release's fixtures are never re-recorded (a change
// that breaks them needs a migration in the provider, see test/faults/upgrade.test.ts).
import { closeAll } from "../../provider/ssh";
import { ResourceState } from "../engine/state";
import { mustSucceed, testEngine } from "../support/engine";
import { installWrapper, removeWrappers, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";
import { Recipe, writeFixtures } from "./fixtures";
import { EXPORT_PATH, Phase, QCOW2, RAW, THIN, upgradeStack, VG } from "./stack";

/** Where the sh wrapper keeps each script the provider starts (`sh -s`), named by its start time. */
const RECORDED = "/run/pulumi-lvm-recorded";

/** The test's own writes, between the phases: content the checksums of the upgrade test follow. */
const WRITES: Record<Phase, string[]> = {
  disks: [
    `yes raw-recorded | head -c 4M | dd of=/dev/${VG}/${RAW} bs=1M conv=fsync status=none`,
    `qemu-io -f qcow2 -c 'write -P 0x11 0 2M' /dev/${VG}/${QCOW2} >/dev/null`,
    `yes thin-recorded | head -c 4M | dd of=/dev/${VG}/${THIN} bs=1M conv=fsync status=none`,
  ],
  snapshots: [
    `yes raw-after-snapshot | head -c 2M | dd of=/dev/${VG}/${RAW} bs=1M conv=fsync status=none`,
    `qemu-io -f qcow2 -c 'write -P 0x22 1M 2M' /dev/${VG}/${QCOW2} >/dev/null`,
    `yes thin-after-snapshot | head -c 2M | dd of=/dev/${VG}/${THIN} bs=1M conv=fsync status=none`,
  ],
  all: [],
};

/** The file of each resource: its kind and variant. */
const LABELS: Record<string, string> = {
  vg: "VolumeGroup", pool: "ThinPool", raw: "VmDisk-raw", qcow2: "VmDisk-qcow2", thin: "VmDisk-thin",
  chain: "Snapshot-chain", thick: "Snapshot-thick", thinsnap: "Snapshot-thin", rollback: "Rollback", export: "DiskExport",
};

async function main(release: string) {
  const h = await useTestHost();
  const devices = [h.disks[4], h.disks[5]];
  await scrubDisks(h, devices, [VG]);
  await h.exec(`rm -rf ${RECORDED} ${EXPORT_PATH}*; mkdir -p ${RECORDED}; ${installWrapper("sh", `#!/bin/sh
if [ "\${1:-}" = "-s" ]; then
  f=${RECORDED}/$(date +%s%N)-$$
  cat > "$f"
  exec /bin/sh -s < "$f"
fi
exec /bin/sh "$@"
`)}`);
  const { engine } = testEngine("upgrade");
  const connection = rootConnectionArgs(h);
  const steps: Recipe["steps"] = [];
  try {
    for (const phase of ["disks", "snapshots", "all"] as const) {
      mustSucceed(await engine.up(() => upgradeStack(connection, devices, phase)));
      const files = (await h.exec(`ls ${RECORDED}`)).split("\n").filter(Boolean).sort();
      for (const f of files) steps.push({ script: await h.exec(`cat ${RECORDED}/${f}; rm ${RECORDED}/${f}`) });
      for (const command of WRITES[phase]) {
        await h.exec(command);
        steps.push({ test: command });
      }
    }
  } finally {
    await h.exec(`${removeWrappers(["sh"])}; rm -rf ${RECORDED}`);
  }
  const state = engine.readState();
  const dir = writeFixtures(release, state, { devices, steps }, h, (r: ResourceState) => LABELS[r.name]);
  console.log(`recorded ${state.resources.length} resources and ${steps.length} host steps in ${dir}`);
  mustSucceed(await engine.destroy());
  await closeAll();
}

const release = process.argv[2];
if (!release) throw new Error("usage: record.js <release>");
main(release).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
