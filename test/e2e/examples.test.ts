import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Engine } from "../engine/driver";
import { revealProps } from "../engine/values";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed } from "../support/engine";
import { contentSha256, diskSignatures, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

const EXAMPLES = path.resolve(__dirname, "..", "..", "examples");
const MiB = 1024 * 1024;

/**
 * The example programs exactly as a user runs them (compiled to dist/examples/<name>, `require("pulumi-lvm")`
 * resolving to this build), through Pulumi's real dynamic-provider plugin, against the test guest: what each
 * example's README promises is checked on the host with LVM's and qemu-img's own tools.
 */
describe("the examples through the engine (e2e)", function () {
  let h: TestHost;
  let devices: string[];
  const workDirs: string[] = [];
  const timings: string[] = [];

  before(async () => {
    h = await useTestHost();
    devices = [h.disks[0], h.disks[1]];
    await scrubDisks(h, devices, ["vmdata", "vmstore", "ci", "vmthin"]);
  });
  after(async () => {
    if (h) await scrubDisks(h, devices, ["vmdata", "vmstore", "ci", "vmthin"]);
    for (const dir of workDirs) fs.rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`      [examples timings] ${timings.join("; ")}\n`);
  });

  /** An engine running dist/examples/<name> with the stack config a user would set, plus a timed wrapper. */
  function example(name: string) {
    const programDir = path.join(EXAMPLES, name);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-lvm-example-${name}-`));
    workDirs.push(workDir);
    const engine = new Engine({
      programDir,
      stateFile: path.join(workDir, "state.json"),
      project: name,
      stack: "test",
      config: {
        [`${name}:host`]: h.host,
        [`${name}:port`]: String(h.port),
        [`${name}:privateKey`]: { secret: h.privateKey },
        [`${name}:hostKey`]: h.hostKey,
        [`${name}:devices`]: JSON.stringify(devices),
      },
      log: (line) => { if (process.env.PULUMI_LVM_TEST_VERBOSE) console.log(`      ${line}`); },
    });
    const program = () => require(path.join(programDir, "index.js"));
    const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
      const start = Date.now();
      try { return await run(); } finally { timings.push(`${name} ${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`); }
    };
    return { engine, program, timed };
  }

  const lvNames = async (vg: string) => (await h.exec(`lvs --noheadings -o lv_name ${vg}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  const vgExists = async (vg: string) => (await h.exec("vgs --noheadings -o vg_name")).split("\n").some((l) => l.trim() === vg);

  /** up, a preview that changes nothing, a refresh without drift: the checks every example shares. */
  async function upAndSettle(e: ReturnType<typeof example>) {
    const up = mustSucceed(await e.timed("up", () => e.engine.up(e.program)));
    const again = mustSucceed(await e.timed("preview", () => e.engine.preview(e.program)));
    assert.deepStrictEqual(changes(again), [], "a second preview wants no changes");
    const refresh = mustSucceed(await e.timed("refresh", () => e.engine.refresh()));
    assert.deepStrictEqual(refresh.steps.filter((s) => s.gone || (s.driftedInputs?.length ?? 0) > 0), [], "refresh finds no drift");
    return up;
  }

  async function destroyToBlank(e: ReturnType<typeof example>, vg: string) {
    mustSucceed(await e.timed("destroy", () => e.engine.destroy()));
    assert.strictEqual(await vgExists(vg), false, `VG ${vg} is gone after destroy`);
    assert.deepStrictEqual(await diskSignatures(h, devices), Object.fromEntries(devices.map((d) => [d, ""])), "destroy leaves the devices blank");
  }

  it("proxmox-chain: a qcow2 disk with two volume-chain snapshots, renamed and backed as Proxmox VE 9 does", async () => {
    const e = example("proxmox-chain");
    const disk = "vm-401-disk-0.qcow2";
    const before = "snap_vm-401-disk-0_before-upgrade.qcow2";
    const after = "snap_vm-401-disk-0_after-upgrade.qcow2";
    const up = await upAndSettle(e);

    assert.deepStrictEqual(await lvNames("vmdata"), [after, before, disk].sort());
    const chain = JSON.parse(await h.exec(`qemu-img info --output=json --backing-chain /dev/vmdata/${disk}`)) as Record<string, unknown>[];
    assert.deepStrictEqual(chain.map((i) => [i.filename, i["backing-filename"]]), [
      [`/dev/vmdata/${disk}`, after],
      [`/dev/vmdata/${after}`, before],
      [`/dev/vmdata/${before}`, undefined],
    ], "the disk reads through after-upgrade, then before-upgrade, by relative names");

    const outputs = revealProps(up.outputs);
    assert.deepStrictEqual(outputs.beforeUpgradeSnapshot, { lvName: before, backingFile: before });
    assert.deepStrictEqual(outputs.afterUpgradeSnapshot, { lvName: after, parent: before, backingFile: after });
    assert.strictEqual(outputs.diskPath, `/dev/vmdata/${disk}`);
    // backingFile is the disk's current backing file as last read: after the refresh, after-upgrade for both.
    const refreshed = (name: string) => revealProps(e.engine.readState().resources.find((r) => r.name === name)!.outputs).backingFile;
    assert.strictEqual(refreshed("vm-401-disk-0-before-upgrade"), after);
    assert.strictEqual(refreshed("vm-401-disk-0-after-upgrade"), after);

    // Destroy deletes after-upgrade first (the disk is rebased onto before-upgrade), then before-upgrade (committed
    // into by the disk, which then takes back its own name), then the disk and the VG.
    await destroyToBlank(e, "vmdata");
  });

  it("thick-snapshot: a raw disk and a 10% thick snapshot named linux01-snap, taken between the quiesce hooks", async () => {
    const e = example("thick-snapshot");
    const hookLines = async () => Number(await h.exec("journalctl -q --no-pager -o cat | grep -c 'pulumi-lvm: snapshot taken' || true"));
    const hooksBefore = await hookLines();
    const up = await upAndSettle(e);

    const lvs = await h.exec("lvs --noheadings --units b --nosuffix -o lv_name,origin,lv_size vmstore");
    const rows = lvs.trim().split("\n").map((l) => l.trim().split(/\s+/)).sort();
    assert.deepStrictEqual(rows, [
      ["linux01", "1073741824"],
      ["linux01-snap", "linux01", String(104 * MiB)], // 10% of 1 GiB (102.4 MiB), rounded up to whole 4 MiB extents
    ]);
    assert.strictEqual(await hookLines(), hooksBefore + 1, "the after hook logged once");

    // Refresh updates resources, not stack outputs (the program does not run): read the snapshot's state.
    const snapshotState = () => {
      const { usedPercent, valid } = revealProps(e.engine.readState().resources.find((r) => r.name === "linux01-snap")!.outputs);
      return { usedPercent: Number(usedPercent), valid };
    };
    const outputs = revealProps(up.outputs);
    assert.strictEqual(outputs.snapshotPath, "/dev/vmstore/linux01-snap");
    assert.strictEqual(outputs.valid, true);
    assert.strictEqual(outputs.usedPercent, 0);

    // Writes to the disk fill the copy-on-write area; past its size LVM drops the snapshot: refresh reports it.
    await h.exec("dd if=/dev/urandom of=/dev/vmstore/linux01 bs=1M count=40 oflag=direct status=none");
    mustSucceed(await e.timed("refresh after 40 MiB", () => e.engine.refresh()));
    const filled = snapshotState();
    assert.ok(filled.valid === true && filled.usedPercent >= 38 && filled.usedPercent < 45, `40 MiB in a 104 MiB area: ${JSON.stringify(filled)}`);
    await h.exec("dd if=/dev/urandom of=/dev/vmstore/linux01 bs=1M count=80 seek=40 oflag=direct status=none");
    mustSucceed(await e.timed("refresh after 120 MiB", () => e.engine.refresh()));
    const overflowed = snapshotState();
    assert.strictEqual(overflowed.valid, false, `120 MiB overflow a 104 MiB area: ${JSON.stringify(overflowed)}`);

    await destroyToBlank(e, "vmstore");
  });

  it("ci-snapshots: each new run id exports the last run's disk, then restores the golden state", async () => {
    const e = example("ci-snapshots");
    e.engine.config["ci-snapshots:runId"] = "1";
    e.engine.config["ci-snapshots:diskSize"] = "64MiB"; // the export of every run is what takes the time
    const disk = "/dev/ci/vm-900-disk-0.qcow2";
    const exportFile = "/var/tmp/vm-900-last-run.qcow2";
    const sum = (image: string) => contentSha256(h, image, "qcow2");
    await h.exec(`rm -f ${exportFile} ${exportFile}.pulumi-lvm.json`);
    await upAndSettle(e);
    assert.deepStrictEqual(await lvNames("ci"), ["snap_vm-900-disk-0_golden.qcow2", "vm-900-disk-0.qcow2"]);
    const golden = await sum("/dev/ci/snap_vm-900-disk-0_golden.qcow2");

    for (const run of ["2", "3"]) {
      // The run's tests write to the disk.
      await h.exec(`qemu-io -f qcow2 -c 'write -P 0x${run}${run} 0 4M' -c 'write -P 0x5a 40M 1M' ${disk} >/dev/null`);
      const leftByRun = await sum(disk);
      assert.notStrictEqual(leftByRun, golden);
      e.engine.config["ci-snapshots:runId"] = run;
      const up = mustSucceed(await e.timed(`up run ${run}`, () => e.engine.up(e.program)));
      assert.deepStrictEqual(changes(up).map((s) => s.name).filter((n) => n !== "ci-snapshots-test").sort(), ["last-run", "restore-golden"]);
      assert.strictEqual(await sum(disk), golden, `run ${run} starts from the golden state`);
      assert.strictEqual(await sum(exportFile), leftByRun, "the export holds what the previous run left");
      assert.strictEqual((revealProps(up.outputs).lastRunExport as { sha256: string }).sha256, leftByRun, "sha256 is the checksum of the raw content");
      assert.deepStrictEqual(await lvNames("ci"), ["snap_vm-900-disk-0_golden.qcow2", "vm-900-disk-0.qcow2"], "no temporary LV left");
    }
    assert.deepStrictEqual(changes(mustSucceed(await e.engine.preview(e.program))), [], "the same run id changes nothing");
    await destroyToBlank(e, "ci");
    assert.strictEqual((await h.exec(`ls ${exportFile}* 2>/dev/null || true`)).trim(), "", "destroy deletes the export file");
  });

  it("thin: Proxmox's local-lvm layout, a pool over-committed by a raw and a qcow2 thin disk, and a thin snapshot", async () => {
    const e = example("thin");
    const up = await upAndSettle(e);

    const lvs = async () => (JSON.parse(await h.exec("lvs --reportformat json --units b --nosuffix -o lv_name,lv_attr,lv_size,pool_lv,origin,lv_metadata_size,lv_tags vmthin"))
      .report[0].lv as Record<string, string>[]).sort((a, b) => a.lv_name.localeCompare(b.lv_name));
    const measure = JSON.parse(await h.exec(`qemu-img measure --output=json --size ${1024 * MiB} -O qcow2 -o cluster_size=131072,extended_l2=on,preallocation=metadata`));
    const qcow2Lv = Math.ceil(measure["fully-allocated"] / (4 * MiB)) * 4 * MiB;
    assert.deepStrictEqual((await lvs()).map((l) => [l.lv_name, l.lv_attr, Number(l.lv_size), l.pool_lv, l.origin]), [
      ["data", "twi-aotz--", 2048 * MiB, "", ""],
      ["snap_vm-500-disk-0_before-upgrade", "Vri---tz-k", 2048 * MiB, "data", "vm-500-disk-0"], // read-only, inactive, skip flag
      ["vm-500-disk-0", "Vwi-a-tz--", 2048 * MiB, "data", ""],
      ["vm-501-disk-0.qcow2", "Vwi-a-tz--", qcow2Lv, "data", ""],
    ]);
    const data = (await lvs())[0];
    assert.deepStrictEqual([Number(data.lv_metadata_size), data.lv_tags.split(",").sort()],
      [16 * MiB, ["pulumi-lvm/thin-max-over-commit=4", "pulumi-lvm/thin-refuse-above=90"]]);
    const outputs = revealProps(up.outputs);
    assert.deepStrictEqual(outputs.snapshot, { lvName: "snap_vm-500-disk-0_before-upgrade", method: "thin", thinPool: "data" });
    assert.deepStrictEqual(outputs.disks, { raw: "/dev/vmthin/vm-500-disk-0", qcow2: "/dev/vmthin/vm-501-disk-0.qcow2" });

    // The pool's state after the refresh: three thin LVs and the snapshot promise 2.5 times its data space.
    const pool = () => revealProps(e.engine.readState().resources.find((r) => r.name === "data")!.outputs);
    const virtual = 2048 * MiB + qcow2Lv + 2048 * MiB;
    assert.deepStrictEqual([pool().thinLvCount, pool().virtualSizeBytes, pool().overCommit], [3, virtual, Math.round((virtual / (2048 * MiB)) * 1000) / 1000]);
    const before = Number(pool().dataPercent);
    await h.exec("dd if=/dev/urandom of=/dev/vmthin/vm-500-disk-0 bs=1M count=100 oflag=direct status=none");
    mustSucceed(await e.timed("refresh after 100 MiB", () => e.engine.refresh()));
    const grown = Number(pool().dataPercent) - before;
    assert.ok(Math.abs(grown - (100 / 2048) * 100) <= 0.02, `100 MiB of a 2 GiB pool: ${grown}`);

    await destroyToBlank(e, "vmthin");
  });
});
