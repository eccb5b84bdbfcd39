import * as assert from "assert";
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { DiskExport, DiskExportArgs, VmDisk, VmDiskArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { contentSha256, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

const MiB = 1024 * 1024;

/**
 * DiskExport the way Pulumi runs it: programs through Pulumi's real dynamic-provider plugin (the engine driver),
 * against the real guest, checked there with sha256sum, qemu-img, lvs and du. The disks it exports are VmDisks of
 * the same program; snapshots are made by hand (thick ones with the Snapshot resource's tag, chain ones in Proxmox's
 * layout). One VG on two of the guest's disks holds them; a third disk holds the exports' filesystem.
 */
describe("DiskExport through the engine (e2e)", function () {
  const VG = "exports";
  const OUT = "/mnt/pulumi-lvm-exports";
  const SMALL = "/mnt/pulumi-lvm-small";
  const SMALL_IMAGE = "/root/pulumi-lvm-small.ext4";
  const RAW = "vm-200-disk-0";
  const QCOW2 = "vm-200-disk-1.qcow2";
  const CHAIN = "vm-201-disk-0.qcow2";
  let h: TestHost;
  let devices: string[];
  type Exports = Record<string, Omit<DiskExportArgs, "connection" | "volumeGroup" | "disk"> & { disk: string }>;
  let disks: Record<string, Omit<VmDiskArgs, "connection" | "volumeGroup">>;
  /** The stack's exports by resource name (`disk` names a key of `disks`); each test edits this, then runs `program`. */
  let exports: Exports;
  let retained: string[] = [];
  const { engine, lines } = testEngine("diskexport");
  const programOf = (set: Exports) => () => {
    const made: Record<string, VmDisk> = {};
    for (const [name, args] of Object.entries(disks)) made[name] = new VmDisk(name, { connection: rootConnectionArgs(h), volumeGroup: VG, ...args });
    for (const [name, { disk, ...args }] of Object.entries(set)) {
      new DiskExport(name, { connection: rootConnectionArgs(h), volumeGroup: VG, disk: made[disk].name, ...args },
        { retainOnDelete: retained.includes(name) });
    }
  };
  const program = () => programOf(exports)();
  const failure = (r: { failures: { reason: string }[] }) => r.failures.map((f) => f.reason).join("\n");
  const outputs = (name: string) => engine.readState().resources.find((r) => r.name === name)?.outputs as Record<string, unknown> | undefined;
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  const sha = async (command: string) => (await h.exec(`${command} | sha256sum`)).split(" ")[0];
  const contentSha = (image: string, format: string) => contentSha256(h, image, format);
  const temporaryLvs = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG} | grep pulumi-lvm-export || true`)).trim();
  const leftovers = async (dir: string) => (await h.exec(`ls -A ${dir} | grep -v lost+found || true`)).trim();
  const waitOnHost = async (what: string, test: string, seconds = 120) => {
    for (const until = Date.now() + seconds * 1000; Date.now() < until;) {
      if ((await h.exec(`if ${test}; then echo yes; fi`)).trim() === "yes") return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const exportStarted = `lvs --noheadings -o lv_name ${VG} | grep -q pulumi-lvm-export`;
  /** A writer that waits for an export's temporary snapshot, then rewrites the raw disk's first 8 MiB until it is gone. */
  const startWriter = () => h.exec(`rm -f /root/writer.count; nohup sh -c 'until ${exportStarted}; do sleep 0.1; done; n=0; ` +
    `while ${exportStarted}; do ` +
    `dd if=/dev/urandom of=${dev(RAW)} bs=1M count=1 seek=$((n % 8)) conv=notrunc oflag=direct status=none; ` +
    `n=$((n + 1)); echo $n > /root/writer.count; done' >/root/writer.log 2>&1 </dev/null &`);
  const qemuIo = (lv: string, command: string) => h.exec(`qemu-io -f qcow2 -c '${command}' ${dev(lv)} >/dev/null`);
  const { timings, timed } = stopwatch();

  before(async () => {
    h = await useTestHost();
    devices = h.disks.slice(0, 3);
    await cleanHost();
    await h.exec(`vgcreate -y ${VG} ${devices[0]} ${devices[1]} >/dev/null && mkfs.ext4 -q -F ${devices[2]} && ` +
      `mkdir -p ${OUT} ${SMALL} && mount ${devices[2]} ${OUT}`);
    disks = {
      raw: { name: RAW, size: "128MiB" },
      qcow2: { name: QCOW2, size: "32MiB", format: "qcow2" },
    };
    exports = {};
    mustSucceed(await engine.up(program));
    // 96 MiB of random data in the raw disk; a few MiB of patterns in the qcow2 disk, the rest never written.
    await h.exec(`dd if=/dev/urandom of=${dev(RAW)} bs=1M count=96 oflag=direct status=none`);
    await qemuIo(QCOW2, "write -P 0x5a 0 1M");
    await qemuIo(QCOW2, "write -P 0xa5 20M 2M");
  });
  async function cleanHost() {
    await h.exec(`umount ${SMALL} 2>/dev/null; umount ${OUT} 2>/dev/null; rm -f ${SMALL_IMAGE} /root/writer.*; true`);
    await scrubDisks(h, devices, [VG]);
  }
  after(async () => {
    if (h) await cleanHost();
    await closeAll();
    process.stderr.write(`      [diskExport timings] ${timings.join("; ")}\n`);
  });

  it("exports a disk that a process keeps writing to: the file holds exactly the state at the export's start", async () => {
    const before = await sha(`cat ${dev(RAW)}`);
    await startWriter();
    exports = { live: { disk: "raw", path: `${OUT}/live.raw`, snapshotSize: "100%" } };
    const r = mustSucceed(await timed("export 128 MiB raw, with a writer", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["create live"]);

    const writes = Number(await h.exec("cat /root/writer.count"));
    assert.ok(writes > 0, "the writer wrote while the export ran");
    assert.notStrictEqual(await sha(`cat ${dev(RAW)}`), before, "the disk changed meanwhile");
    assert.strictEqual(await sha(`cat ${OUT}/live.raw`), before, "the export holds the disk as it was when the export began");
    assert.strictEqual(outputs("live")!.sha256, before);
    assert.deepStrictEqual([outputs("live")!.virtualSizeBytes, outputs("live")!.apparentSizeBytes, outputs("live")!.format],
      [128 * MiB, 128 * MiB, "raw"]);
    assert.strictEqual(outputs("live")!.sourceState, `${VG}/${RAW} (temporary snapshot)`);
    assert.strictEqual(await temporaryLvs(), "", "the temporary snapshot is gone");
    assert.deepStrictEqual((await leftovers(OUT)).split("\n"), ["live.raw", "live.raw.pulumi-lvm.json"], "no partial file");
    // Progress reached the plugin's stderr, which the engine shows to whoever runs pulumi up.
    assert.ok(lines.some((l) => /\[plugin\] DiskExport \/mnt\/pulumi-lvm-exports\/live.raw: copying exports\/vm-200-disk-0 \(temporary snapshot\): \d+% \(\d+ s\)/.test(l)),
      lines.filter((l) => l.includes("[plugin]")).join("\n"));
  });

  it("a temporary snapshot too small for what the VM writes meanwhile: the export fails saying so, and cleans up", async () => {
    await startWriter();
    const r = await timed("export with an overflowing snapshot", () =>
      engine.up(programOf({ ...exports, overflow: { disk: "raw", path: `${OUT}/overflow.raw`, snapshotSize: "4MiB" } })));
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), new RegExp(`the temporary snapshot ${VG}/snap_${RAW}_pulumi-lvm-export-[0-9a-f]{8} overflowed: the disk changed by ` +
      "more than the snapshot's size during the copy; raise snapshotSize\\. Cleaned up: removed the partial file .*; removed the temporary snapshot"));
    assert.strictEqual(await temporaryLvs(), "");
    assert.doesNotMatch(await leftovers(OUT), /overflow/);
  });

  it("writes raw sparse and qcow2 compressed; sha256 is the virtual content's, as sha256sum sees it on the host", async () => {
    exports.sparse = { disk: "qcow2", path: `${OUT}/sparse.raw` };
    exports.packed = { disk: "qcow2", path: `${OUT}/packed.qcow2`, format: "qcow2", compress: true };
    mustSucceed(await timed("export 32 MiB qcow2 twice (raw; qcow2 compressed)", () => engine.up(program)));
    const disk = await contentSha(dev(QCOW2), "qcow2");
    assert.strictEqual(outputs("sparse")!.sha256, disk);
    assert.strictEqual(await sha(`cat ${OUT}/sparse.raw`), disk, "sha256sum of the raw file");
    assert.strictEqual(outputs("packed")!.sha256, disk);
    assert.strictEqual(await contentSha(`${OUT}/packed.qcow2`, "qcow2"), disk, "the qcow2 file decodes to the same bytes");

    const [allocated, apparent] = (await h.exec(`du -B1 ${OUT}/sparse.raw | cut -f1; stat -c %s ${OUT}/sparse.raw`)).trim().split("\n").map(Number);
    assert.strictEqual(apparent, 32 * MiB);
    assert.ok(allocated <= 4 * MiB, `3 MiB of data in 32 MiB: sparse (du ${allocated} bytes)`);
    assert.deepStrictEqual([outputs("sparse")!.sizeBytes, outputs("sparse")!.apparentSizeBytes], [allocated, apparent]);

    const info = JSON.parse(await h.exec(`qemu-img info --output=json ${OUT}/packed.qcow2`));
    const check = JSON.parse(await h.exec(`qemu-img check --output=json ${OUT}/packed.qcow2`));
    assert.deepStrictEqual([info.format, info["virtual-size"]], ["qcow2", 32 * MiB]);
    assert.ok(check["compressed-clusters"] > 0, JSON.stringify(check));
  });

  it("exports a thick snapshot (found by its tag): its state, not the disk's current one", async () => {
    await h.exec(`lvcreate -y -s -L 8M -n snap_${QCOW2}_golden --addtag pulumi-lvm/snapshot=golden ${VG}/${QCOW2} >/dev/null`);
    const golden = await contentSha(dev(QCOW2), "qcow2");
    await qemuIo(QCOW2, "write -P 0x33 0 1M"); // the disk moves on after the snapshot
    try {
      exports.golden = { disk: "qcow2", snapshot: "golden", path: `${OUT}/golden.raw` };
      mustSucceed(await timed("export a thick snapshot", () => engine.up(program)));
      assert.strictEqual(outputs("golden")!.sha256, golden);
      assert.strictEqual(await sha(`cat ${OUT}/golden.raw`), golden);
      assert.notStrictEqual(await contentSha(dev(QCOW2), "qcow2"), golden);
      assert.strictEqual(outputs("golden")!.sourceState, `${VG}/${QCOW2}@golden`);
    } finally {
      await h.exec(`lvremove -y ${VG}/snap_${QCOW2}_golden >/dev/null`);
    }
  });

  it("exports a chain snapshot: its backing chain flattened, inactive links activated", async () => {
    disks.chain = { name: CHAIN, size: "16MiB", format: "qcow2" };
    mustSucceed(await engine.up(program));
    const base = CHAIN.replace(/\.qcow2$/, "");
    const lvSize = (await h.exec(`lvs --noheadings --units b --nosuffix -o lv_size ${VG}/${CHAIN}`)).trim();
    /** Proxmox's snapshot-as-volume-chain: the current LV becomes the snapshot, a new overlay takes the disk's name. */
    const snapshot = (id: string) => h.exec(`lvrename ${VG} ${CHAIN} snap_${base}_${id}.qcow2 >/dev/null && ` +
      `lvcreate -y -Wy -L ${lvSize}b -n ${CHAIN} ${VG} >/dev/null && udevadm settle && ` +
      `qemu-img create -q -f qcow2 -b snap_${base}_${id}.qcow2 -F qcow2 -o cluster_size=131072,extended_l2=on,preallocation=metadata ${dev(CHAIN)} 16M`);
    await qemuIo(CHAIN, "write -P 0x11 0 1M");
    await snapshot("s1");
    await qemuIo(CHAIN, "write -P 0x22 1M 1M");
    await snapshot("s2");
    await qemuIo(CHAIN, "write -P 0x33 0 2M"); // the current disk overwrites both
    const s2 = await contentSha(dev(`snap_${base}_s2.qcow2`), "qcow2");
    assert.notStrictEqual(await contentSha(dev(CHAIN), "qcow2"), s2);
    await h.exec(`lvchange -an ${VG}/snap_${base}_s1.qcow2`);
    try {
      exports.chained = { disk: "chain", snapshot: "s2", path: `${OUT}/chained.qcow2`, format: "qcow2" };
      mustSucceed(await timed("export a chain snapshot", () => engine.up(program)));
      assert.strictEqual(outputs("chained")!.sha256, s2);
      assert.strictEqual(await contentSha(`${OUT}/chained.qcow2`, "qcow2"), s2, "the export's content is s2's, flattened");
      assert.doesNotMatch(await h.exec(`qemu-img info ${OUT}/chained.qcow2`), /backing file/, "no backing file: flattened");
      const expected = await sha("{ head -c 1M /dev/zero | tr '\\000' '\\021'; head -c 1M /dev/zero | tr '\\000' '\\042'; head -c 14M /dev/zero; }");
      assert.strictEqual(s2, expected, "s2 is s1's first MiB, then its own second MiB");
    } finally {
      delete exports.chained;
      await h.exec(`lvremove -y ${VG}/snap_${base}_s1.qcow2 ${VG}/snap_${base}_s2.qcow2 >/dev/null`);
      delete disks.chain;
      mustSucceed(await engine.up(program));
    }
  });

  it("a destination filesystem that fills: no partial file, no temporary snapshot, and the error says what was cleaned up", async () => {
    await h.exec(`truncate -s 16M ${SMALL_IMAGE} && mkfs.ext4 -q -F ${SMALL_IMAGE} && mount -o loop ${SMALL_IMAGE} ${SMALL}`);
    const r = await timed("export into a full filesystem", () => engine.up(programOf({ ...exports, full: { disk: "raw", path: `${SMALL}/full.raw` } })));
    assert.strictEqual(r.ok, false);
    assert.match(failure(r), new RegExp(`export ${VG}/${RAW} \\(temporary snapshot\\) to ${SMALL}/full.raw: step "copy" failed .*` +
      "the destination filesystem is full: .*No space left on device.*\\. Cleaned up: " +
      `removed the partial file ${SMALL}/full.raw.pulumi-lvm-partial-[0-9a-f]{8}; removed the temporary snapshot ${VG}/snap_${RAW}_pulumi-lvm-export-[0-9a-f]{8}\\.`));
    assert.strictEqual(await leftovers(SMALL), "");
    assert.strictEqual(await temporaryLvs(), "");
    assert.strictEqual(outputs("full"), undefined);
  });

  it("an SSH connection killed mid-copy: the worker goes on, cleans up, and the export completes after a reconnect", async () => {
    exports.dropped = { disk: "raw", path: `${OUT}/dropped.raw` };
    const up = timed("export with the connection killed", () => engine.up(program));
    await waitOnHost("the export to start", exportStarted);
    // Every sshd session on the guest but the one running this command: the provider's connection.
    const killed = (await h.exec("for p in $(pgrep -x -f 'sshd: root@notty'); do [ \"$p\" = \"$PPID\" ] || { kill \"$p\" && echo \"$p\"; }; done")).trim();
    assert.notStrictEqual(killed, "", "a connection of the provider was killed");
    const r = mustSucceed(await up);
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["create dropped"]);
    assert.strictEqual(await sha(`cat ${OUT}/dropped.raw`), outputs("dropped")!.sha256);
    assert.strictEqual(await temporaryLvs(), "");
  });

  it("the client killed mid-copy: the worker removes its temporary snapshot, and the next up adopts the finished file", async () => {
    exports.orphan = { disk: "raw", path: `${OUT}/orphan.raw` };
    const up = engine.up(program);
    await waitOnHost("the export's worker to run", "pgrep -f 'pulumi-lvm/export-[0-9a-f]*/worker.sh' >/dev/null");
    const plugin = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
      .split("\n").find((l) => l.includes("dynamic-provider"))!.trim().split(/\s+/)[0];
    process.kill(Number(plugin), "SIGKILL");
    const r = await up;
    assert.strictEqual(r.ok, false, "the up failed with its plugin");
    await waitOnHost("the worker to finish", `! ${exportStarted}`);
    const marker = JSON.parse(await h.exec(`cat ${OUT}/orphan.raw.pulumi-lvm.json`));

    const again = mustSucceed(await timed("adopt the orphaned export", () => engine.up(program)));
    assert.deepStrictEqual(changes(again).map((s) => `${s.op} ${s.name}`), ["create orphan"]);
    assert.deepStrictEqual([outputs("orphan")!.createdAt, outputs("orphan")!.sha256], [marker.createdAt, marker.sha256], "the finished file was adopted");
    assert.strictEqual(await sha(`cat ${OUT}/orphan.raw`), marker.sha256);
    assert.strictEqual(await leftovers(OUT).then((l) => l.includes("partial")), false);
  });

  it("a triggers change writes a fresh export, deleting the old one first (same path)", async () => {
    exports.nightly = { disk: "qcow2", path: `${OUT}/nightly.qcow2`, format: "qcow2", triggers: ["run-1"] };
    mustSucceed(await engine.up(program));
    const first = { ...outputs("nightly")! };
    exports.nightly = { ...exports.nightly, triggers: ["run-2"] };
    const preview = mustSucceed(await engine.preview(program));
    assert.deepStrictEqual(changes(preview).map((s) => [s.op, s.name, s.replaceFields, s.deleteBeforeReplace]), [["replace", "nightly", ["triggers"], true]]);
    const r = mustSucceed(await timed("re-export on a trigger", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["replace nightly"]);
    assert.notStrictEqual(outputs("nightly")!.mtime, first.mtime, "a new file");
    assert.strictEqual(outputs("nightly")!.sha256, first.sha256, "of the same content");
    assert.strictEqual(JSON.parse(await h.exec(`cat ${OUT}/nightly.qcow2.pulumi-lvm.json`)).mtime, outputs("nightly")!.mtime);
  });

  it("refresh: a changed file is reported as it is now; a deleted one is gone", async () => {
    await h.exec(`dd if=/dev/urandom of=${OUT}/sparse.raw bs=1M count=1 seek=8 conv=notrunc status=none`);
    await h.exec(`rm ${OUT}/golden.raw ${OUT}/golden.raw.pulumi-lvm.json`);
    const r = mustSucceed(await engine.refresh());
    assert.deepStrictEqual(changes(r).filter((s) => s.gone).map((s) => s.name), ["golden"]);
    assert.strictEqual(outputs("sparse")!.sha256, await sha(`cat ${OUT}/sparse.raw`), "the new content's checksum");
    assert.ok(changes(r).some((s) => s.name === "sparse" && s.changedFields.includes("sha256")));
    delete exports.golden;
  });

  it("deleting an export removes its file and marker; with retainOnDelete the file stays", async () => {
    retained = ["kept"];
    exports.kept = { disk: "qcow2", path: `${OUT}/kept.raw` };
    mustSucceed(await engine.up(program));
    const { kept, packed, ...rest } = exports;
    exports = rest;
    const r = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}${s.retained ? " (retained)" : ""}`).sort(), ["delete kept (retained)", "delete packed"]);
    const files = await leftovers(OUT);
    assert.doesNotMatch(files, /packed/);
    assert.match(files, /kept\.raw\nkept\.raw\.pulumi-lvm\.json/);
    void kept; void packed;
  });

  it("destroys every export and disk, leaving no temporary snapshot or partial file", async () => {
    mustSucceed(await timed("destroy", () => engine.destroy()));
    assert.deepStrictEqual(engine.readState().resources, []);
    assert.strictEqual((await h.exec(`lvs --noheadings -o lv_name ${VG}`)).trim(), "");
    assert.deepStrictEqual((await leftovers(OUT)).split("\n"), ["kept.raw", "kept.raw.pulumi-lvm.json"], "only the retained export");
  });
});
