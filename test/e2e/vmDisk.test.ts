import * as assert from "assert";
import { VmDisk, VmDiskArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { holdOpen, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

const MiB = 1024 * 1024;
const roundUpToExtent = (bytes: number) => Math.ceil(bytes / (4 * MiB)) * 4 * MiB; // the VG's default 4 MiB extents

/**
 * VmDisk the way Pulumi runs it: programs through Pulumi's real dynamic-provider plugin (the engine driver),
 * against the real guest, checked there with LVM's and qemu's own tools. The tests build on each other like a
 * user's stack; one VG on two disks of the guest holds every disk of this file.
 */
describe("VmDisk through the engine (e2e)", function () {
  const VG = "vmdisks";
  const SOURCE_RAW = "/root/vmdisk-source.raw";
  const SOURCE_QCOW2 = "/root/vmdisk-source.qcow2";
  let h: TestHost;
  let pvs: string[];
  type Disks = Record<string, Omit<VmDiskArgs, "connection" | "volumeGroup">>;
  /** The stack's disks by resource name: each test edits this, then runs `program`. */
  let disks: Disks;
  const { engine } = testEngine("vmdisk");
  const programOf = (set: Disks) => () => {
    for (const [name, args] of Object.entries(set)) new VmDisk(name, { connection: rootConnectionArgs(h), volumeGroup: VG, ...args });
  };
  const program = () => programOf(disks)();
  const failure = (r: { failures: { reason: string }[] }) => r.failures.map((f) => f.reason).join("\n");
  const outputs = (name: string) => engine.readState().resources.find((r) => r.name === name)?.outputs as Record<string, unknown> | undefined;
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  const lvs = () => h.exec(`lvs --noheadings --units b --nosuffix -o lv_name,lv_size,lv_uuid,lv_tags ${VG}`);
  const lvSize = async (lv: string) => Number(await h.exec(`lvs --noheadings --units b --nosuffix -o lv_size ${VG}/${lv}`));
  const qemuInfo = async (lv: string) => JSON.parse(await h.exec(`qemu-img info --output=json -U ${dev(lv)}`));
  const qemuCheck = async (lv: string) => JSON.parse(await h.exec(`qemu-img check --output=json ${dev(lv)}`));
  /** qemu-img measure on the host itself, for the LV size a qcow2 disk must get. */
  const fullyAllocated = async (size: number, options: string) =>
    JSON.parse(await h.exec(`qemu-img measure --output=json --size ${size} -O qcow2 -o ${options}`))["fully-allocated"] as number;
  /** qemu-io fails loudly on a pattern mismatch; its exit code alone does not. */
  const qemuIo = async (lv: string, command: string) => {
    const out = await h.exec(`qemu-io -f qcow2 -c '${command}' ${dev(lv)} 2>&1`);
    assert.doesNotMatch(out, /Pattern verification failed|error/i, out);
    assert.match(out, /1048576\/1048576 bytes/, out);
  };
  /** Where an LV's (single) segment lies on its PV, so the bytes can be read after the LV is gone. */
  const extentsOf = async (lv: string) => {
    const [range] = (await h.exec(`lvs --noheadings -o seg_pe_ranges ${VG}/${lv}`)).trim().split(/\s+/);
    const [, pv, first, last] = /^(.+):(\d+)-(\d+)$/.exec(range)!;
    const peStart = Number(await h.exec(`pvs --noheadings --units b --nosuffix -o pe_start ${pv}`));
    return { pv, offset: peStart + Number(first) * 4 * MiB, length: (Number(last) - Number(first) + 1) * 4 * MiB };
  };
  /** Bytes of a PV region that are not `byte` (octal for tr), read past the page cache. */
  const bytesOtherThan = async (region: { pv: string; offset: number; length: number }, byte: string) => Number(await h.exec(
    `dd if=${region.pv} bs=1M iflag=direct,skip_bytes,count_bytes skip=${region.offset} count=${region.length} status=none | tr -d '\\${byte}' | wc -c`));
  const { timings, timed } = stopwatch();

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[4], h.disks[5]];
    await scrubDisks(h, pvs, [VG]);
    await h.exec(`vgcreate -y ${VG} ${pvs.join(" ")} >/dev/null && head -c 6M /dev/urandom > ${SOURCE_RAW} && ` +
      `qemu-img convert -f raw -O qcow2 ${SOURCE_RAW} ${SOURCE_QCOW2}`);
  });
  after(async () => {
    if (h) {
      await scrubDisks(h, pvs, [VG]);
      await h.exec(`rm -f ${SOURCE_RAW} ${SOURCE_QCOW2}`);
    }
    await closeAll();
    process.stderr.write(`      [vmDisk timings] ${timings.join("; ")}\n`);
  });

  it("creates a raw disk and qcow2 disks laid out as asked", async () => {
    disks = {
      raw: { name: "vm-100-disk-0", size: "18MiB", tags: ["vm-100"] },
      qcow2: { name: "vm-100-disk-1.qcow2", size: "32MiB", format: "qcow2" },
      custom: { name: "vm-100-disk-2.qcow2", size: "16MiB", format: "qcow2", qcow2: { clusterSize: "64KiB", extendedL2: false, preallocation: "off" } },
    };
    const r = mustSucceed(await timed("create 3 disks", () => engine.up(program)));
    // Independent resources are created at once, as the engine does: the steps come in the order they finished.
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`).sort(), ["create custom", "create qcow2", "create raw"]);

    // Raw: the LV is the disk, its size rounded up to whole extents.
    assert.strictEqual(await lvSize("vm-100-disk-0"), 20 * MiB);
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/vm-100-disk-0`), /vm-100/);
    assert.deepStrictEqual(
      [outputs("raw")!.path, outputs("raw")!.lvSizeBytes, outputs("raw")!.virtualSizeBytes, outputs("raw")!.format],
      [dev("vm-100-disk-0"), 20 * MiB, 20 * MiB, "raw"]);

    // qcow2 with the defaults: the Proxmox VE 9 layout, on an LV sized for the fully allocated image.
    const info = await qemuInfo("vm-100-disk-1.qcow2");
    assert.deepStrictEqual([info.format, info["virtual-size"], info["cluster-size"], info["format-specific"].data["extended-l2"]],
      ["qcow2", 32 * MiB, 131072, true]);
    const check = await qemuCheck("vm-100-disk-1.qcow2");
    assert.strictEqual(check["allocated-clusters"], check["total-clusters"], "preallocation=metadata allocates every cluster");
    assert.strictEqual(await lvSize("vm-100-disk-1.qcow2"),
      roundUpToExtent(await fullyAllocated(32 * MiB, "cluster_size=131072,extended_l2=on,preallocation=metadata")));
    assert.strictEqual(outputs("qcow2")!.uuid, (await h.exec(`lvs --noheadings -o lv_uuid ${VG}/vm-100-disk-1.qcow2`)).trim());

    // qcow2 with explicit options.
    const custom = await qemuInfo("vm-100-disk-2.qcow2");
    assert.deepStrictEqual([custom["virtual-size"], custom["cluster-size"], custom["format-specific"].data["extended-l2"]], [16 * MiB, 65536, false]);
    assert.strictEqual((await qemuCheck("vm-100-disk-2.qcow2"))["allocated-clusters"] ?? 0, 0, "preallocation=off allocates nothing");
    assert.strictEqual(await lvSize("vm-100-disk-2.qcow2"),
      roundUpToExtent(await fullyAllocated(16 * MiB, "cluster_size=65536,extended_l2=off,preallocation=off")));
  });

  it("grows a qcow2 disk in place keeping its data, and updates tags in place", async () => {
    await qemuIo("vm-100-disk-1.qcow2", "write -P 0x5a 0 1M");
    await qemuIo("vm-100-disk-1.qcow2", "read -P 0x5a 0 1M");
    const uuid = outputs("qcow2")!.uuid;
    disks.qcow2 = { ...disks.qcow2, size: "64MiB" };
    disks.raw = { ...disks.raw, tags: ["vm-100", "pve"] };
    const r = mustSucceed(await timed("grow qcow2 + retag raw", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name} ${s.changedFields}`).sort(), ["update qcow2 size", "update raw tags"]);

    assert.strictEqual((await qemuInfo("vm-100-disk-1.qcow2"))["virtual-size"], 64 * MiB);
    await qemuIo("vm-100-disk-1.qcow2", "read -P 0x5a 0 1M");
    assert.strictEqual(await lvSize("vm-100-disk-1.qcow2"),
      roundUpToExtent(await fullyAllocated(64 * MiB, "cluster_size=131072,extended_l2=on,preallocation=metadata")));
    assert.deepStrictEqual([outputs("qcow2")!.uuid, outputs("qcow2")!.virtualSizeBytes], [uuid, 64 * MiB], "same LV, new size");
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/vm-100-disk-0`), /pve,vm-100/);
  });

  it("refuses a shrink and shows a format change as a replace, at preview, touching nothing", async () => {
    const before = await lvs();
    const shrink = await engine.preview(programOf({ ...disks, qcow2: { ...disks.qcow2, size: "32MiB" } }));
    assert.strictEqual(shrink.ok, false);
    assert.match(shrink.failures.map((f) => `${f.property}: ${f.reason}`).join("\n"), /size: shrinking destroys data: size 64 MiB -> 32 MiB/);

    const reformat = mustSucceed(await engine.preview(programOf({ ...disks, qcow2: { ...disks.qcow2, format: "raw" } })));
    assert.deepStrictEqual(changes(reformat).map((s) => [s.op, s.name, s.replaceFields]), [["replace", "qcow2", ["format"]]]);
    assert.strictEqual(await lvs(), before);
  });

  it("refuses to grow a disk while a process holds it open", async () => {
    const release = await holdOpen(h, dev("vm-100-disk-1.qcow2"));
    try {
      disks.qcow2 = { ...disks.qcow2, size: "80MiB" };
      const r = await engine.up(program);
      assert.strictEqual(r.ok, false);
      assert.match(failure(r), /vmdisks\/vm-100-disk-1.qcow2 is open \(in use, e\.g\. by a running VM\); stop what uses it before growing the disk/);
      assert.strictEqual((await qemuInfo("vm-100-disk-1.qcow2"))["virtual-size"], 64 * MiB);
    } finally {
      await release();
      disks.qcow2 = { ...disks.qcow2, size: "64MiB" };
    }
  });

  it("imports a source image byte for byte, into raw and qcow2 disks", async () => {
    disks.fromRaw = { name: "vm-101-disk-0", size: "8MiB", source: { path: SOURCE_RAW, format: "raw" } };
    disks.fromQcow2 = { name: "vm-101-disk-1.qcow2", size: "8MiB", format: "qcow2", source: { path: SOURCE_QCOW2 } };
    mustSucceed(await timed("import 2 sources", () => engine.up(program)));
    assert.strictEqual(await h.exec(`head -c ${6 * MiB} ${dev("vm-101-disk-0")} | sha256sum`), await h.exec(`sha256sum < ${SOURCE_RAW}`));
    assert.match(await h.exec(`qemu-img compare -f qcow2 -F qcow2 ${SOURCE_QCOW2} ${dev("vm-101-disk-1.qcow2")}`), /Images are identical/);
    assert.match(await h.exec(`qemu-img compare -f raw -F qcow2 ${SOURCE_RAW} ${dev("vm-101-disk-1.qcow2")}`), /Images are identical/);
  });

  it("fails cleanly when the volume group lacks space, creating nothing", async () => {
    const before = await lvs();
    disks.huge = { name: "vm-102-disk-0", size: "20GiB" };
    const r = await timed("refused create", () => engine.up(program));
    delete disks.huge;
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), /not enough free space in volume group vmdisks: disk vm-102-disk-0 needs 20 GiB \(21474836480 bytes\), only \d+ MiB \(\d+ bytes\) are free/);
    assert.strictEqual(await lvs(), before, "no LV was left behind");
    assert.strictEqual(outputs("huge"), undefined);
  });

  it("removes the new LV when a later step fails, and names that step", async () => {
    // A qcow2 image whose header reads fine (qemu-img info passes) but whose first L2 table offset is unaligned,
    // so reading its data fails during the convert, after the LV was created.
    const corrupt = "/root/vmdisk-corrupt.qcow2";
    await h.exec(`qemu-img convert -f raw -O qcow2 ${SOURCE_RAW} ${corrupt} && ` +
      `l1=$(od -An -tu8 --endian=big -j 40 -N 8 ${corrupt} | tr -d ' ') && ` +
      `printf '\\200\\000\\000\\000\\000\\001\\002\\000' | dd of=${corrupt} bs=1 seek=$l1 conv=notrunc status=none`);
    const before = await lvs();
    try {
      const r = await engine.up(programOf({ ...disks, broken: { name: "vm-104-disk-0", size: "8MiB", source: { path: corrupt } } }));
      assert.strictEqual(r.ok, false);
      assert.match(failure(r), /create disk vmdisks\/vm-104-disk-0: step "qemu-img convert" failed \(exit 1\): .*L2 table offset 0x10200 unaligned/s);
      assert.strictEqual(await lvs(), before, "the LV was removed again");
    } finally {
      await h.exec(`rm -f ${corrupt}`);
    }
  });

  it("refuses to delete a disk that snapshots depend on, naming them", async () => {
    await h.exec(`lvcreate -y -s -L 4m -n vm-100-disk-0-snap ${VG}/vm-100-disk-0 >/dev/null && ` +
      `lvcreate -y -Wy -L 4m -n snap_vm-100-disk-1_before.qcow2 ${VG} >/dev/null`);
    try {
      const { raw, qcow2, ...rest } = disks;
      const thick = await engine.up(programOf({ qcow2, ...rest }));
      assert.strictEqual(thick.ok, false);
      assert.match(failure(thick), /vmdisks\/vm-100-disk-0 still has snapshots: vm-100-disk-0-snap; delete them first/);
      const chain = await engine.up(programOf({ raw, ...rest }));
      assert.strictEqual(chain.ok, false);
      assert.match(failure(chain), /vmdisks\/vm-100-disk-1.qcow2 still has snapshots: snap_vm-100-disk-1_before.qcow2; delete them first/);
      assert.match(await lvs(), /vm-100-disk-0 .*\n.*vm-100-disk-1.qcow2/s, "both disks are still there");
    } finally {
      await h.exec(`lvremove -y ${VG}/vm-100-disk-0-snap ${VG}/snap_vm-100-disk-1_before.qcow2 >/dev/null`);
    }
  });

  it("zeroes a disk deleted with wipeOnDelete, and only that one", async () => {
    disks.raw = { ...disks.raw, wipeOnDelete: true };
    const flagged = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(flagged).map((s) => `${s.op} ${s.name} ${s.changedFields}`), ["update raw wipeOnDelete"]);
    // Fill the raw disk with 'Z' (0x5a) and find both disks' extents on the PVs; the imported disk is the control.
    await h.exec(`tr '\\000' 'Z' < /dev/zero | dd of=${dev("vm-100-disk-0")} bs=1M count=20 iflag=fullblock oflag=direct status=none`);
    const wiped = await extentsOf("vm-100-disk-0");
    const kept = await extentsOf("vm-101-disk-0");
    assert.strictEqual(await bytesOtherThan(wiped, "132"), 0, "the PV region is the LV's (all 'Z')");

    delete disks.raw;
    delete disks.fromRaw;
    const r = mustSucceed(await timed("delete 2 disks, one wiped", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`).sort(), ["delete fromRaw", "delete raw"]);
    assert.doesNotMatch(await lvs(), /vm-100-disk-0 |vm-101-disk-0 /);
    assert.strictEqual(await bytesOtherThan(wiped, "000"), 0, "the wiped disk's extents hold only zeros");
    assert.ok(await bytesOtherThan(kept, "000") > 0, "without wipeOnDelete the data stays on the PV (so the check above can fail)");
  });

  it("reports a disk removed outside Pulumi as gone on refresh", async () => {
    await h.exec(`lvremove -y ${VG}/vm-100-disk-2.qcow2 >/dev/null`);
    const r = mustSucceed(await engine.refresh());
    assert.deepStrictEqual(changes(r).filter((s) => s.gone).map((s) => s.name), ["custom"]);
    assert.strictEqual(outputs("custom"), undefined);
    delete disks.custom;
  });

  it("adopts an existing qcow2 LV whose format and size match, and refuses one that does not", async () => {
    await h.exec(`lvcreate -y -Wy -L 36m -n vm-103-disk-0.qcow2 ${VG} >/dev/null && udevadm settle && ` +
      `qemu-img create -q -f qcow2 -o cluster_size=131072,extended_l2=on,preallocation=metadata ${dev("vm-103-disk-0.qcow2")} 32M`);
    const uuid = (await h.exec(`lvs --noheadings -o lv_uuid ${VG}/vm-103-disk-0.qcow2`)).trim();
    disks.adopted = { name: "vm-103-disk-0.qcow2", size: "16MiB", format: "qcow2", adopt: true };
    const wrong = await engine.up(program);
    assert.strictEqual(wrong.ok, false);
    assert.match(failure(wrong), /vmdisks\/vm-103-disk-0.qcow2 exists but its virtual size is 32 MiB, not 16 MiB; nothing was changed/);

    disks.adopted = { ...disks.adopted, size: "32MiB", tags: ["adopted"] };
    mustSucceed(await engine.up(program));
    assert.strictEqual(outputs("adopted")!.uuid, uuid);
    assert.match(await h.exec(`lvs --noheadings -o lv_tags ${VG}/vm-103-disk-0.qcow2`), /adopted/);
  });

  it("destroys every disk", async () => {
    mustSucceed(await timed("destroy", () => engine.destroy()));
    assert.strictEqual((await lvs()).trim(), "");
    assert.deepStrictEqual(engine.readState().resources, []);
  });
});
