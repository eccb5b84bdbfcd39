import * as assert from "assert";
import { Snapshot, SnapshotArgs, VmDisk, VmDiskArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, testEngine } from "../support/engine";
import { clearFailures, contentSha256, holdOpen, injectFailure, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

const MiB = 1024 * 1024;

/**
 * Snapshot the way Pulumi runs it (the engine driver and Pulumi's real dynamic-provider plugin) against the real
 * guest, checked there with lvs, qemu-img and checksums of every state. The tests build on each other like a user's
 * stack: one qcow2 disk gathers a chain of snapshots, one raw disk gets thick ones.
 */
describe("Snapshot through the engine (e2e)", function () {
  const VG = "snaps";
  const QCOW2 = "vm-401-disk-0.qcow2";
  const RAW = "vm-402-disk-0";
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  const snapLv = (id: string) => `snap_vm-401-disk-0_${id}.qcow2`;
  let h: TestHost;
  let pvs: string[];
  const { engine } = testEngine("snapshot");
  let disks: Record<string, Omit<VmDiskArgs, "connection" | "volumeGroup">>;
  /** Snapshots by resource name; each after the one before it in this list (dependsOn), like snapshotChain. */
  let snapshots: Array<[string, Omit<SnapshotArgs, "connection" | "volumeGroup">]>;
  const program = () => {
    const connection = rootConnectionArgs(h);
    const made: Record<string, VmDisk> = {};
    for (const [name, args] of Object.entries(disks)) made[name] = new VmDisk(name, { connection, volumeGroup: VG, ...args });
    let previous: Snapshot | undefined;
    for (const [name, args] of snapshots) {
      previous = new Snapshot(name, { connection, volumeGroup: VG, ...args },
        { dependsOn: previous && args.disk === QCOW2 ? [previous] : Object.values(made) });
    }
  };
  const outputs = (name: string) => engine.readState().resources.find((r) => r.name === name)?.outputs as Record<string, unknown> | undefined;
  const failure = (r: { failures: { reason: string }[] }) => r.failures.map((f) => f.reason).join("\n");
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  const info = async (lv: string) => JSON.parse(await h.exec(`qemu-img info --output=json -U ${dev(lv)}`));
  /** The checksum of what a VM reads from a state: the chain flattened to raw. */
  const stateSum = (lv: string, format = "qcow2") => contentSha256(h, dev(lv), format);
  const qemuIo = async (lv: string, command: string) => {
    const out = await h.exec(`qemu-io -f qcow2 -c '${command}' ${dev(lv)} 2>&1`);
    assert.doesNotMatch(out, /Pattern verification failed|error/i, out);
  };
  const checkClean = async (lv: string) => {
    const out = await h.exec(`qemu-img check -U ${dev(lv)} 2>&1; echo rc=$?`);
    assert.match(out, /No errors were found on the image/, out);
  };
  /** Checksums of every state of the qcow2 disk's chain, by snapshot id ("disk" for the current state). */
  const sums: Record<string, string> = {};
  const expectStates = async (ids: string[]) => {
    for (const id of ids) assert.strictEqual(await stateSum(id === "disk" ? QCOW2 : snapLv(id)), sums[id], `state ${id}`);
  };

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[2], h.disks[3]];
    await scrubDisks(h, pvs, [VG]);
    await clearFailures(h);
    await h.exec(`vgcreate -y ${VG} ${pvs.join(" ")} >/dev/null`);
    disks = {
      qcow2: { name: QCOW2, size: "32MiB", format: "qcow2", tags: ["vm-401"] },
      raw: { name: RAW, size: "32MiB" },
    };
    snapshots = [];
    mustSucceed(await engine.up(program));
  });
  after(async () => {
    if (h) {
      await clearFailures(h);
      await scrubDisks(h, pvs, [VG]);
      await h.exec("rm -f /root/hooks.log /root/a.bin");
    }
    await closeAll();
  });

  it("takes a chain snapshot exactly as Proxmox VE 9 does: renamed LV, overlay with a relative backing name", async () => {
    await qemuIo(QCOW2, "write -P 0x11 0 1M");
    sums.s1 = await stateSum(QCOW2);
    const diskLvSize = (await h.exec(`lvs --noheadings --units b --nosuffix -o lv_size ${VG}/${QCOW2}`)).trim();
    snapshots = [["s1", { disk: QCOW2, name: "s1" }]];
    const r = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["create s1"]);

    assert.deepStrictEqual(await lvNames(), [snapLv("s1"), RAW, QCOW2].sort());
    const top = await info(QCOW2);
    assert.deepStrictEqual(
      [top["backing-filename"], top["backing-filename-format"], top["cluster-size"], top["format-specific"].data["extended-l2"], top["virtual-size"]],
      [snapLv("s1"), "qcow2", 131072, true, 32 * MiB]);
    const check = JSON.parse(await h.exec(`qemu-img check --output=json ${dev(QCOW2)}`));
    assert.strictEqual(check["allocated-clusters"], check["total-clusters"], "preallocation=metadata on the overlay");
    const measure = JSON.parse(await h.exec(`qemu-img measure --output=json --size ${32 * MiB} -O qcow2 -o cluster_size=131072,extended_l2=on,preallocation=metadata`));
    const overlayLv = Number(await h.exec(`lvs --noheadings --units b --nosuffix -o lv_size ${VG}/${QCOW2}`));
    assert.strictEqual(overlayLv, Math.ceil(measure["fully-allocated"] / (4 * MiB)) * 4 * MiB, "overlay LV sized by qemu-img measure");
    assert.strictEqual((await h.exec(`lvs --noheadings --units b --nosuffix -o lv_size ${VG}/${snapLv("s1")}`)).trim(), diskLvSize);
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/${QCOW2}`), /vm-401/, "the overlay keeps the disk's tags");
    assert.deepStrictEqual([outputs("s1")!.method, outputs("s1")!.lvName, outputs("s1")!.backingFile, outputs("s1")!.parent],
      ["chain", snapLv("s1"), snapLv("s1"), undefined]);
    assert.strictEqual(await stateSum(QCOW2), sums.s1, "the disk reads as before");
  });

  it("keeps each of three chain snapshots' own content, and refresh and a second preview show nothing to do", async () => {
    await qemuIo(QCOW2, "write -P 0x22 1M 1M");
    sums.s2 = await stateSum(QCOW2);
    snapshots.push(["s2", { disk: QCOW2, name: "s2" }]);
    mustSucceed(await engine.up(program));
    await qemuIo(QCOW2, "write -P 0x33 2M 1M");
    sums.s3 = await stateSum(QCOW2);
    snapshots.push(["s3", { disk: QCOW2, name: "s3" }]);
    mustSucceed(await engine.up(program));
    await qemuIo(QCOW2, "write -P 0x44 3M 1M");
    sums.disk = await stateSum(QCOW2);

    await qemuIo(snapLv("s1"), "read -P 0x11 0 1M");
    await qemuIo(snapLv("s1"), "read -P 0 1M 1M");
    await qemuIo(snapLv("s2"), "read -P 0x22 1M 1M");
    await qemuIo(snapLv("s2"), "read -P 0 2M 1M");
    await qemuIo(snapLv("s3"), "read -P 0x33 2M 1M");
    await qemuIo(QCOW2, "read -P 0x44 3M 1M");
    await expectStates(["s1", "s2", "s3", "disk"]);
    assert.deepStrictEqual([outputs("s2")!.parent, outputs("s3")!.parent], [snapLv("s1"), snapLv("s2")]);

    const refresh = mustSucceed(await engine.refresh());
    const computed = ["uuid", "lvSizeBytes", "lvName", "backingFile", "active", "open", "usedPercent", "sizeBytes"];
    const drift = refresh.steps.filter((s) => s.op === "read" && (s.gone || s.changedFields.some((f) => !computed.includes(f))));
    assert.deepStrictEqual(drift.map((s) => `${s.name}: ${s.changedFields}`), [], "no input drift");
    assert.strictEqual(outputs("s1")!.backingFile, snapLv("s3"), "refresh reads the disk's current backing file");
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))), []);
  });

  it("grows a chained qcow2 disk in place and keeps every state", async () => {
    disks.qcow2 = { ...disks.qcow2, size: "48MiB" };
    const r = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["update qcow2"]);
    const top = await info(QCOW2);
    assert.deepStrictEqual([top["virtual-size"], top["backing-filename"]], [48 * MiB, snapLv("s3")]);
    await expectStates(["s1", "s2", "s3"]);
    sums.disk = await stateSum(QCOW2);
    await qemuIo(QCOW2, "read -P 0x44 3M 1M");
    await qemuIo(QCOW2, "read -P 0 40M 1M");
  });

  it("refuses a chain snapshot while the disk is open, and a second snapshot of the same name, changing nothing", async () => {
    const before = await lvNames();
    const release = await holdOpen(h, dev(QCOW2));
    try {
      snapshots.push(["s4", { disk: QCOW2, name: "s4" }]);
      const r = await engine.up(program);
      assert.strictEqual(r.ok, false);
      assert.match(failure(r), /is open \(in use, e\.g\. by a running VM\).*stop the VM first, or use method: "thick"/);
    } finally {
      await release();
      snapshots.pop();
    }
    snapshots.push(["s3-again", { disk: QCOW2, name: "s3" }]);
    const again = await engine.up(program);
    snapshots.pop();
    assert.strictEqual(again.ok, false);
    assert.match(failure(again), /snaps\/vm-401-disk-0\.qcow2@s3 exists already/);
    assert.deepStrictEqual(await lvNames(), before);
    await expectStates(["s1", "s2", "s3", "disk"]);
  });

  it("a failure in the middle of a chain snapshot undoes it on the host, and the next up takes it", async () => {
    await injectFailure(h, "qemu-img", "create");
    snapshots.push(["s4", { disk: QCOW2, name: "s4" }]);
    const r = await engine.up(program);
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), /step "qemu-img create the overlay" failed .*injected failure/s);
    assert.ok(!(await lvNames()).includes(snapLv("s4")), "the rename was undone");
    assert.strictEqual((await info(QCOW2))["backing-filename"], snapLv("s3"));
    await expectStates(["s1", "s2", "s3", "disk"]);

    await clearFailures(h);
    mustSucceed(await engine.up(program));
    assert.strictEqual((await info(QCOW2))["backing-filename"], snapLv("s4"));
    sums.s4 = sums.disk;
    await expectStates(["s1", "s2", "s3", "s4", "disk"]);
  });

  it("deletes a middle snapshot by a safe rebase of its child, keeping every other state byte-identical", async () => {
    snapshots = snapshots.filter(([name]) => name !== "s2");
    mustSucceed(await engine.up(program));
    assert.ok(!(await lvNames()).includes(snapLv("s2")));
    assert.strictEqual((await info(snapLv("s3")))["backing-filename"], snapLv("s1"));
    await expectStates(["s1", "s3", "s4", "disk"]);
    for (const lv of [snapLv("s1"), snapLv("s3"), snapLv("s4"), QCOW2]) await checkClean(lv);
  });

  it("deletes the oldest snapshot by committing its child into it and renaming it", async () => {
    snapshots = snapshots.filter(([name]) => name !== "s1");
    mustSucceed(await engine.up(program));
    const names = await lvNames();
    assert.ok(!names.includes(snapLv("s1")) && names.includes(snapLv("s3")), names.join());
    assert.strictEqual((await info(snapLv("s3")))["backing-filename"], undefined, "s3 is the base now");
    await expectStates(["s3", "s4", "disk"]);
    for (const lv of [snapLv("s3"), snapLv("s4"), QCOW2]) await checkClean(lv);
  });

  it("a merge that fails after the commit is journaled: refresh keeps the disk, and the next up finishes the deletion", async () => {
    // Delete s3 (oldest, child s4) with the rename after the commit failing: s4's name is free for a while.
    await injectFailure(h, "lvrename");
    snapshots = snapshots.filter(([name]) => name !== "s3");
    const r = await engine.up(program);
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), /step "rename the snapshot to the child's name" failed/);
    const refresh = await engine.refresh();
    assert.ok(refresh.ok, failure(refresh));
    assert.ok(outputs("qcow2"), "the disk is still in the state");
    assert.match(String(outputs("s3")?.pending ?? ""), /did not finish; every remaining state is intact, and the next pulumi up finishes the deletion/);

    await clearFailures(h);
    mustSucceed(await engine.up(program));
    assert.deepStrictEqual(await lvNames(), [RAW, QCOW2, snapLv("s4")].sort());
    assert.doesNotMatch(await h.exec(`lvs --noheadings -o lv_tags ${VG}`), /pulumi-lvm\/absorbs/, "journal closed");
    await expectStates(["s4", "disk"]);
  });

  it("deletes the only snapshot (grown disk): the snapshot absorbs the disk and takes its name and tags", async () => {
    await injectFailure(h, "qemu-img", "commit");
    snapshots = [];
    const failed = await engine.up(program);
    assert.strictEqual(failed.ok, false);
    assert.match(failure(failed), /qemu-img commit .*failed.*injected failure/s);
    await expectStates(["disk"]);
    await clearFailures(h);

    mustSucceed(await engine.up(program));
    assert.deepStrictEqual(await lvNames(), [RAW, QCOW2].sort());
    const top = await info(QCOW2);
    assert.deepStrictEqual([top["backing-filename"], top["virtual-size"]], [undefined, 48 * MiB]);
    await expectStates(["disk"]);
    await checkClean(QCOW2);
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/${QCOW2}`), /vm-401/);
    const refresh = mustSucceed(await engine.refresh());
    assert.deepStrictEqual(refresh.steps.filter((s) => s.name === "qcow2" && (s.gone || s.changedFields.includes("tags") || s.changedFields.includes("size"))), []);
  });

  it("thick: keeps the pre-snapshot content while the origin is rewritten, with quiesce hooks in order around it", async () => {
    await h.exec(`head -c 8M /dev/urandom > /root/a.bin && dd if=/root/a.bin of=${dev(RAW)} bs=1M conv=fsync status=none && rm -f /root/hooks.log`);
    const before = await stateSum(RAW, "raw");
    const hook = (what: string) => ["sh", "-c", `echo "${what} $(date +%s.%N)" >> /root/hooks.log`];
    snapshots = [["golden", { disk: RAW, name: "golden", size: "8MiB", quiesce: { before: [hook("before")], after: [hook("after")] } }]];
    mustSucceed(await engine.up(program));
    assert.deepStrictEqual([outputs("golden")!.method, outputs("golden")!.lvName, outputs("golden")!.valid], ["thick", `snap_${RAW}_golden`, true]);
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/snap_${RAW}_golden`), /pulumi-lvm\/snapshot=golden/);
    const log = (await h.exec("cat /root/hooks.log")).trim().split("\n").map((l) => l.split(" "));
    assert.deepStrictEqual(log.map(([w]) => w), ["before", "after"]);
    const lvTime = Number(await h.exec(`date -d "$(lvs --noheadings -o lv_time ${VG}/snap_${RAW}_golden)" +%s`));
    assert.ok(Math.floor(Number(log[0][1])) <= lvTime && lvTime <= Number(log[1][1]), `${log} ${lvTime}`);

    await h.exec(`head -c 2M /dev/urandom | dd of=${dev(RAW)} bs=1M conv=fsync status=none`);
    assert.notStrictEqual(await stateSum(RAW, "raw"), before);
    assert.strictEqual(await stateSum(`snap_${RAW}_golden`, "raw"), before, "the snapshot keeps the pre-snapshot content");
  });

  it("thick: one driven past its size is reported valid: false on refresh, never re-taken", async () => {
    await h.exec(`dd if=/dev/urandom of=${dev(RAW)} bs=1M count=16 oflag=direct status=none || true`);
    mustSucceed(await engine.refresh());
    assert.strictEqual(outputs("golden")!.valid, false);
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))), []);
    snapshots = [];
    mustSucceed(await engine.up(program));
    assert.ok(!(await lvNames()).includes(`snap_${RAW}_golden`));
  });

  it("thick: quiesce.after runs also when taking the snapshot fails", async () => {
    await h.exec("rm -f /root/hooks.log");
    await injectFailure(h, "lvcreate");
    const hook = (what: string) => ["sh", "-c", `echo ${what} >> /root/hooks.log`];
    snapshots = [["golden", { disk: RAW, name: "golden", method: "thick", lvName: "linux01-snap", quiesce: { before: [hook("before")], after: [hook("after")] } }]];
    const r = await engine.up(program);
    await clearFailures(h);
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), /step "lvcreate --snapshot" failed/);
    assert.deepStrictEqual((await h.exec("cat /root/hooks.log")).trim().split("\n"), ["before", "after"]);
    assert.ok(!(await lvNames()).includes("linux01-snap"));
    mustSucceed(await engine.up(program));
    assert.ok((await lvNames()).includes("linux01-snap"));
    snapshots = [];
    mustSucceed(await engine.up(program));
  });
});
