// Snapshot without a host: every check failure goes through the dynamic-provider glue with a host resolver that
// throws (so no host is contacted); the scripts the kind builds are read off a fake host.
import * as assert from "assert";
import { dynamicProvider } from "../../provider/dynamic/provider";
import { snapshot, SnapshotInputs } from "../../provider/resources/snapshot";
import { EXTENT, FakeHost, lvmSections, MEASURE_32MIB, qcow2Info, runs, stepAt } from "../support/fakeHost";
import { CONNECTION as connection, noHost } from "../support/noHost";
import { parseLvs } from "../../provider/lvm/report";
import { snapshotsOf } from "../../provider/storage/snapshots";

const provider = dynamicProvider(snapshot, noHost);
const base = { connection, volumeGroup: "data", disk: "vm-401-disk-0.qcow2", name: "id" };
const MiB = 1024 * 1024;

async function failures(news: Record<string, unknown>) {
  const { failures: found } = await provider.check!({}, news);
  return (found ?? []).map((f) => `${f.property}: ${f.reason}`);
}

describe("Snapshot check (no host contacted)", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["an empty name", { name: "" }, /^name: snapshot name must not be empty/],
    ["a name with a space", { name: "before upgrade" }, /^name: snapshot name may contain only letters/],
    ["a name with shell syntax", { name: "$(reboot)" }, /^name: snapshot name may contain only letters/],
    ["a name starting with '-'", { name: "-rf" }, /^name: snapshot name must not start with '-'/],
    ["a reserved name", { name: "pulumi-lvm-export" }, /^name: snapshot names starting with pulumi-lvm- are reserved/],
    ["a name making an LV name LVM reserves", { name: "x_tmeta" }, /^name: the snapshot's LV snap_vm-401-disk-0_x_tmeta\.qcow2: must not contain '_tmeta'/],
    ["a name making too long an LV name", { name: "n".repeat(120) }, /^name: the snapshot's LV .*at most 127 characters/],
    ["a disk name with a slash", { disk: "othervg/disk" }, /^disk: logical volume name may contain only/],
    ["an unknown method", { method: "cow" }, /^method: method must be one of auto, chain, thick, thin; got "cow"$/],
    ["a size for a thin snapshot", { method: "thin", size: "1GiB" }, /^size: size applies only to thick snapshots: a thin snapshot shares/],
    ["an lvName for a thin snapshot", { method: "thin", lvName: "linux01-snap" }, /^lvName: lvName applies only to thick snapshots: a thin snapshot.s LV is named snap_<disk>_<name>/],
    ["a size for a chain snapshot", { method: "chain", size: "1GiB" }, /^size: size applies only to thick snapshots/],
    ["an lvName for a chain snapshot", { method: "chain", lvName: "linux01-snap" }, /^lvName: lvName applies only to thick snapshots/],
    ["a size that is not a size", { method: "thick", size: "lots" }, /^size: not a size/],
    ["a zero size", { method: "thick", size: 0 }, /^size: not a size/],
    ["a percentage over 100", { method: "thick", size: "150%" }, /^size: a percentage must be more than 0% and at most 100%/],
    ["a quiesce hook as a shell string", { quiesce: { before: ["virsh domfsfreeze vm1"] } }, /^quiesce\.before\.0: /],
    ["an empty quiesce hook", { quiesce: { after: [[]] } }, /^quiesce\.after\.0: a hook is an argument list/],
    ["a NUL in a hook", { quiesce: { after: [["echo", "a\0b"]] } }, /^quiesce\.after\.0\.1: an argument must not contain a NUL byte/],
    ["an unknown field", { sizee: "1G" }, /^sizee: unknown key "sizee" in the inputs; did you mean "size"\?$/],
  ];
  for (const [what, patch, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const found = await failures({ ...base, ...patch });
      assert.strictEqual(found.length, 1, found.join("\n"));
      assert.match(found[0], reason);
    });
  }

  it("an unchanged program with method auto and no lvName diffs clean against the resolved outputs", async () => {
    const { inputs } = await provider.check!({}, base);
    const olds = { ...inputs, method: "chain", lvName: "snap_vm-401-disk-0_id.qcow2", createdAt: "t", sizeBytes: 1 };
    const diff = await provider.diff!("id", olds, inputs);
    assert.deepStrictEqual([diff.changes, diff.replaces], [false, []]);
    const changedMethod = await provider.diff!("id", olds, { ...inputs, method: "thick" });
    assert.deepStrictEqual(changedMethod.replaces, ["method"]);
  });

  it("records a new size or quiesce without contacting the host", async () => {
    const { inputs } = await provider.check!({}, { ...base, method: "thick" });
    const olds = { ...inputs, lvName: "snap_x", createdAt: "t", sizeBytes: 1 };
    const news = { ...inputs, size: "20%", quiesce: { before: [["true"]], after: [] } };
    const { outs } = await provider.update!("id", olds, news);
    assert.deepStrictEqual([outs.size, outs.lvName], ["20%", "snap_x"]);
  });
});

describe("Snapshot create (fake host)", () => {
  const disk = { name: "vm-401-disk-0.qcow2", size: 36 * MiB, tags: ["pve", "pulumi-lvm/format=qcow2"] };
  const chainJson = JSON.stringify([{ ...JSON.parse(qcow2Info(32 * MiB)), filename: "/dev/data/vm-401-disk-0.qcow2" }]);
  const check = async (patch: Record<string, unknown> = {}) => (await provider.check!({}, { ...base, ...patch })).inputs as SnapshotInputs;

  it("chain: renames the disk, creates and formats an overlay backed by the snapshot (relative), hooks around it", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 1024 * MiB }, [disk]),
      { [`chain /dev/data/vm-401-disk-0.qcow2`]: chainJson },
      { measure: MEASURE_32MIB },
      { lvs: lvmSections({ name: "data", free: 0 }, [{ ...disk, name: "snap_vm-401-disk-0_id.qcow2" }, disk]).lvs },
    ]);
    const outs = await snapshot.create(host, await check({ quiesce: { before: [["fsfreeze", "-f", "/mnt"]], after: [["fsfreeze", "-u", "/mnt"]] } }));
    const text = host.text(3);
    assert.ok(runs(text, ["lvrename", "--", "data", "vm-401-disk-0.qcow2", "snap_vm-401-disk-0_id.qcow2"]), text);
    assert.ok(runs(text, ["lvcreate", "--yes", "-Wy", "-Zy", "-L", `${36 * MiB}b`, "-n", "vm-401-disk-0.qcow2",
      "--addtag", "pve", "--addtag", "pulumi-lvm/format=qcow2", "--", "data"]), text);
    assert.ok(runs(text, ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "snap_vm-401-disk-0_id.qcow2", "-F", "qcow2",
      "-o", "cluster_size=131072,extended_l2=on,preallocation=metadata", "/dev/data/vm-401-disk-0.qcow2", String(32 * MiB)]), text);
    const journal = "pulumi-lvm/snapshotting=vm-401-disk-0.qcow2:snap_vm-401-disk-0_id.qcow2";
    assert.ok(runs(text, ["lvchange", "--addtag", journal, "--", "data/vm-401-disk-0.qcow2"]), text);
    assert.ok(runs(text, ["lvchange", "--deltag", journal, "--", "data/snap_vm-401-disk-0_id.qcow2"]), text);
    const order = ["lock", "check the disk is not in use", "journal the snapshot",
      "quiesce.before[0]", "rename the disk's LV to the snapshot's name", "lvcreate the overlay", "qemu-img create the overlay",
      "quiesce.after", "close the journal entry"];
    order.reduce((at, step) => { const next = stepAt(text, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);
    assert.deepStrictEqual([outs.method, outs.lvName, outs.backingFile, outs.parent], ["chain", "snap_vm-401-disk-0_id.qcow2", "snap_vm-401-disk-0_id.qcow2", undefined]);
    assert.strictEqual(EXTENT, 4 * MiB);
  });

  it("chain: a snapshot a power loss cut off (journal on the disk's LV) is finished when its overlay was made, else undone and taken", async () => {
    const snap = "snap_vm-401-disk-0_id.qcow2";
    const journal = `pulumi-lvm/snapshotting=vm-401-disk-0.qcow2:${snap}`;
    const renamed = { ...disk, name: snap, tags: [...disk.tags, journal] };
    const chain = JSON.stringify([
      { ...JSON.parse(qcow2Info(32 * MiB)), "filename": "/dev/data/vm-401-disk-0.qcow2", "backing-filename": snap, "full-backing-filename": `/dev/data/${snap}` },
      { ...JSON.parse(qcow2Info(32 * MiB)), filename: `/dev/data/${snap}` },
    ]);
    const finished = new FakeHost([
      lvmSections({ name: "data", free: 0 }, [renamed, disk]),
      { recover: "finished\n" },
      { [`chain /dev/data/vm-401-disk-0.qcow2`]: chain },
      lvmSections({ name: "data", free: 0 }, [{ ...renamed, tags: disk.tags }, disk]),
    ]);
    const outs = await snapshot.create(finished, await check());
    assert.deepStrictEqual([outs.method, outs.lvName, outs.backingFile, outs.parent], ["chain", snap, snap, undefined]);
    assert.ok(finished.text(1).includes(`tag='${journal}'`) && finished.text(1).includes(`snapshot='${snap}'`), finished.text(1));
    assert.strictEqual(finished.scripts.length, 4, "nothing more once the journal's snapshot is finished");

    const undone = new FakeHost([
      lvmSections({ name: "data", free: 1024 * MiB }, [renamed]),
      { recover: "undone\n" },
      lvmSections({ name: "data", free: 1024 * MiB }, [disk]),
      { [`chain /dev/data/vm-401-disk-0.qcow2`]: chainJson },
      { measure: MEASURE_32MIB },
      { lvs: lvmSections({ name: "data", free: 0 }, [{ ...disk, name: snap }, disk]).lvs },
    ]);
    assert.strictEqual((await snapshot.create(undone, await check())).lvName, snap);
    assert.ok(runs(undone.text(5), ["lvrename", "--", "data", "vm-401-disk-0.qcow2", snap]), "then taken afresh");

    // Cut off before the rename: only the journal entry is closed, then the snapshot is taken.
    const early = new FakeHost([lvmSections({ name: "data", free: 1024 * MiB }, [{ ...disk, tags: [...disk.tags, journal] }])]);
    await assert.rejects(snapshot.create(early, await check()), /unexpected script/);
    assert.ok(runs(early.text(1), ["lvchange", "--deltag", journal, "--", "data/vm-401-disk-0.qcow2"]), early.text(1));
  });

  it("refuses a chain snapshot of a raw disk, an open disk, and a name already used, before changing anything", async () => {
    const raw = { name: "vm-401-disk-1", size: 20 * MiB, tags: ["pulumi-lvm/format=raw"] };
    const answer = (lvs: object[]) => new FakeHost([lvmSections({ name: "data", free: 1024 * MiB }, lvs as never)]);
    await assert.rejects(snapshot.create(answer([raw]), await check({ disk: raw.name, method: "chain" })), /is a raw disk: a chain snapshot needs a qcow2 disk; use method: "thick"/);
    await assert.rejects(snapshot.create(answer([{ ...disk, attr: "-wi-ao----" }]), await check()), /is open .* stop the VM first, or use method: "thick"/);
    const taken = answer([disk, { name: "snap_vm-401-disk-0_id.qcow2", size: 36 * MiB }]);
    await assert.rejects(snapshot.create(taken, await check()), /exists already .*snapshot names must be unique per disk/);
  });

  it("thick: 10% of the origin by default, rounded up to extents, tagged with the snapshot's name", async () => {
    const raw = { name: "vm-401-disk-1", size: 100 * MiB, tags: [] };
    const host = new FakeHost([
      lvmSections({ name: "data", free: 1024 * MiB }, [raw]),
      { lvs: lvmSections({ name: "data", free: 0 }, [raw, { name: "snap_vm-401-disk-1_id", size: 12 * MiB, attr: "swi-a-s---", origin: raw.name }]).lvs },
    ]);
    const outs = await snapshot.create(host, await check({ disk: raw.name }));
    assert.ok(runs(host.text(1), ["lvcreate", "--yes", "--snapshot", "-L", `${12 * MiB}b`, "-n", "snap_vm-401-disk-1_id",
      "--addtag", "pulumi-lvm/snapshot=id", "--", "data/vm-401-disk-1"]), host.text(1));
    assert.deepStrictEqual([outs.method, outs.valid, outs.sizeBytes], ["thick", true, 12 * MiB]);
  });

  it("thick: an LV a power loss left mid-lvcreate (plain, tagged, no origin) is no snapshot; the create removes it under the lock, then takes it", async () => {
    const raw = { name: "vm-401-disk-1", size: 100 * MiB, tags: [] };
    const unfinished = { name: "snap_vm-401-disk-1_id", size: 12 * MiB, tags: ["pulumi-lvm/snapshot=id"] };
    const lvs = parseLvs(lvmSections({ name: "data", free: 0 }, [raw, unfinished]).lvs);
    assert.deepStrictEqual(snapshotsOf(lvs, "data", raw.name), [], "neither a thick snapshot nor a chain link");
    const host = new FakeHost([
      lvmSections({ name: "data", free: 1024 * MiB }, [raw, unfinished]),
      { lvs: lvmSections({ name: "data", free: 0 }, [raw, { ...unfinished, attr: "swi-a-s---", origin: raw.name }]).lvs },
    ]);
    const outs = await snapshot.create(host, await check({ disk: raw.name }));
    const text = host.text(1);
    assert.ok(stepAt(text, "lock") < stepAt(text, "remove the unfinished snapshot a cut-off lvcreate left"), text);
    assert.ok(stepAt(text, "remove the unfinished snapshot a cut-off lvcreate left") < stepAt(text, "check the snapshot's name is free"), text);
    assert.match(text, /lv='snap_vm-401-disk-1_id'/);
    assert.deepStrictEqual([outs.method, outs.valid], ["thick", true]);
    assert.strictEqual(await snapshot.read(new FakeHost([lvmSections({ name: "data", free: 0 }, [raw, unfinished])]), outs), undefined,
      "refresh does not take the unfinished LV for the snapshot");
  });
});

describe("Snapshot thin (fake host)", () => {
  const pool = { name: "pool", size: 1024 * MiB, attr: "twi-aotz--", dataPercent: 40, tags: ["pulumi-lvm/thin-refuse-above=90"] };
  const disk = { name: "vm-300-disk-0", size: 64 * MiB, attr: "Vwi-a-tz--", pool: "pool", tags: ["pulumi-lvm/format=raw"] };
  const snapLv = { name: "snap_vm-300-disk-0_id", size: 64 * MiB, attr: "Vri---tz-k", pool: "pool", origin: disk.name, tags: ["pulumi-lvm/snapshot=id"] };
  const check = async (patch: Record<string, unknown> = {}) =>
    (await provider.check!({}, { ...base, disk: disk.name, ...patch })).inputs as SnapshotInputs;

  it("auto on a thin disk: a read-only thin snapshot with the activation-skip flag, under the pool's fill guard and the hooks", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 0 }, [pool, disk]),
      { lvs: lvmSections({ name: "data", free: 0 }, [pool, disk, snapLv]).lvs },
    ]);
    const outs = await snapshot.create(host, await check({ quiesce: { before: [["sync"]], after: [["true"]] } }));
    const text = host.text(1);
    assert.ok(runs(text, ["lvcreate", "--yes", "--snapshot", "--permission", "r", "--setactivationskip", "y", "-n", "snap_vm-300-disk-0_id",
      "--addtag", "pulumi-lvm/snapshot=id", "--", "data/vm-300-disk-0"]), text);
    assert.ok(runs(text, ["lvremove", "--yes", "--", "data/snap_vm-300-disk-0_id"]), "undone if a later step fails");
    for (const v of ["pool='pool'", "check_fill='1'", "refuse_above='90'", "max_over_commit=''", "what='a new thin snapshot snap_vm-300-disk-0_id'"]) {
      assert.ok(text.includes(v), `${v} in:\n${text}`);
    }
    assert.ok(!text.includes("check free space"), "a thin snapshot takes no room from the VG");
    const order = ["lock", "check the snapshot's name is free", "check the thin pool", "quiesce.before[0]", "lvcreate the thin snapshot", "quiesce.after"];
    order.reduce((at, step) => { const next = stepAt(text, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);
    assert.deepStrictEqual([outs.method, outs.lvName, outs.thinPool, outs.sizeBytes], ["thin", "snap_vm-300-disk-0_id", "pool", 64 * MiB]);
  });

  it("refuses a chain snapshot of a thin disk, a thin one of a thick disk, and an lvName for a thin one, changing nothing", async () => {
    const answer = (lvs: object[]) => new FakeHost([lvmSections({ name: "data", free: 1024 * MiB }, lvs as never)]);
    const qcow2Thin = { ...disk, name: "vm-300-disk-1.qcow2", tags: ["pulumi-lvm/format=qcow2"] };
    await assert.rejects(snapshot.create(answer([pool, qcow2Thin]), await check({ disk: qcow2Thin.name, method: "chain" })),
      /is a thin disk \(pool pool\): a chain snapshot would move its current state to a thick overlay; use method: "thin"/);
    await assert.rejects(snapshot.create(answer([{ name: disk.name, size: 64 * MiB }]), await check({ method: "thin" })),
      /is not a thin disk: a thin snapshot needs a disk on a thin pool \(a VmDisk with thinPool\); use method: "thick"/);
    await assert.rejects(snapshot.create(answer([pool, disk]), await check({ lvName: "mine" })),
      /lvName applies only to thick snapshots, and data\/vm-300-disk-0 gets a thin snapshot/);
  });

  it("reads a thin snapshot back as thin, and deletes it with lvremove under the lock", async () => {
    const olds = { ...(await check({ method: "thin" })), method: "thin" as const, lvName: snapLv.name, createdAt: "t", sizeBytes: 64 * MiB, thinPool: "pool" };
    const read = await snapshot.read(new FakeHost([lvmSections({ name: "data", free: 0 }, [pool, disk, snapLv])]), olds);
    assert.deepStrictEqual([read?.method, read?.thinPool, read?.valid], ["thin", "pool", undefined]);
    const host = new FakeHost([{}]);
    await snapshot.delete(host, olds);
    assert.ok(runs(host.text(0), ["lvremove", "--yes", "--", "data/snap_vm-300-disk-0_id"]), host.text(0));
    assert.ok(stepAt(host.text(0), "lock") < stepAt(host.text(0), "lvremove the snapshot"));
  });

  it("finds a thin snapshot whose disk's LV was re-created (no origin left) by its tag and Proxmox's name", () => {
    const orphan = { ...snapLv, origin: "" };
    const lvs = parseLvs(lvmSections({ name: "data", free: 0 }, [pool, disk, orphan, { ...orphan, name: "snap_vm-300-disk-0_other" }]).lvs);
    assert.deepStrictEqual(snapshotsOf(lvs, "data", disk.name).map((s) => [s.name, s.method]), [["id", "thin"]],
      "an LV whose name does not match its tag is not taken for the disk's snapshot");
  });
});
