// DiskExport without a host: every check failure goes through the dynamic-provider glue with a host resolver that
// throws (so no host is contacted); the client's side of an export runs against a fake host; the host's side (the
// detached worker, the checksum) runs in a real local sh with the local qemu-img, on files instead of LVs.
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HostCommandError, Script, sh } from "../../provider/command";
import { dynamicProvider, UNKNOWN } from "../../provider/dynamic/provider";
import { setProgressSink } from "../../provider/progress";
import { diskExport, DiskExportInputs, DiskExportOutputs } from "../../provider/resources/diskExport";
import { CLAIM_JOB, HASH_LIB, READ_JOB, START_WORKER } from "../../provider/resources/diskExport/host";
import { JOB_TIMING, jobVars } from "../../provider/resources/diskExport/job";
import { markerHead, markerHeadText } from "../../provider/resources/diskExport/marker";
import { FakeAnswer, FakeHost, lvmSections, runs, stepAt } from "../support/fakeHost";
import { HOSTILE_STRINGS } from "../support/hostile";
import { LocalShell } from "../support/localShell";
import { CONNECTION as connection, noHost } from "../support/noHost";

const provider = dynamicProvider(diskExport, noHost);
const base = { connection, volumeGroup: "data", disk: "vm-100-disk-0", path: "/srv/exports/vm-100.raw" };
const MiB = 1024 * 1024;

async function failures(news: Record<string, unknown>) {
  const { failures: found } = await provider.check!({}, news);
  return (found ?? []).map((f) => `${f.property}: ${f.reason}`);
}

describe("DiskExport check (no host contacted)", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["a relative path", { path: "exports/vm-100.raw" }, /^path: path must be an absolute path on the host/],
    ["a path with a line break", { path: "/srv/a\nb.raw" }, /^path: path must not contain NUL or line breaks/],
    ["a path with a NUL byte", { path: "/srv/a\0b.raw" }, /^path: path must not contain NUL or line breaks/],
    ["a path ending with '/'", { path: "/srv/exports/" }, /^path: path must name a file, not end with '\/'/],
    ["a path under /dev", { path: "/dev/sdb" }, /^path: path must not be under \/dev\//],
    ["a path under /proc", { path: "/proc/self/mem" }, /^path: path must not be under \/proc\//],
    ["a path under /sys", { path: "//sys/kernel/x" }, /^path: path must not be under \/sys\//],
    ["a path with '..'", { path: "/srv/../dev/sda" }, /^path: path must not contain '\.' or '\.\.' components/],
    ["a file name too long for its temporary name", { path: `/srv/${"x".repeat(220)}` }, /^path: the file name must be at most 217 bytes/],
    ["a missing path", { path: undefined }, /^path: /],
    ["compress with raw", { compress: true }, /^compress: compress applies only to format: "qcow2" \(format is "raw"\)/],
    ["compress that is not a boolean", { format: "qcow2", compress: "yes" }, /^compress: compress must be true or false/],
    ["an unknown format", { format: "vmdk" }, /^format: format must be "raw" or "qcow2"/],
    ["snapshotSize with snapshot", { snapshot: "golden", snapshotSize: "1GiB" }, /^snapshotSize: snapshotSize sizes the temporary snapshot, which is not taken when exporting a snapshot/],
    ["a snapshotSize that is not a size", { snapshotSize: "lots" }, /^snapshotSize: not a size/],
    ["a snapshotSize above 100%", { snapshotSize: "150%" }, /^snapshotSize: a percentage must be more than 0% and at most 100%/],
    ["a bad VG name", { volumeGroup: "my vg" }, /^volumeGroup: volume group name may contain only/],
    ["a disk name reserved by LVM", { disk: "snapshot-1" }, /^disk: logical volume name must not start with 'snapshot'/],
    ["a disk name too long for its temporary snapshot", { disk: "d".repeat(110) }, /^disk: the disk's temporary snapshot name would be invalid: .*at most 127 characters/],
    ["a snapshot name with a space", { snapshot: "my snap" }, /^snapshot: snapshot name may contain only letters/],
    ["a snapshot name of pulumi-lvm's own", { snapshot: "pulumi-lvm-export-1" }, /^snapshot: snapshot names starting with pulumi-lvm- are reserved for pulumi-lvm's temporary snapshots/],
    ["triggers that are not an array", { triggers: "run-1" }, /^triggers: triggers must be an array of JSON values/],
    ["a misspelt field", { compres: true }, /^compres: unknown key "compres" in the inputs; did you mean "compress"\?$/],
    ["a connection without a host", { connection: { ...connection, host: undefined } }, /^connection\.host: host is required: a host name or address/],
  ];
  for (const [what, patch, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const found = await failures({ ...base, ...patch });
      assert.strictEqual(found.length, 1, found.join("\n"));
      assert.match(found[0], reason);
    });
  }

  it("accepts valid inputs as written and fills the defaults: raw, uncompressed", async () => {
    const { inputs, failures: found } = await provider.check!({}, { ...base, snapshotSize: "20%", triggers: ["run-7", { n: 1 }] });
    assert.deepStrictEqual(found, []);
    assert.deepStrictEqual({ ...inputs, connection: undefined }, {
      connection: undefined, volumeGroup: "data", disk: "vm-100-disk-0", path: "/srv/exports/vm-100.raw", format: "raw",
      compress: false, snapshotSize: "20%", triggers: ["run-7", { n: 1 }],
    });
    assert.deepStrictEqual(await failures({ ...base, path: "/srv/ex ports/it's $(here).qcow2", format: "qcow2", compress: true, snapshot: "golden" }), []);
  });

  it("says nothing about values not known yet at preview", async () => {
    assert.deepStrictEqual(await failures({ ...base, path: UNKNOWN, disk: UNKNOWN }), []);
  });
});

describe("DiskExport diff (no host contacted)", () => {
  const olds = { ...base, format: "qcow2", compress: false, sha256: "ab", sizeBytes: 1, createdAt: "t" };
  const diff = (news: Record<string, unknown>) => provider.diff!("id", olds, { ...olds, ...news });

  it("writes a fresh export on a change of disk, snapshot, path, format, compress, volume group, host or triggers", async () => {
    for (const [field, value] of Object.entries({ disk: "vm-101-disk-0", snapshot: "golden", path: "/srv/b.raw", format: "raw",
      compress: true, volumeGroup: "other", triggers: ["run-8"] })) {
      assert.deepStrictEqual((await diff({ [field]: value })).replaces, [field], field);
    }
    assert.deepStrictEqual((await diff({ connection: { ...connection, host: "192.0.2.11" } })).replaces, ["connection"]);
  });

  it("deletes the old export first only when the new one is written to the same path on the same host", async () => {
    assert.strictEqual((await diff({ triggers: ["run-8"] })).deleteBeforeReplace, true, "same path: the old delete would remove the new file");
    assert.strictEqual((await diff({ path: "/srv/b.raw" })).deleteBeforeReplace, false);
    assert.strictEqual((await diff({ connection: { ...connection, host: "192.0.2.11" } })).deleteBeforeReplace, false);
  });

  it("records a snapshotSize change without contacting the host", async () => {
    const d = await diff({ snapshotSize: "20%" }); // from none (the default, 10%)
    assert.deepStrictEqual([d.changes, d.replaces], [true, []]);
    const { outs } = await provider.update!("id", olds, { ...olds, snapshotSize: "20%" });
    assert.strictEqual(outs.snapshotSize, "20%");
  });
});

// ---- the provider's side of an export, on a fake host ----------------------------------------------------

const DISK = { name: "vm-100-disk-0", size: 1000 * MiB, attr: "owi-aos---" };
const destination = (file = "none", extra = "") => `dir=yes\nfile=${file}\n${extra}`;
const finished = (facts: string) => ({ job: `state=finished\n${facts}` });
const RESULT = "result=ok\nstep=finish\nsha256=abc123\nvirtual=1048576000\nsize=1048576000\nblocks=16384\nblock_size=512\n" +
  "mtime=1700000000.5\ncreated=2025-01-01T00:00:00Z\ncleaned=removed the temporary snapshot data/snap_vm-100-disk-0_pulumi-lvm-export-0f0f0f0f";

async function inputs(patch: Record<string, unknown> = {}): Promise<DiskExportInputs> {
  const { inputs: parsed, failures: found } = await provider.check!({}, { ...base, ...patch });
  assert.deepStrictEqual(found, []);
  return parsed as DiskExportInputs;
}

describe("DiskExport create (fake host)", () => {
  let progress: string[];
  let saved: typeof JOB_TIMING;
  beforeEach(() => {
    progress = [];
    setProgressSink((l) => progress.push(l));
    saved = { ...JOB_TIMING };
    Object.assign(JOB_TIMING, { pollMs: 1, reportEveryMs: 0 });
  });
  afterEach(() => {
    setProgressSink(undefined);
    Object.assign(JOB_TIMING, saved);
  });
  const exportOf = (answers: FakeAnswer[], patch: Record<string, unknown> = {}) => {
    const host = new FakeHost(answers);
    return { host, run: inputs(patch).then((i) => diskExport.create(host, i)) };
  };

  it("temporary snapshot: locks only to sweep, snapshot and start the worker; then polls without a lock, reporting progress", async () => {
    const { host, run } = exportOf([
      { ...lvmSections({ name: "data", free: 2000 * MiB }, [DISK]), destination: destination() },
      { "remove leftovers of earlier exports": "removed the leftover temporary snapshot data/snap_vm-100-disk-0_pulumi-lvm-export-12345678" },
      { job: "state=running\nphase=copy\ncopied=42.00" },
      { job: "state=running\nphase=checksum\nchecksummed=50" },
      finished(RESULT),
      {},
    ]);
    const out = await run;
    const start = host.text(1);
    const tmp = /tmp_lv='(snap_vm-100-disk-0_pulumi-lvm-export-[0-9a-f]{8})'/.exec(start)![1];
    assert.ok(runs(start, ["lvcreate", "--yes", "--snapshot", "-L", `${100 * MiB}b`, "-n", tmp, "--addtag", "pulumi-lvm/temporary", "--", "data/vm-100-disk-0"]),
      "10% of 1000 MiB, in whole 4 MiB extents");
    assert.ok(runs(start, ["lvremove", "--yes", "--", `data/${tmp}`]), "the snapshot is removed if the start fails");
    const order = ["check the destination", "lock", "remove leftovers of earlier exports", "claim the job", "check free space",
      "take the temporary snapshot", "activate the source", "wait for the source device", "start the copy on the host"];
    const at = order.map((s) => stepAt(start, s));
    assert.deepStrictEqual([...at].sort((a, b) => a - b), at, `steps run in the order ${order.join(", ")}`);
    assert.ok(start.includes(`src='/dev/data/${tmp}'`) && start.includes("src_format='raw'") && start.includes("out_format='raw'"), start);
    for (const n of [0, 2, 3, 4, 5]) assert.ok(!host.text(n).includes("flock -w"), `script ${n} (${host.scripts[n].operation}) takes no VG lock`);
    assert.deepStrictEqual(progress, [
      "DiskExport /srv/exports/vm-100.raw: removed the leftover temporary snapshot data/snap_vm-100-disk-0_pulumi-lvm-export-12345678",
      "DiskExport /srv/exports/vm-100.raw: copying data/vm-100-disk-0 (temporary snapshot) on root@10.0.0.5:22",
      progress[2], progress[3],
    ]);
    assert.match(progress[2], /copying data\/vm-100-disk-0 \(temporary snapshot\): 42% \(\d+ s\)$/);
    assert.match(progress[3], /computing the sha256 of the written image: 50% \(\d+ s\)$/);
    assert.deepStrictEqual({ ...out, connection: undefined }, {
      ...(await inputs()), connection: undefined, sha256: "abc123", virtualSizeBytes: 1000 * MiB, apparentSizeBytes: 1000 * MiB,
      sizeBytes: 8 * MiB, mtime: "1700000000.5", createdAt: "2025-01-01T00:00:00Z", sourceState: "data/vm-100-disk-0 (temporary snapshot)",
    });
  });

  it("a thick snapshot of a qcow2 disk (found by its tag): no temporary snapshot, the snapshot LV read as qcow2", async () => {
    const disk = { ...DISK, name: "vm-100-disk-0.qcow2" };
    const snap = { name: "before-upgrade", size: 8 * MiB, attr: "swi-a-s---", origin: disk.name, tags: ["pulumi-lvm/snapshot=golden"] };
    const { host, run } = exportOf([
      { ...lvmSections({ name: "data", free: 0 }, [disk, snap]), destination: destination(), "disk image": '{"format":"qcow2","virtual-size":1}' },
      { "remove leftovers of earlier exports": "" },
      finished(RESULT),
      {},
    ], { disk: disk.name, snapshot: "golden", format: "qcow2", compress: true });
    const out = await run;
    const start = host.text(1);
    assert.ok(!start.includes("'lvcreate'") && start.includes("tmp_lv=''"), start);
    assert.ok(start.includes("src='/dev/data/before-upgrade'") && start.includes("src_format='qcow2'") && start.includes("compress='1'"), start);
    assert.ok(start.includes("set -- 'before-upgrade'"), "the snapshot LV is activated if needed");
    assert.strictEqual(out.sourceState, "data/vm-100-disk-0.qcow2@golden");
  });

  it("a chain snapshot: the chain's LVs are activated and the snapshot's qcow2 is read (its backing chain flattened)", async () => {
    const lvs = [{ ...DISK, name: "vm-100-disk-0.qcow2", attr: "-wi-a-----" },
      { name: "snap_vm-100-disk-0_s1.qcow2", size: 8 * MiB, attr: "-wi-------" }, { name: "snap_vm-100-disk-0_s2.qcow2", size: 8 * MiB }];
    const { host, run } = exportOf([
      { ...lvmSections({ name: "data", free: 0 }, lvs), destination: destination(), "disk image": '{"format":"qcow2","virtual-size":1}' },
      { "remove leftovers of earlier exports": "" },
      finished(RESULT),
      {},
    ], { disk: "vm-100-disk-0.qcow2", snapshot: "s2" });
    await run;
    const start = host.text(1);
    assert.ok(start.includes("set -- 'snap_vm-100-disk-0_s1.qcow2' 'snap_vm-100-disk-0_s2.qcow2'"), start);
    assert.ok(start.includes("src='/dev/data/snap_vm-100-disk-0_s2.qcow2'") && start.includes("src_format='qcow2'"), start);
  });

  it("a thin disk: a thin temporary snapshot (no size, under the pool's fill guard), activated with -K for the copy", async () => {
    const pool = { name: "pool", size: 4000 * MiB, attr: "twi-aotz--", dataPercent: 10, tags: ["pulumi-lvm/thin-refuse-above=85"] };
    const disk = { ...DISK, attr: "Vwi-a-tz--", pool: "pool" };
    const { host, run } = exportOf([
      { ...lvmSections({ name: "data", free: 0 }, [pool, disk]), destination: destination() },
      { "remove leftovers of earlier exports": "" },
      finished(RESULT),
      {},
    ], { snapshotSize: "50%" });
    const out = await run;
    const start = host.text(1);
    const tmp = /tmp_lv='(snap_vm-100-disk-0_pulumi-lvm-export-[0-9a-f]{8})'/.exec(start)![1];
    assert.ok(runs(start, ["lvcreate", "--yes", "--snapshot", "--permission", "r", "--setactivationskip", "y", "-n", tmp,
      "--addtag", "pulumi-lvm/temporary", "--", "data/vm-100-disk-0"]), start);
    assert.ok(runs(start, ["lvremove", "--yes", "--", `data/${tmp}`]), "the snapshot is removed if the start fails");
    assert.ok(!start.includes("check free space") && !start.includes("'-L'"), "a thin snapshot takes no room from the VG, and snapshotSize does not apply");
    for (const v of ["pool='pool'", "check_fill='1'", "refuse_above='85'", `what='the temporary thin snapshot of vm-100-disk-0'`]) {
      assert.ok(start.includes(v), `${v} in:\n${start}`);
    }
    assert.match(start, /lvchange --activate y --ignoreactivationskip/, "a thin snapshot has the activation-skip flag");
    assert.ok(start.includes(`set -- '${tmp}'`) && start.includes(`src='/dev/data/${tmp}'`), start);
    const order = ["lock", "remove leftovers of earlier exports", "claim the job", "check the thin pool", "lvcreate the thin snapshot",
      "activate the source", "wait for the source device", "start the copy on the host"];
    order.reduce((at, step) => { const next = stepAt(start, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);
    assert.strictEqual(out.sourceState, "data/vm-100-disk-0 (temporary snapshot)");
  });

  it("a thin snapshot (inactive, with the activation-skip flag): activated with -K and read as the disk's format", async () => {
    const disk = { ...DISK, attr: "Vwi-a-tz--", pool: "pool" };
    const snap = { name: "snap_vm-100-disk-0_golden", size: DISK.size, attr: "Vri---tz-k", pool: "pool", origin: DISK.name, tags: ["pulumi-lvm/snapshot=golden"] };
    const { host, run } = exportOf([
      { ...lvmSections({ name: "data", free: 0 }, [disk, snap]), destination: destination() },
      { "remove leftovers of earlier exports": "" },
      finished(RESULT),
      {},
    ], { snapshot: "golden" });
    const out = await run;
    const start = host.text(1);
    assert.ok(!start.includes("'lvcreate'") && start.includes("tmp_lv=''"), start);
    assert.ok(start.includes("set -- 'snap_vm-100-disk-0_golden'") && start.includes("src='/dev/data/snap_vm-100-disk-0_golden'"), start);
    assert.match(start, /lvchange --activate y --ignoreactivationskip/);
    assert.strictEqual(out.sourceState, "data/vm-100-disk-0@golden");
  });

  const refusals: Array<[string, FakeAnswer, Record<string, unknown>, RegExp]> = [
    ["a missing volume group", { ...lvmSections(undefined), destination: destination() }, {}, /volume group data does not exist on this host/],
    ["a missing disk", { ...lvmSections({ name: "data", free: 0 }), destination: destination() }, {}, /logical volume data\/vm-100-disk-0 does not exist/],
    ["an unknown snapshot, naming the ones there are",
      { ...lvmSections({ name: "data", free: 0 }, [DISK, { name: "snap_vm-100-disk-0_a", size: MiB, attr: "swi-a-s---", origin: DISK.name }]), destination: destination() },
      { snapshot: "golden" }, /data\/vm-100-disk-0 has no snapshot named golden \(it has a\)/],
    ["an invalid (overflowed) snapshot",
      { ...lvmSections({ name: "data", free: 0 }, [DISK, { name: "snap_vm-100-disk-0_a", size: MiB, attr: "swi-I-s---", origin: DISK.name }]), destination: destination() },
      { snapshot: "a" }, /snapshot a \(data\/snap_vm-100-disk-0_a\) is invalid \(it overflowed\): its content is lost/],
    ["a .qcow2 disk that qemu-img cannot read as qcow2",
      { ...lvmSections({ name: "data", free: 0 }, [{ ...DISK, name: "d.qcow2" }]), destination: destination(), "disk image": "qemu-img: Image is not in qcow2 format" },
      { disk: "d.qcow2" }, /data\/d.qcow2 is named .qcow2 but qemu-img cannot read it as qcow2: qemu-img: Image is not in qcow2 format/],
    ["a missing destination folder", { ...lvmSections({ name: "data", free: 0 }, [DISK]), destination: "dir=no\nfile=none" }, {},
      /the destination folder \/srv\/exports does not exist on the host; create it first/],
    ["a directory at the path", { ...lvmSections({ name: "data", free: 0 }, [DISK]), destination: destination("directory") }, {}, /\/srv\/exports\/vm-100.raw exists and is a directory/],
    ["a file this export did not write", { ...lvmSections({ name: "data", free: 0 }, [DISK]), destination: destination("regular", "size=5\nmtime=1") }, {},
      /\/srv\/exports\/vm-100.raw already exists and was not written by this export; move it away or choose another path/],
  ];
  for (const [what, answer, patch, reason] of refusals) {
    it(`refuses ${what}, after the inspection only`, async () => {
      const { host, run } = exportOf([answer], patch);
      await assert.rejects(run, (e: HostCommandError) => {
        assert.strictEqual(e.kind, "refused");
        assert.match(e.message, reason);
        return true;
      });
      assert.strictEqual(host.scripts.length, 1);
    });
  }

  it("adopts the finished file of an earlier attempt of the same export (its marker matches), running nothing", async () => {
    const i = await inputs({ triggers: ["run-1"] });
    const head = markerHead(diskExport.id(i), i, "data/vm-100-disk-0 (temporary snapshot)");
    const marker = `${markerHeadText(head)},"sha256":"abc","virtualSizeBytes":10,"apparentSizeBytes":5,"mtime":"1.5","createdAt":"t0"}`;
    const answer = { ...lvmSections({ name: "data", free: 0 }, [DISK]), destination: destination("regular", `size=5\nblocks=8\nblock_size=512\nmtime=1.5\nmarker=${marker}`) };
    const host = new FakeHost([answer]);
    const out = await diskExport.create(host, i);
    assert.deepStrictEqual([out.sha256, out.createdAt, out.sizeBytes, host.scripts.length], ["abc", "t0", 4096, 1]);

    const other = await inputs({ triggers: ["run-2"] });
    await assert.rejects(diskExport.create(new FakeHost([answer]), other), /already exists and was not written by this export/);
    const touched = { ...answer, destination: answer.destination.replace("mtime=1.5", "mtime=2.5") };
    await assert.rejects(diskExport.create(new FakeHost([touched]), i), /was written by this export but has changed since/);
  });

  it("taking over a finished export whose worker a power loss stopped before it removed its temporary snapshot sweeps the snapshot", async () => {
    const i = await inputs({ triggers: ["run-1"] });
    const head = markerHead(diskExport.id(i), i, "data/vm-100-disk-0 (temporary snapshot)");
    const marker = `${markerHeadText(head)},"sha256":"abc","virtualSizeBytes":10,"apparentSizeBytes":5,"mtime":"1.5","createdAt":"t0"}`;
    const leftover = { name: "snap_vm-100-disk-0_pulumi-lvm-export-0a988d36", size: 8 * MiB, attr: "swi-a-s---", origin: DISK.name, tags: ["pulumi-lvm/temporary"] };
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 0 }, [DISK, leftover]), destination: destination("regular", `size=5\nblocks=8\nblock_size=512\nmtime=1.5\nmarker=${marker}`) },
      { sweep: `removed the leftover temporary snapshot data/${leftover.name}\n` },
    ]);
    assert.strictEqual((await diskExport.create(host, i)).sha256, "abc");
    assert.strictEqual(host.scripts.length, 2);
    assert.ok(host.text(1).includes("__step 'lock'") && host.text(1).includes("tmp_prefix='snap_vm-100-disk-0_pulumi-lvm-export-'"), host.text(1));
  });

  it("a failed copy: the error says why and what the worker cleaned up", async () => {
    const { run } = exportOf([
      { ...lvmSections({ name: "data", free: 2000 * MiB }, [DISK]), destination: destination() },
      { "remove leftovers of earlier exports": "" },
      finished("result=failed\nstep=copy\nmessage=the destination filesystem is full: qemu-img: error while writing at byte 0: No space left on device\n" +
        "cleaned=removed the partial file /srv/exports/vm-100.raw.pulumi-lvm-partial-1; removed the temporary snapshot data/x"),
      {},
    ]);
    await assert.rejects(run, (e: HostCommandError) => {
      assert.strictEqual(e.step, "copy");
      assert.match(e.message, /step "copy" failed .*the destination filesystem is full: .*No space left on device\. Cleaned up: removed the partial file \/srv\/exports\/vm-100.raw.pulumi-lvm-partial-1; removed the temporary snapshot data\/x\./);
      return true;
    });
  });

  it("a worker gone without a result (SIGKILL, reboot): sweeps its leftovers under the lock and says what it removed", async () => {
    const { host, run } = exportOf([
      { ...lvmSections({ name: "data", free: 2000 * MiB }, [DISK]), destination: destination() },
      { "remove leftovers of earlier exports": "" },
      { job: "state=gone" },
      { sweep: "removed the leftover temporary snapshot data/t\nremoved the leftover partial file /srv/p" },
    ]);
    await assert.rejects(run, /the export's worker on the host ended without a result \(killed, or the host restarted\)\. Cleaned up: removed the leftover temporary snapshot data\/t; removed the leftover partial file \/srv\/p\./);
    assert.ok(stepAt(host.text(3), "lock") < stepAt(host.text(3), "sweep"));
  });

  it("a start whose answer was lost and that never began: says so, after sweeping under the lock", async () => {
    const dropped = new HostCommandError("root@10.0.0.5:22", "start", "connection", undefined, null, "the connection was lost");
    const { run } = exportOf([
      { ...lvmSections({ name: "data", free: 2000 * MiB }, [DISK]), destination: destination() },
      dropped,
      { job: "state=gone" },
      { sweep: "" },
    ]);
    await assert.rejects(run, /step "start" failed .*the connection was lost while the export was being started, and no export of it runs on the host\. Cleaned up: nothing was left behind\./);
  });

  it("rides out a dropped connection while polling: the worker goes on, the next poll finds the result", async () => {
    const dropped = new HostCommandError("root@10.0.0.5:22", "poll", "connection", undefined, null, "the connection was lost");
    const { run } = exportOf([
      { ...lvmSections({ name: "data", free: 2000 * MiB }, [DISK]), destination: destination() },
      dropped, // the start script's answer was lost: the job is followed all the same
      dropped,
      finished(RESULT),
      {},
    ]);
    assert.strictEqual((await run).sha256, "abc123");
  });
});

describe("DiskExport read and delete (fake host)", () => {
  const created = async (): Promise<DiskExportOutputs> => ({
    ...(await inputs()), sha256: "abc", virtualSizeBytes: 100, apparentSizeBytes: 100, sizeBytes: 4096, mtime: "1.5",
    createdAt: "t0", sourceState: "data/vm-100-disk-0 (temporary snapshot)",
  });
  const facts = (size: number, mtime: string, marker = "") => ({ "file /srv/exports/vm-100.raw":
    `dir=yes\nfile=regular\nsize=${size}\nblocks=16\nblock_size=512\nmtime=${mtime}${marker ? `\nmarker=${marker}` : ""}` });

  it("refresh: a file gone is a resource gone; an unchanged file keeps its checksum (no full read)", async () => {
    const olds = await created();
    assert.strictEqual(await diskExport.read(new FakeHost([{ "file /srv/exports/vm-100.raw": "dir=yes\nfile=none" }]), olds), undefined);
    const host = new FakeHost([facts(100, "1.5")]);
    assert.deepStrictEqual(await diskExport.read(host, olds), { ...olds, sizeBytes: 8192 });
    assert.strictEqual(host.scripts.length, 1);
  });

  it("refresh: a file changed since (size or mtime) is checksummed again and reported as it is now", async () => {
    const host = new FakeHost([facts(200, "2.5"), { checksum: "300 def" }]);
    const now = await diskExport.read(host, await created());
    assert.deepStrictEqual([now?.apparentSizeBytes, now?.mtime, now?.virtualSizeBytes, now?.sha256], [200, "2.5", 300, "def"]);
    assert.ok(host.text(1).includes("hash_image \"$path\" \"$format\""), host.text(1));
  });

  it("delete removes the file and its marker when the marker names this export, and refuses another's file", async () => {
    const olds = await created();
    const ours = JSON.stringify({ writtenBy: "pulumi-lvm DiskExport", resource: diskExport.id(olds), sha256: "abc", mtime: "1.5",
      apparentSizeBytes: 100, virtualSizeBytes: 100, createdAt: "t0" });
    const host = new FakeHost([facts(100, "1.5", ours), {}]);
    await diskExport.delete(host, olds);
    assert.ok(host.text(1).includes("rm -f -- \"$path\" \"$marker\"") && host.text(1).includes("marker='/srv/exports/vm-100.raw.pulumi-lvm.json'"), host.text(1));

    const theirs = ours.replace('"createdAt":"t0"', '"createdAt":"t1"');
    await assert.rejects(diskExport.delete(new FakeHost([facts(100, "1.5", theirs)]), olds),
      /\/srv\/exports\/vm-100.raw is not the file this export wrote .* it was left alone: remove it by hand/);
    await diskExport.delete(new FakeHost([{ "file /srv/exports/vm-100.raw": "dir=yes\nfile=none" }]), olds); // already gone: nothing to do
  });
});

// ---- the host's side, in a real local sh ------------------------------------------------------------------

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const missingTools = ["qemu-img", "setsid", "flock", "sha256sum"].filter((t) => {
  try { execFileSync("sh", ["-c", `command -v ${t}`]); return false; } catch { return true; }
});

// Without these tools the worker's tests are pending on a developer's machine; in CI (CI=true) they fail instead.
(missingTools.length > 0 && process.env.CI !== "true" ? describe.skip : describe)("DiskExport worker (local sh and qemu-img, files for LVs)", function () {
  this.timeout(60_000);
  before(() => {
    if (missingTools.length > 0) throw new Error(`missing ${missingTools.join(", ")} on this machine: bash test/host/setup.sh installs them`);
  });
  const shell = new LocalShell();
  let dir: string;
  let source: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "disk-export-"));
    source = path.join(dir, "source.raw");
    // 3 MiB of data, then a hole: 8 MiB in all.
    const data = Buffer.alloc(3 * MiB);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    fs.writeFileSync(source, data);
    fs.truncateSync(source, 8 * MiB);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Starts the worker as the start script does (without LVM: no temporary snapshot) and polls it to the end. */
  async function runWorker(target: string, patch: Record<string, unknown> = {}, chunk = MiB) {
    const i = { ...(await inputs({ path: target, snapshot: "s", ...patch })) };
    const src = { lvName: "s", format: "raw" as const, activate: [], state: "data/vm-100-disk-0@s" };
    const vars = { ...jobVars(i, src, markerHead("id", i, src.state), "0123abcd"), src: source,
      jobs_root: dir, job_dir: path.join(dir, "export-0123abcd"), vg_lock: path.join(dir, "vg.lock"), hash_chunk_bytes: String(chunk) };
    await shell.run(new Script("start").code("claim", CLAIM_JOB, vars).code("start", START_WORKER, vars));
    for (;;) {
      const { sections } = await shell.run(new Script("poll").captureCode("job", READ_JOB, { job_dir: vars.job_dir }));
      if (!sections.job.startsWith("state=running")) return { job: sections.job, log: fs.readFileSync(path.join(vars.job_dir, "log"), "utf8") };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("writes a sparse raw file and its marker under the final names, with the sha256 of the content", async () => {
    const target = path.join(dir, "out.raw");
    const { job, log } = await runWorker(target);
    assert.match(job, /state=finished\nresult=ok\n/, log);
    assert.match(job, new RegExp(`sha256=${sha256(source)}\nvirtual=${8 * MiB}\nsize=${8 * MiB}\n`));
    assert.strictEqual(sha256(target), sha256(source));
    assert.ok(fs.statSync(target).blocks * 512 < 8 * MiB, "zeroes were skipped: the file is sparse");
    const marker = JSON.parse(fs.readFileSync(`${target}.pulumi-lvm.json`, "utf8"));
    assert.deepStrictEqual([marker.resource, marker.sha256, marker.apparentSizeBytes], ["id", sha256(source), 8 * MiB]);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["export-0123abcd", "out.raw", "out.raw.pulumi-lvm.json", "source.raw"]);
  });

  it("compressed qcow2 at a hostile path: the checksum of the decoded content, sliced, equals the raw content's", async () => {
    const target = path.join(dir, "a,b 'c' $(touch pwned) \"d\".qcow2");
    const { job } = await runWorker(target, { format: "qcow2", compress: true }, 3 * MiB);
    assert.match(job, /result=ok/);
    assert.match(job, new RegExp(`sha256=${sha256(source)}\n`));
    assert.match(execFileSync("qemu-img", ["info", "-f", "qcow2", target], { encoding: "utf8" }), /file format: qcow2/);
    assert.ok(!fs.existsSync(path.join(dir, "pwned")) && !fs.existsSync("pwned"));
  });

  it("a failed copy leaves no partial file, and says so", async () => {
    fs.rmSync(source);
    const target = path.join(dir, "out.raw");
    const { job } = await runWorker(target);
    assert.match(job, /result=failed\nstep=copy\nmessage=copying failed: qemu-img: Could not open/);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["export-0123abcd"]);
  });

  it("READ_JOB: running while the lock is held and no status is there; finished once it is; gone without either", async () => {
    const jobDir = path.join(dir, "export-job");
    fs.mkdirSync(jobDir);
    fs.writeFileSync(path.join(jobDir, "lock"), "");
    const state = async () => (await shell.run(new Script("poll").captureCode("job", READ_JOB, { job_dir: jobDir }))).sections.job.split("\n")[0];
    assert.strictEqual(await state(), "state=gone");
    const holder = spawn("flock", [path.join(jobDir, "lock"), "sleep", "30"], { stdio: "ignore" });
    try {
      for (let i = 0; i < 50 && (await state()) !== "state=running"; i++) await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(await state(), "state=running");
      fs.writeFileSync(path.join(jobDir, "status"), "result=ok\nstep=finish\n");
      assert.strictEqual(await state(), "state=finished", "a status written just before the worker lets go counts");
    } finally {
      holder.kill();
    }
  });

  it("hash_image: raw and qcow2 files, slice by slice, whatever the name", async () => {
    const usable = HOSTILE_STRINGS.filter((s) => !/[\n/\0]/.test(s));
    const half = Math.ceil(usable.length / 2);
    for (const name of [`a,,b${usable.slice(0, half).join("")}`, `c,${usable.slice(half).join("")}`]) {
      const file = path.join(dir, `${name}.qcow2`);
      execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", source, file]);
      const { sections } = await shell.run(new Script("hash")
        .code("define", HASH_LIB, { hash_chunk_bytes: String(3 * MiB) })
        .captureCode("qcow2", sh`hash_image "$file" qcow2 "$file.chunk" /dev/null`, { file, hash_chunk_bytes: String(3 * MiB) })
        .captureCode("raw", sh`hash_image "$source" raw "$file.chunk" /dev/null`, { file, source }));
      assert.strictEqual(sections.qcow2, `${8 * MiB} ${sha256(source)}`, name);
      assert.strictEqual(sections.raw, `${8 * MiB} ${sha256(source)}`, name);
      fs.rmSync(file);
    }
  });
});
