import * as assert from "assert";
import { DiskExport, DiskExportArgs, Rollback, RollbackArgs, Snapshot, SnapshotArgs, ThinPool, ThinPoolArgs, VmDisk, VmDiskArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

const MiB = 1024 * 1024;

/**
 * Thin provisioning the way Pulumi runs it: programs through Pulumi's real dynamic-provider plugin (the engine driver),
 * against the real guest, checked there with `lvs -o`, qemu-img and checksums of what was written. The tests build on
 * each other like a user's stack: a ThinPool with thin disks, thin snapshots and exports, then a second pool made by
 * hand, adopted and filled past its limit.
 */
describe("Thin provisioning through the engine (e2e)", function () {
  const VG = "thin";
  const EXPORTS = "/root/thin-exports";
  const RAW = "vm-300-disk-0";
  const QCOW2 = "vm-300-disk-1.qcow2";
  const SMALL = "vm-301-disk-0";
  const FILL = "vm-302-disk-0";
  let h: TestHost;
  let pvs: string[];
  const { engine } = testEngine("thin");
  type Named<T> = Record<string, Omit<T, "connection" | "volumeGroup">>;
  /** The stack, by resource name; each test edits it, then runs `program`. A disk on a pool of `pools` depends on it. */
  let pools: Named<ThinPoolArgs>;
  let disks: Named<VmDiskArgs>;
  /** Snapshots in order: each after the one before it of the same disk (dependsOn), like snapshotChain. */
  let snapshots: Array<[string, Omit<SnapshotArgs, "connection" | "volumeGroup">]>;
  let exports: Named<DiskExportArgs>;
  let rollbacks: Named<RollbackArgs>;
  const program = () => {
    const connection = rootConnectionArgs(h);
    const madePools: Record<string, ThinPool> = {};
    for (const [name, args] of Object.entries(pools)) madePools[args.name as string] = new ThinPool(name, { connection, volumeGroup: VG, ...args });
    const madeDisks: Record<string, VmDisk> = {};
    for (const [name, args] of Object.entries(disks)) {
      const pool = madePools[args.thinPool as string];
      madeDisks[args.name as string] = new VmDisk(name, { connection, volumeGroup: VG, ...args, ...(pool ? { thinPool: pool.name } : {}) });
    }
    const previous: Record<string, Snapshot> = {};
    for (const [name, args] of snapshots) {
      const disk = args.disk as string;
      previous[disk] = new Snapshot(name, { connection, volumeGroup: VG, ...args, disk: madeDisks[disk]?.name ?? disk },
        { dependsOn: previous[disk] ? [previous[disk]] : [] });
    }
    for (const [name, args] of Object.entries(exports)) {
      new DiskExport(name, { connection, volumeGroup: VG, ...args, disk: madeDisks[args.disk as string].name },
        { dependsOn: Object.values(previous) });
    }
    for (const [name, args] of Object.entries(rollbacks)) {
      new Rollback(name, { connection, volumeGroup: VG, ...args }, { dependsOn: Object.values(previous) });
    }
  };
  const outputs = (name: string) => engine.readState().resources.find((r) => r.name === name)?.outputs as Record<string, unknown> | undefined;
  const failure = (r: { failures: { reason: string }[] }) => r.failures.map((f) => f.reason).join("\n");
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  /** `lvs -o <fields>` of one LV on the host, as LVM reports it (bytes). */
  const lvsOf = async (lv: string, fields: string) => {
    const json = JSON.parse(await h.exec(`lvs --reportformat json --units b --nosuffix -o ${fields} ${VG}/${lv}`));
    return json.report[0].lv[0] as Record<string, string>;
  };
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  const sha = async (command: string) => (await h.exec(`${command} | sha256sum`)).split(" ")[0];
  /**
   * The checksum of the first `mib` MiB of an LV, activating it first (thin snapshots carry the activation-skip flag),
   * in one round trip (each costs a handshake under emulation).
   */
  const shaOf = (lv: string, mib: number) =>
    sha(`{ [ -b ${dev(lv)} ] || lvchange -ay -K ${VG}/${lv}; } && dd if=${dev(lv)} bs=1M count=${mib} iflag=direct status=none`);
  const writeRandom = (lv: string, mib: number, seekMib = 0) =>
    h.exec(`dd if=/dev/urandom of=${dev(lv)} bs=1M count=${mib} seek=${seekMib} oflag=direct conv=fsync status=none`);
  const dataPercent = (pool: string) => Number(outputs(pool)!.dataPercent);
  const near = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= 0.02, `${what}: ${actual}, expected ${expected} (lvs prints two decimals)`);
  const { timings, timed } = stopwatch();

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[4], h.disks[5]];
    await scrubDisks(h, pvs, [VG]);
    await h.exec(`vgcreate -y ${VG} ${pvs.join(" ")} >/dev/null && rm -rf ${EXPORTS} && mkdir -p ${EXPORTS}`);
    pools = {};
    disks = {};
    snapshots = [];
    exports = {};
    rollbacks = {};
  });
  after(async () => {
    if (h) {
      await scrubDisks(h, pvs, [VG]);
      await h.exec(`rm -rf ${EXPORTS}`);
    }
    await closeAll();
    process.stderr.write(`      [thin timings] ${timings.join("; ")}\n`);
  });

  it("creates a thin pool with the data size, metadata size, chunk size, zeroing, tags and guards given", async () => {
    pools = { pool: { name: "pool", size: "1GiB", metadataSize: "8MiB", chunkSize: "128KiB", zero: false, tags: ["ci"], refuseAbovePercent: 90 } };
    const r = mustSucceed(await timed("create the pool", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["create pool"]);
    const lv = await lvsOf("pool", "lv_attr,lv_size,lv_metadata_size,chunk_size,lv_tags,data_percent");
    assert.deepStrictEqual([lv.lv_attr[0], lv.lv_attr[7], lv.lv_size, lv.lv_metadata_size, lv.chunk_size],
      ["t", "-", String(1024 * MiB), String(8 * MiB), String(128 * 1024)], "a thin pool, not zeroing, of the sizes given");
    assert.deepStrictEqual(lv.lv_tags.split(",").sort(), ["ci", "pulumi-lvm/thin-refuse-above=90"]);
    const out = outputs("pool")!;
    assert.deepStrictEqual([out.sizeBytes, out.metadataSizeBytes, out.chunkSizeBytes, out.dataPercent, out.thinLvCount, out.overCommit, out.tags],
      [1024 * MiB, 8 * MiB, 131072, Number(lv.data_percent), 0, 0, ["ci"]]);
  });

  it("creates a thin raw disk and a thin qcow2 disk: thin LVs of the pool that take only what is written", async () => {
    disks = {
      raw: { name: RAW, size: "1GiB", thinPool: "pool" },
      qcow2: { name: QCOW2, size: "512MiB", format: "qcow2", thinPool: "pool" },
      small: { name: SMALL, size: "32MiB", thinPool: "pool" },
    };
    mustSucceed(await timed("create three thin disks", () => engine.up(program)));
    for (const [lv, size] of [[RAW, 1024 * MiB], [SMALL, 32 * MiB]] as const) {
      const row = await lvsOf(lv, "lv_attr,lv_size,pool_lv,data_percent");
      assert.deepStrictEqual([row.lv_attr[0], row.pool_lv, row.lv_size, row.data_percent], ["V", "pool", String(size), "0.00"], lv);
    }
    const qcow2 = await lvsOf(QCOW2, "lv_attr,lv_size,pool_lv,data_percent");
    const measure = JSON.parse(await h.exec(`qemu-img measure --output=json --size ${512 * MiB} -O qcow2 -o cluster_size=131072,extended_l2=on,preallocation=metadata`));
    assert.deepStrictEqual([qcow2.lv_attr[0], qcow2.pool_lv, Number(qcow2.lv_size)], ["V", "pool", Math.ceil(measure["fully-allocated"] / (4 * MiB)) * 4 * MiB],
      "a thin qcow2 LV is sized by qemu-img measure as a thick one");
    assert.ok(Number(qcow2.data_percent) < 2, `the qcow2 LV costs only its metadata in the pool: ${qcow2.data_percent}%`);
    const info = JSON.parse(await h.exec(`qemu-img info --output=json -U ${dev(QCOW2)}`));
    assert.strictEqual(info["virtual-size"], 512 * MiB);
    assert.deepStrictEqual([outputs("raw")!.thinPool, outputs("raw")!.allocatedPercent], ["pool", 0]);
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))), [], "an unchanged program has nothing to do");
  });

  let rawSum: string;
  it("writing 64 MiB into the 1 GiB thin disk raises the pool's dataPercent by 64 MiB's worth on refresh", async () => {
    const before = Number((await lvsOf("pool", "data_percent")).data_percent);
    await writeRandom(RAW, 64);
    rawSum = await shaOf(RAW, 64);
    mustSucceed(await engine.refresh());
    const pool = outputs("pool")!;
    const virtual = 1024 * MiB + Number((await lvsOf(QCOW2, "lv_size")).lv_size) + 32 * MiB;
    assert.deepStrictEqual([pool.thinLvCount, pool.virtualSizeBytes, pool.overCommit], [3, virtual, Math.round((virtual / (1024 * MiB)) * 1000) / 1000],
      "refresh reads what the pool holds: three thin disks, over-committing it");
    near(dataPercent("pool") - before, 6.25, "64 MiB of a 1 GiB pool");
    near(Number(outputs("raw")!.allocatedPercent), 6.25, "64 MiB of a 1 GiB thin disk");
    assert.strictEqual(Number((await lvsOf("pool", "data_percent")).data_percent), dataPercent("pool"), "the output is what lvs says");
  });

  it("grows the pool (data and metadata) and the thin disk in place, and turns zeroing on, keeping the data", async () => {
    pools.pool = { ...pools.pool, size: "1.5GiB", metadataSize: "16MiB", zero: true };
    disks.raw = { ...disks.raw, size: "1.5GiB" };
    const r = mustSucceed(await timed("grow the pool and a disk", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`).sort(), ["update pool", "update raw"]);
    const pool = await lvsOf("pool", "lv_attr,lv_size,lv_metadata_size,lv_uuid");
    assert.deepStrictEqual([pool.lv_size, pool.lv_metadata_size, pool.lv_attr[7], pool.lv_uuid],
      [String(1536 * MiB), String(16 * MiB), "z", outputs("pool")!.uuid], "the same pool, grown, zeroing");
    assert.strictEqual(Number(await h.exec(`blockdev --getsize64 ${dev(RAW)}`)), 1536 * MiB);
    assert.strictEqual(await shaOf(RAW, 64), rawSum, "the disk's data is kept");
    assert.strictEqual(outputs("raw")!.uuid, (await lvsOf(RAW, "lv_uuid")).lv_uuid, "the same LV");

    pools.pool = { ...pools.pool, size: "1GiB" };
    const shrink = await engine.preview(program);
    assert.strictEqual(shrink.ok, false);
    assert.match(failure(shrink), /a thin pool cannot shrink: size 1\.5 GiB -> 1 GiB/);
    pools.pool = { ...pools.pool, size: "1.5GiB" };
  });

  it("thin snapshots of a disk written between them each keep their content; deleting one keeps the others and the disk", async () => {
    const sums: Record<string, string> = {};
    await writeRandom(SMALL, 8);
    sums.s1 = await shaOf(SMALL, 8);
    snapshots = [["s1", { disk: SMALL, name: "s1" }]];
    mustSucceed(await timed("take a thin snapshot", () => engine.up(program)));
    await writeRandom(SMALL, 4, 2);
    sums.s2 = await shaOf(SMALL, 8);
    snapshots.push(["s2", { disk: SMALL, name: "s2", method: "thin" }]);
    mustSucceed(await engine.up(program));
    await writeRandom(SMALL, 4, 4);
    sums.disk = await shaOf(SMALL, 8);
    assert.strictEqual(new Set(Object.values(sums)).size, 3, "three different states");

    const s1 = await lvsOf(`snap_${SMALL}_s1`, "lv_attr,origin,pool_lv,lv_tags");
    assert.deepStrictEqual([s1.lv_attr[0], s1.lv_attr[1], s1.lv_attr[4], s1.lv_attr[9], s1.origin, s1.pool_lv, s1.lv_tags],
      ["V", "r", "-", "k", SMALL, "pool", "pulumi-lvm/snapshot=s1"], "a read-only thin snapshot, inactive, with the activation-skip flag");
    assert.deepStrictEqual([outputs("s1")!.method, outputs("s2")!.method, outputs("s1")!.thinPool], ["thin", "thin", "pool"]);
    assert.strictEqual(await shaOf(`snap_${SMALL}_s1`, 8), sums.s1);
    assert.strictEqual(await shaOf(`snap_${SMALL}_s2`, 8), sums.s2);

    snapshots = snapshots.filter(([name]) => name !== "s1");
    mustSucceed(await timed("delete a thin snapshot", () => engine.up(program)));
    assert.ok(!(await lvNames()).includes(`snap_${SMALL}_s1`));
    assert.strictEqual(await shaOf(`snap_${SMALL}_s2`, 8), sums.s2, "the other snapshot keeps its content");
    assert.strictEqual(await shaOf(SMALL, 8), sums.disk, "the disk keeps its content");
    mustSucceed(await engine.refresh());
    assert.strictEqual(outputs("pool")!.thinLvCount, 4, "three disks and a snapshot");
  });

  it("a rollback to an older thin snapshot restores its content and keeps every snapshot; again on a new trigger", async () => {
    const sums: Record<string, string> = { s2: await shaOf(`snap_${SMALL}_s2`, 8) };
    snapshots.push(["s3", { disk: SMALL, name: "s3" }]);
    mustSucceed(await engine.up(program));
    sums.s3 = await shaOf(`snap_${SMALL}_s3`, 8);
    await writeRandom(SMALL, 2, 1);
    assert.notStrictEqual(await shaOf(SMALL, 8), sums.s2);

    rollbacks = { back: { disk: SMALL, snapshot: "s2", triggers: [1] } };
    mustSucceed(await timed("roll a thin disk back to an older snapshot", () => engine.up(program)));
    assert.strictEqual(await shaOf(SMALL, 8), sums.s2, "the disk has the older snapshot's content");
    assert.strictEqual(await shaOf(`snap_${SMALL}_s2`, 8), sums.s2, "the snapshot rolled back to is unchanged");
    assert.strictEqual(await shaOf(`snap_${SMALL}_s3`, 8), sums.s3, "the newer snapshot is kept with its content");
    const disk = await lvsOf(SMALL, "lv_attr,origin,pool_lv,lv_tags");
    assert.deepStrictEqual([disk.lv_attr.slice(0, 2), disk.origin, disk.pool_lv, disk.lv_tags], ["Vw", `snap_${SMALL}_s2`, "pool", "pulumi-lvm/format=raw"],
      "the disk is a writable thin LV made from the snapshot, with the disk's tags and no journal entry left");
    assert.ok(!(await lvNames()).some((n) => n.startsWith("pulumi-lvm-new_")));
    assert.deepStrictEqual([outputs("back")!.method, outputs("back")!.snapshotLvName], ["thin", `snap_${SMALL}_s2`]);
    // Refresh: no input drifted and the snapshots are as recorded; the disk is a new LV (a new uuid), the pool counts s3.
    const refreshed = changes(mustSucceed(await engine.refresh()));
    assert.deepStrictEqual(refreshed.map((c) => [c.name, c.changedFields, c.driftedInputs]),
      [["pool", ["overCommit", "thinLvCount", "virtualSizeBytes"], []], ["small", ["uuid"], []]]);

    // A CI loop: the tests write to the disk, the next run's trigger restores the same state again.
    await writeRandom(SMALL, 8);
    rollbacks.back.triggers = [2];
    mustSucceed(await engine.up(program));
    assert.strictEqual(await shaOf(SMALL, 8), sums.s2);
    // Its snapshots no longer name the disk as their origin (the LV they were taken of is gone), yet they still keep
    // the disk from being deleted under them.
    const withoutDisk = () => {
      const all = disks;
      disks = Object.fromEntries(Object.entries(disks).filter(([, d]) => d.name !== SMALL));
      try { program(); } finally { disks = all; }
    };
    const refused = await engine.up(withoutDisk);
    assert.strictEqual(refused.ok, false);
    assert.match(failure(refused), new RegExp(`thin/${SMALL} still has snapshots: snap_${SMALL}_s2,snap_${SMALL}_s3; delete them first`));
    assert.strictEqual(await shaOf(SMALL, 8), sums.s2);
    rollbacks = {};
    mustSucceed(await engine.up(program));
  });

  it("exports a thin disk through a temporary thin snapshot, and a thin snapshot (activated with -K)", async () => {
    const diskSum = await shaOf(SMALL, 32);
    const snapSum = await shaOf(`snap_${SMALL}_s2`, 32);
    await h.exec(`lvchange -an ${VG}/snap_${SMALL}_s2`); // the export must activate it itself
    exports = {
      current: { disk: SMALL, path: `${EXPORTS}/current.raw` },
      golden: { disk: SMALL, snapshot: "s2", path: `${EXPORTS}/golden.raw` },
    };
    mustSucceed(await timed("export a thin disk and a thin snapshot", () => engine.up(program)));
    assert.strictEqual(await sha(`cat ${EXPORTS}/current.raw`), diskSum);
    assert.strictEqual(await sha(`cat ${EXPORTS}/golden.raw`), snapSum);
    assert.deepStrictEqual([outputs("current")!.sha256, outputs("golden")!.sha256], [diskSum, snapSum]);
    assert.deepStrictEqual((await lvNames()).filter((n) => n.includes("pulumi-lvm-export")), [], "the temporary snapshot is gone");
    // LVM archives the VG's metadata before every change, with the command that made it: the temporary snapshot was
    // a thin one (no size), not a thick one.
    const made = await h.exec(`grep -h "executing 'lvcreate.*pulumi-lvm-export" /etc/lvm/archive/${VG}_*.vg`);
    assert.match(made, /lvcreate --yes --snapshot --permission r --setactivationskip y -n snap_vm-301-disk-0_pulumi-lvm-export-[0-9a-f]{8} --addtag pulumi-lvm\/temporary -- thin\/vm-301-disk-0/);
    assert.doesNotMatch(made, / -L /);
    exports = {};
    mustSucceed(await engine.up(program));
  });

  it("deleting a thin disk gives its blocks back to the pool", async () => {
    const before = dataPercent("pool"); // as refreshed after the snapshots; the exports wrote nothing to the pool
    delete disks.raw;
    mustSucceed(await timed("delete a thin disk", () => engine.up(program)));
    assert.ok(!(await lvNames()).includes(RAW));
    mustSucceed(await engine.refresh());
    near(before - dataPercent("pool"), (64 / 1536) * 100, "64 MiB of a 1.5 GiB pool");
  });

  it("refuses a thin disk that would take the pool past its maxOverCommit, saying how to fix it", async () => {
    pools.pool = { ...pools.pool, maxOverCommit: 1 };
    mustSucceed(await engine.up(program));
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/pool`), /pulumi-lvm\/thin-max-over-commit=1\b/);
    disks.big = { name: "vm-303-disk-0", size: "1GiB", thinPool: "pool" };
    const r = await engine.up(program);
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), /a new thin disk vm-303-disk-0 \(1 GiB\) would over-commit thin pool thin\/pool to 1\.\d\dx its data space .* above its maxOverCommit of 1: grow the pool \(raise the ThinPool's size\) or raise its maxOverCommit/);
    assert.ok(!(await lvNames()).includes("vm-303-disk-0"));
    delete disks.big;
    delete pools.pool.maxOverCommit;
    mustSucceed(await engine.up(program));
  });

  it("adopts a thin pool made by hand: refused with other options, taken over (tags only) when they match", async () => {
    await h.exec(`lvcreate --yes --type thin-pool -L 64m -n adopted ${VG} </dev/null >/dev/null 2>&1`);
    const uuid = (await lvsOf("adopted", "lv_uuid")).lv_uuid;
    pools.adopted = { name: "adopted", size: "64MiB", chunkSize: "256KiB", adopt: true };
    const refused = await engine.up(program);
    assert.strictEqual(refused.ok, false);
    assert.match(failure(refused), /thin\/adopted exists but its chunk size is 64 KiB, not 256 KiB; nothing was changed/);
    assert.strictEqual((await lvsOf("adopted", "lv_tags")).lv_tags, "", "nothing was changed");

    pools.adopted = { name: "adopted", size: "64MiB", adopt: true };
    mustSucceed(await timed("adopt a pool", () => engine.up(program)));
    const adopted = await lvsOf("adopted", "lv_uuid,lv_size,lv_tags");
    assert.deepStrictEqual([adopted.lv_uuid, adopted.lv_size, adopted.lv_tags], [uuid, String(64 * MiB), "pulumi-lvm/thin-refuse-above=95"]);
    assert.deepStrictEqual([outputs("adopted")!.uuid, outputs("adopted")!.chunkSizeBytes], [uuid, 65536]);
  });

  it("refuses a new thin disk or snapshot while the pool is above refuseAbovePercent, saying how to grow it; allows it once grown", async () => {
    disks.fill = { name: FILL, size: "64MiB", thinPool: "adopted" };
    mustSucceed(await engine.up(program));
    await writeRandom(FILL, 62);
    mustSucceed(await engine.refresh());
    assert.ok(dataPercent("adopted") > 95, `62 MiB in a 64 MiB pool: ${dataPercent("adopted")}%`);

    disks.late = { name: "vm-302-disk-1", size: "16MiB", thinPool: "adopted" };
    const r = await engine.up(program);
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), /thin pool thin\/adopted is 9\d\.\d\d% full \(data\), above its refuseAbovePercent of 95%: a new thin disk vm-302-disk-1 \(16 MiB\) is refused until the pool has room\. Grow the pool: raise the ThinPool's size and run pulumi up \(or lvextend -L \+<size> thin\/adopted\), or delete thin disks or snapshots it no longer needs/);
    delete disks.late;
    snapshots.push(["fill-snap", { disk: FILL, name: "before" }]);
    const snap = await engine.up(program);
    assert.strictEqual(snap.ok, false);
    assert.match(failure(snap), /thin pool thin\/adopted is 9\d\.\d\d% full \(data\).*: a new thin snapshot snap_vm-302-disk-0_before is refused until the pool has room/);
    assert.ok(!(await lvNames()).some((n) => n === "vm-302-disk-1" || n === `snap_${FILL}_before`), "nothing was made");

    pools.adopted = { ...pools.adopted, size: "128MiB" };
    mustSucceed(await timed("grow the full pool and snapshot", () => engine.up(program)));
    assert.ok((await lvNames()).includes(`snap_${FILL}_before`));
  });

  it("refuses to delete a pool that holds thin LVs, and destroy removes every thin LV before its pool", async () => {
    const keep = pools.adopted;
    delete pools.adopted; // the disk on it stays (its thinPool now a plain name): the pool's delete must refuse
    const r = await engine.up(program);
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), /thin pool thin\/adopted still holds thin LVs: (snap_vm-302-disk-0_before,vm-302-disk-0|vm-302-disk-0,snap_vm-302-disk-0_before); delete them first \(removing the pool would remove them with it\)/);
    assert.ok((await lvNames()).includes("adopted") && (await lvNames()).includes(FILL));
    pools.adopted = keep;
    mustSucceed(await engine.up(program)); // the disk depends on its pool again, so destroy deletes it first

    mustSucceed(await timed("destroy", () => engine.destroy()));
    assert.deepStrictEqual(await lvNames(), []);
  });
});
