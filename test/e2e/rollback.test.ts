import * as assert from "assert";
import { Rollback, RollbackArgs, Snapshot, SnapshotArgs, VmDisk, VmDiskArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { clearFailures, contentSha256, holdOpen, injectFailure, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/**
 * Rollback the way Pulumi runs it (the engine driver and Pulumi's real dynamic-provider plugin) against the real
 * guest: the CI loop of a golden state restored again and again, checked with checksums of what a VM reads, lvs,
 * and clean refreshes of the disks and snapshots the rollbacks work on.
 */
describe("Rollback through the engine (e2e)", function () {
  const VG = "rollbacks";
  const QCOW2 = "vm-501-disk-0.qcow2";
  const RAW = "vm-502-disk-0";
  const CHAIN_SNAP = "snap_vm-501-disk-0_golden.qcow2";
  const THICK_SNAP = `snap_${RAW}_golden`;
  const FRESH = `pulumi-lvm-new_${QCOW2}`;
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  let h: TestHost;
  let pvs: string[];
  const { engine } = testEngine("rollback");
  const { timings, timed } = stopwatch();
  type Args<T> = Omit<T, "connection" | "volumeGroup">;
  const disks: Record<string, Args<VmDiskArgs>> = {
    qcow2: { name: QCOW2, size: "32MiB", format: "qcow2", tags: ["vm-501"] },
    raw: { name: RAW, size: "32MiB" },
  };
  /** Snapshots in order (each depends on the one before it); rollbacks depend on every snapshot. */
  let snapshots: Array<[string, Args<SnapshotArgs>]> = [];
  let rollbacks: Array<[string, Args<RollbackArgs>]> = [];
  const program = () => {
    const connection = rootConnectionArgs(h);
    const made = Object.entries(disks).map(([name, args]) => new VmDisk(name, { connection, volumeGroup: VG, ...args }));
    const taken: Snapshot[] = [];
    for (const [name, args] of snapshots) {
      taken.push(new Snapshot(name, { connection, volumeGroup: VG, ...args }, { dependsOn: taken.length ? [taken[taken.length - 1]] : made }));
    }
    for (const [name, args] of rollbacks) new Rollback(name, { connection, volumeGroup: VG, ...args }, { dependsOn: [...made, ...taken] });
  };
  const outputs = (name: string) => engine.readState().resources.find((r) => r.name === name)?.outputs as Record<string, unknown> | undefined;
  const failure = (r: { failures: { reason: string }[] }) => r.failures.map((f) => f.reason).join("\n");
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  /** The checksum of what a VM reads from a disk (a chain flattened to raw). */
  const sum = (lv: string) => contentSha256(h, dev(lv), lv.endsWith(".qcow2") ? "qcow2" : "raw");
  const writeQcow2 = (pattern: string, offset: string) => h.exec(`qemu-io -f qcow2 -c 'write -P ${pattern} ${offset} 1M' ${dev(QCOW2)} >/dev/null`);
  const writeRaw = (mib: number, seek = 0) => h.exec(`dd if=/dev/urandom of=${dev(RAW)} bs=1M count=${mib} seek=${seek} conv=fsync status=none`);
  const expectCleanRefresh = async () => {
    mustSucceed(await engine.refresh());
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))).map((s) => `${s.op} ${s.name}`), []);
  };
  const golden: Record<string, string> = {};

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[4], h.disks[5]];
    await scrubDisks(h, pvs, [VG]);
    await clearFailures(h);
    await h.exec(`vgcreate -y ${VG} ${pvs.join(" ")} >/dev/null`);
    mustSucceed(await engine.up(program));
    await writeQcow2("0x11", "0");
    await writeRaw(8);
    golden.qcow2 = await sum(QCOW2);
    golden.raw = await sum(RAW);
    snapshots = [
      ["chain-golden", { disk: QCOW2, name: "golden" }],
      ["thick-golden", { disk: RAW, name: "golden", size: "16MiB" }],
    ];
    mustSucceed(await engine.up(program));
  });
  after(async () => {
    if (h) {
      await clearFailures(h);
      await scrubDisks(h, pvs, [VG]);
      await h.exec("rm -f /root/hooks.log");
    }
    await closeAll();
    console.log(`      [rollback timings] ${timings.join("; ")}`);
  });

  it("chain: restores the golden state, and again on a new trigger after new writes; disk and snapshot refresh clean", async () => {
    await writeQcow2("0x22", "0");
    await writeQcow2("0x23", "4M");
    assert.notStrictEqual(await sum(QCOW2), golden.qcow2);
    rollbacks = [["restore-chain", { disk: QCOW2, snapshot: "golden", triggers: [1] }]];
    const r = mustSucceed(await timed("chain rollback", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["create restore-chain"]);
    assert.strictEqual(await sum(QCOW2), golden.qcow2, "the disk reads the golden state");
    assert.deepStrictEqual(await lvNames(), [CHAIN_SNAP, RAW, QCOW2, THICK_SNAP].sort());
    const top = JSON.parse(await h.exec(`qemu-img info --output=json -U ${dev(QCOW2)}`));
    assert.deepStrictEqual([top["backing-filename"], top["virtual-size"], top["format-specific"].data["extended-l2"]], [CHAIN_SNAP, 32 * 1024 * 1024, true]);
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/${QCOW2}`), /vm-501/, "the fresh overlay keeps the disk's tags");
    assert.match(await h.exec(`qemu-img check ${dev(QCOW2)} 2>&1`), /No errors were found/);
    assert.deepStrictEqual([outputs("restore-chain")!.method, outputs("restore-chain")!.snapshotLvName], ["chain", CHAIN_SNAP]);

    await writeQcow2("0x33", "8M");
    rollbacks = [["restore-chain", { disk: QCOW2, snapshot: "golden", triggers: [2] }]];
    const again = mustSucceed(await engine.up(program));
    assert.ok(changes(again).some((s) => s.name === "restore-chain" && /replace/.test(s.op)), JSON.stringify(changes(again)));
    assert.strictEqual(await sum(QCOW2), golden.qcow2, "golden again after the second trigger");
    assert.strictEqual(await sum(CHAIN_SNAP), golden.qcow2, "the snapshot itself never changes");
    await expectCleanRefresh();
  });

  it("thick: merges the snapshot and takes it again, golden twice, with quiesce hooks around; the Snapshot stays valid", async () => {
    await writeRaw(4, 2);
    assert.notStrictEqual(await sum(RAW), golden.raw);
    const hook = (what: string) => ["sh", "-c", `echo ${what} >> /root/hooks.log`];
    const quiesce = { before: [hook("before")], after: [hook("after")] };
    rollbacks = [["restore-thick", { disk: RAW, snapshot: "golden", triggers: ["a"], quiesce }]];
    mustSucceed(await timed("thick rollback", () => engine.up(program)));
    assert.strictEqual(await sum(RAW), golden.raw, "the disk reads the golden state");
    assert.deepStrictEqual((await h.exec("cat /root/hooks.log")).trim().split("\n"), ["before", "after"]);
    const [attr, size, tags] = (await h.exec(`lvs --noheadings --units b --nosuffix -o lv_attr,lv_size,lv_tags ${VG}/${THICK_SNAP}`)).trim().split(/\s+/);
    assert.deepStrictEqual([attr[0], Number(size), tags], ["s", 16 * 1024 * 1024, "pulumi-lvm/snapshot=golden"], "taken again: same LV name, size and tag");
    assert.doesNotMatch(await h.exec(`lvs --noheadings -o lv_tags ${VG}/${RAW}`), /retake/, "the journal entry is closed");

    await writeRaw(4, 10);
    rollbacks = [["restore-thick", { disk: RAW, snapshot: "golden", triggers: ["b"], quiesce }]];
    mustSucceed(await engine.up(program));
    assert.strictEqual(await sum(RAW), golden.raw, "golden again after the second trigger");
    assert.strictEqual(await sum(THICK_SNAP), golden.raw, "the re-taken snapshot holds the golden state");
    await expectCleanRefresh();
    assert.deepStrictEqual([outputs("thick-golden")!.lvName, outputs("thick-golden")!.valid], [THICK_SNAP, true]);
  });

  it("refuses a rollback to an older chain snapshot (naming the newer one) and one while the disk is open, changing nothing", async () => {
    snapshots.push(["chain-second", { disk: QCOW2, name: "second" }]);
    mustSucceed(await engine.up(program));
    await writeQcow2("0x44", "0");
    const [lvsBefore, sumBefore] = [await lvNames(), await sum(QCOW2)];
    rollbacks = [["restore-chain", { disk: QCOW2, snapshot: "golden", triggers: [3] }]];
    const older = await engine.up(program);
    assert.strictEqual(older.ok, false);
    assert.match(failure(older), /rollbacks\/vm-501-disk-0\.qcow2@golden is not the newest snapshot of the disk: the newer snapshot second reads through it; delete it first/);
    snapshots.pop();
    rollbacks = [];
    mustSucceed(await engine.up(program)); // deletes "second"
    assert.strictEqual(await sum(QCOW2), sumBefore, "deleting a snapshot keeps the disk's state");

    for (const [disk, snapshot] of [[QCOW2, "golden"], [RAW, "golden"]]) {
      const [names, content] = [await lvNames(), await sum(disk)];
      const release = await holdOpen(h, dev(disk));
      try {
        rollbacks = [["restore-open", { disk, snapshot, triggers: [4] }]];
        const open = await engine.up(program);
        assert.strictEqual(open.ok, false);
        assert.match(failure(open), /is open \(in use, e\.g\. by a running VM\); stop the VM first/);
      } finally {
        await release();
      }
      assert.deepStrictEqual(await lvNames(), names);
      assert.strictEqual(await sum(disk), content, `${disk} unchanged`);
    }
    assert.ok(lvsBefore.length > 0);
    rollbacks = [];
  });

  it("a rollback cut off after its merge or swap leaves a journal: refresh keeps disk and snapshot, the next up finishes", async () => {
    // chain: the old overlay is removed, and giving the fresh one the disk's name fails.
    await writeQcow2("0x55", "0");
    await injectFailure(h, "lvrename");
    rollbacks = [["restore-chain", { disk: QCOW2, snapshot: "golden", triggers: [5] }]];
    const cut = await engine.up(program);
    await clearFailures(h);
    assert.strictEqual(cut.ok, false);
    assert.match(failure(cut), /step "give the new LV the disk's name" failed/);
    assert.ok((await lvNames()).includes(FRESH) && !(await lvNames()).includes(QCOW2), "the disk's name waits for the fresh overlay");
    mustSucceed(await engine.refresh());
    assert.ok(outputs("qcow2"), "the disk stays in the stack");
    assert.match(String(outputs("chain-golden")!.pending), /rolling back rollbacks\/vm-501-disk-0\.qcow2/);
    mustSucceed(await engine.up(program));
    assert.deepStrictEqual(await lvNames(), [CHAIN_SNAP, RAW, QCOW2, THICK_SNAP].sort());
    assert.strictEqual(await sum(QCOW2), golden.qcow2);

    // thick: the merge consumed the snapshot, and taking it again fails.
    await writeRaw(2, 20);
    await injectFailure(h, "lvcreate");
    rollbacks.push(["restore-thick", { disk: RAW, snapshot: "golden", triggers: ["c"] }]);
    const merged = await engine.up(program);
    await clearFailures(h);
    assert.strictEqual(merged.ok, false);
    assert.match(failure(merged), /step "take the snapshot again" failed/);
    assert.ok(!(await lvNames()).includes(THICK_SNAP));
    assert.strictEqual(await sum(RAW), golden.raw, "the merge restored the golden state");
    mustSucceed(await engine.refresh());
    assert.match(String(outputs("thick-golden")!.pending), /did not re-take the snapshot/);
    mustSucceed(await engine.up(program));
    assert.ok((await lvNames()).includes(THICK_SNAP));
    assert.strictEqual(await sum(THICK_SNAP), golden.raw);
    await expectCleanRefresh();
    assert.strictEqual(outputs("thick-golden")!.pending, undefined);
  });

  it("deleting a Rollback changes nothing on the host", async () => {
    await writeQcow2("0x66", "0");
    const [names, content] = [await lvNames(), await sum(QCOW2)];
    rollbacks = [];
    const r = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(r).map((s) => s.op).sort(), ["delete", "delete"]);
    assert.deepStrictEqual(await lvNames(), names);
    assert.strictEqual(await sum(QCOW2), content);
  });
});
