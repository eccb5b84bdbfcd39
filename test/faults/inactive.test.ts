import * as assert from "assert";
import {
  DiskExport, DiskExportArgs, Rollback, RollbackArgs, Snapshot, SnapshotArgs, ThinPool, ThinPoolArgs, VmDisk, VmDiskArgs,
} from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { contentSha256, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/**
 * After a reboot, a host may leave LVs inactive (an `auto_activation_volume_list` that names none of them, or thin
 * snapshots, which LVM skips at activation): every operation must activate what it needs (a whole volume chain before
 * qemu-img reads it, a thick snapshot's origin, a thin pool), and refresh must report the truth without failing.
 * Here every LV of the VG is deactivated (`vgchange -an`) before each run, and each run is checked against checksums
 * taken before.
 */
describe("every LV inactive, as after a reboot (e2e)", function () {
  const VG = "inactive";
  const QCOW2 = "vm-801-disk-0.qcow2";
  const RAW = "vm-802-disk-0";
  const THIN = "vm-803-disk-0";
  const EXPORT = "/root/inactive-s1.raw";
  const chainLv = (id: string) => `snap_vm-801-disk-0_${id}.qcow2`;
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  let h: TestHost;
  let pvs: string[];
  const { engine } = testEngine("inactive");
  const { timings, timed } = stopwatch();
  type Args<T> = Omit<T, "connection" | "volumeGroup">;
  const pools: Record<string, Args<ThinPoolArgs>> = { pool: { name: "pool", size: "256MiB" } };
  const disks: Record<string, Args<VmDiskArgs>> = {
    qcow2: { name: QCOW2, size: "32MiB", format: "qcow2" },
    raw: { name: RAW, size: "32MiB" },
    thin: { name: THIN, size: "32MiB", thinPool: "pool" },
  };
  let snapshots: Array<[string, Args<SnapshotArgs>]> = [];
  let rollbacks: Array<[string, Args<RollbackArgs>]> = [];
  let exports: Array<[string, Args<DiskExportArgs>]> = [];
  const program = () => {
    const connection = rootConnectionArgs(h);
    const pool = new ThinPool("pool", { connection, volumeGroup: VG, ...pools.pool });
    const made = Object.entries(disks).map(([name, args]) => new VmDisk(name, { connection, volumeGroup: VG, ...args,
      ...(args.thinPool ? { thinPool: pool.name } : {}) }));
    const previous: Record<string, Snapshot> = {};
    for (const [name, args] of snapshots) {
      const disk = args.disk as string;
      previous[disk] = new Snapshot(name, { connection, volumeGroup: VG, ...args }, { dependsOn: previous[disk] ? [previous[disk]] : made });
    }
    const after = { dependsOn: [...made, ...Object.values(previous)] };
    for (const [name, args] of rollbacks) new Rollback(name, { connection, volumeGroup: VG, ...args }, after);
    for (const [name, args] of exports) new DiskExport(name, { connection, volumeGroup: VG, ...args }, after);
  };
  const sum = async (lv: string) => {
    await h.exec(`vgchange -ay -K ${VG} >/dev/null`); // to read it (and its chain) here; each run starts all inactive again
    return contentSha256(h, dev(lv), lv.endsWith(".qcow2") ? "qcow2" : "raw");
  };
  const deactivateAll = async () => {
    await h.exec(`vgchange -an ${VG} >/dev/null`);
    assert.strictEqual((await h.exec(`lvs --noheadings -o lv_active ${VG} | tr -d ' ' | sort -u`)).trim(), "", "every LV is inactive");
  };
  const writeQcow2 = (pattern: string, offset: string) => h.exec(`qemu-io -f qcow2 -c 'write -P ${pattern} ${offset} 1M' ${dev(QCOW2)} >/dev/null`);
  const writeRaw = (lv: string, seekMib: number) =>
    h.exec(`dd if=/dev/urandom of=${dev(lv)} bs=1M count=2 seek=${seekMib} oflag=direct conv=fsync status=none`);
  const sums: Record<string, string> = {};

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[0], h.disks[1]];
    await scrubDisks(h, pvs, [VG]);
    await h.exec(`vgcreate -y ${VG} ${pvs.join(" ")} >/dev/null; rm -f ${EXPORT}*`);
  });
  after(async () => {
    if (h) {
      await scrubDisks(h, pvs, [VG]);
      await h.exec(`rm -f ${EXPORT}*`);
    }
    await closeAll();
    process.stderr.write(`      [inactive timings] ${timings.join("; ")}\n`);
  });

  it("builds a chain of three snapshots, a thick and a thin one; with every LV inactive, refresh reports them all as they are", async () => {
    mustSucceed(await engine.up(program));
    for (const id of ["s1", "s2", "s3"]) {
      await writeQcow2(`0x${id.slice(1)}${id.slice(1)}`, `${id.slice(1)}M`);
      sums[id] = await sum(QCOW2);
      snapshots.push([id, { disk: QCOW2, name: id }]);
      mustSucceed(await engine.up(program));
    }
    await writeQcow2("0x44", "4M");
    sums.qcow2 = await sum(QCOW2);
    await writeRaw(RAW, 0);
    sums.golden = await sum(RAW);
    await writeRaw(THIN, 0);
    sums.thinA = await sum(THIN);
    snapshots.push(["golden", { disk: RAW, name: "golden", size: "8MiB" }], ["a", { disk: THIN, name: "a" }]);
    mustSucceed(await engine.up(program));

    await deactivateAll();
    const refreshed = mustSucceed(await timed("refresh, all inactive", () => engine.refresh()));
    assert.deepStrictEqual(refreshed.steps.filter((s) => s.gone || s.driftedInputs?.length).map((s) => s.name), [], "nothing gone, no input drifted");
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))).map((s) => `${s.op} ${s.name}`), [], "nothing to do");
  });

  it("deletes the middle chain snapshot (a rebase through the whole inactive chain), every other state intact", async () => {
    await deactivateAll();
    snapshots = snapshots.filter(([name]) => name !== "s2");
    mustSucceed(await timed("delete a chain snapshot, all inactive", () => engine.up(program)));
    assert.deepStrictEqual([await sum(QCOW2), await sum(chainLv("s1")), await sum(chainLv("s3"))], [sums.qcow2, sums.s1, sums.s3]);
  });

  it("rolls a raw disk back to its thick snapshot and exports a chain snapshot, all inactive", async () => {
    await writeRaw(RAW, 4);
    await deactivateAll();
    rollbacks = [["restore", { disk: RAW, snapshot: "golden" }]];
    exports = [["s1", { disk: QCOW2, snapshot: "s1", path: EXPORT }]];
    mustSucceed(await timed("thick rollback and chain export, all inactive", () => engine.up(program)));
    assert.strictEqual(await sum(RAW), sums.golden);
    assert.strictEqual((await h.exec(`sha256sum < ${EXPORT} | cut -c1-64`)).trim(), sums.s1);
  });

  it("takes a thin snapshot and rolls the thin disk back to the older one, pool inactive", async () => {
    await writeRaw(THIN, 4);
    sums.thinB = await sum(THIN);
    await deactivateAll();
    snapshots.push(["b", { disk: THIN, name: "b" }]);
    rollbacks.push(["thin", { disk: THIN, snapshot: "a" }]);
    mustSucceed(await timed("thin snapshot and thin rollback, all inactive", () => engine.up(program)));
    assert.deepStrictEqual([await sum(THIN), await sum(`snap_${THIN}_a`), await sum(`snap_${THIN}_b`)], [sums.thinA, sums.thinA, sums.thinB]);
  });

  it("destroys everything, all inactive", async () => {
    await deactivateAll();
    mustSucceed(await timed("destroy, all inactive", () => engine.destroy()));
    assert.strictEqual((await h.exec(`lvs --noheadings -o lv_name ${VG}`)).trim(), "");
  });
});
