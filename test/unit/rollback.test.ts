// Rollback without a host: check failures through the dynamic-provider glue (no host contacted), and the scripts the
// kind builds read off a fake host.
import * as assert from "assert";
import { dynamicProvider } from "../../provider/dynamic/provider";
import { rollback, RollbackInputs } from "../../provider/resources/rollback";
import { FakeHost, lvmSections, MEASURE_32MIB, qcow2Info, runs, stepAt } from "../support/fakeHost";
import { CONNECTION as connection, noHost } from "../support/noHost";

const provider = dynamicProvider(rollback, noHost);
const MiB = 1024 * 1024;
const base = { connection, volumeGroup: "data", disk: "vm-401-disk-0.qcow2", snapshot: "golden" };
const check = async (patch: Record<string, unknown> = {}) => (await provider.check!({}, { ...base, ...patch })).inputs as RollbackInputs;
const order = (text: string, steps: string[]) =>
  steps.reduce((at, step) => { const next = stepAt(text, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);

describe("Rollback check and diff (no host contacted)", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["a snapshot name with shell syntax", { snapshot: "$(reboot)" }, /^snapshot: snapshot name may contain only letters/],
    ["a reserved snapshot name", { snapshot: "pulumi-lvm-export-1" }, /^snapshot: snapshot names starting with pulumi-lvm- are reserved/],
    ["a missing snapshot", { snapshot: undefined }, /^snapshot: /],
    ["a disk name with a slash", { disk: "othervg/disk" }, /^disk: logical volume name may contain only/],
    ["a disk name too long for the new overlay's LV", { disk: "d".repeat(120) }, /^disk: the LV a rollback builds the disk's new overlay in would be invalid/],
    ["triggers that are not an array", { triggers: "run-1" }, /^triggers: triggers must be an array/],
    ["a quiesce hook as a shell string", { quiesce: { before: ["virsh shutdown vm1"] } }, /^quiesce\.before\.0: /],
    ["an unknown field", { method: "thick" }, /^method: unknown key "method" in the inputs; the keys of the inputs are connection, volumeGroup, disk, snapshot, triggers, quiesce$/],
  ];
  for (const [what, patch, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const { failures } = await provider.check!({}, { ...base, ...patch });
      const found = (failures ?? []).map((f) => `${f.property}: ${f.reason}`);
      assert.strictEqual(found.length, 1, found.join("\n"));
      assert.match(found[0], reason);
    });
  }

  it("a triggers change replaces (rolls back again); quiesce is recorded only", async () => {
    const inputs = await check({ triggers: [1] });
    const olds = { ...inputs, method: "chain", snapshotLvName: "snap_vm-401-disk-0_golden.qcow2", rolledBackAt: "t" };
    assert.deepStrictEqual((await provider.diff!("id", olds, inputs)).changes, false);
    assert.deepStrictEqual((await provider.diff!("id", olds, { ...inputs, triggers: [2] })).replaces, ["triggers"]);
    const quiet = await provider.diff!("id", olds, { ...inputs, quiesce: { before: [["true"]], after: [] } });
    assert.deepStrictEqual([quiet.changes, quiet.replaces], [true, []]);
  });
});

describe("Rollback (fake host)", () => {
  const disk = { name: "vm-401-disk-0.qcow2", size: 36 * MiB, tags: ["pve", "pulumi-lvm/format=qcow2"] };
  const snapLv = "snap_vm-401-disk-0_golden.qcow2";
  const image = (lv: string, backing?: string) =>
    ({ ...JSON.parse(qcow2Info(32 * MiB)), filename: `/dev/data/${lv}`, ...(backing ? { "backing-filename": backing } : {}) });
  const chainOf = (...lvs: string[]) => ({ [`chain /dev/data/${disk.name}`]: JSON.stringify(lvs.map((lv, i) => image(lv, lvs[i + 1]))) });

  it("chain: builds a fresh overlay on the snapshot under a journaled name, then swaps it in for the old one", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 1024 * MiB }, [disk, { name: snapLv, size: 36 * MiB }]),
      chainOf(disk.name, snapLv),
      { measure: MEASURE_32MIB },
      {},
    ]);
    const outs = await rollback.create(host, await check({ quiesce: { before: [["virsh", "shutdown", "vm1"]], after: [["virsh", "start", "vm1"]] } }));
    const text = host.text(3);
    const fresh = "pulumi-lvm-new_vm-401-disk-0.qcow2";
    assert.ok(runs(text, ["lvcreate", "--yes", "-Wy", "-Zy", "-L", `${36 * MiB}b`, "-n", fresh, "--addtag", "pve",
      "--addtag", "pulumi-lvm/format=qcow2", "--addtag", "pulumi-lvm/replaces=vm-401-disk-0.qcow2", "--", "data"]), text);
    assert.ok(runs(text, ["qemu-img", "create", "-q", "-f", "qcow2", "-b", snapLv, "-F", "qcow2",
      "-o", "cluster_size=131072,extended_l2=on,preallocation=metadata", `/dev/data/${fresh}`, String(32 * MiB)]), text);
    assert.ok(runs(text, ["lvrename", "--", "data", fresh, disk.name]), text);
    order(text, ["lock", "quiesce.before[0]", "check the disk is not in use", "check the chain is as read", "check free space",
      "lvcreate the overlay", "qemu-img create the overlay", "remove the disk's old LV", "give the new LV the disk's name",
      "close the journal entry", "quiesce.after"]);
    // The undo of the new overlay is dropped before the old one is removed: from there, the journal finishes the work.
    const forget = text.lastIndexOf("__undos=''");
    assert.ok(forget > stepAt(text, "qemu-img create the overlay") && forget < stepAt(text, "remove the disk's old LV"), text);
    assert.match(text, /trap '' HUP PIPE/, "the script outlives a lost client");
    assert.deepStrictEqual([outs.method, outs.snapshotLvName], ["chain", snapLv]);
    assert.ok(!Number.isNaN(Date.parse(outs.rolledBackAt)));
  });

  it("chain: refuses an older snapshot, naming the newer ones, and changes nothing", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 1024 * MiB }, [disk, { name: snapLv, size: 36 * MiB },
        { name: "snap_vm-401-disk-0_s2.qcow2", size: 36 * MiB }, { name: "snap_vm-401-disk-0_s3.qcow2", size: 36 * MiB }]),
      chainOf(disk.name, "snap_vm-401-disk-0_s3.qcow2", "snap_vm-401-disk-0_s2.qcow2", snapLv),
    ]);
    await assert.rejects(rollback.create(host, await check()),
      /data\/vm-401-disk-0\.qcow2@golden is not the newest snapshot of the disk: the newer snapshots s3, s2 read through it; delete them first/);
    assert.strictEqual(host.scripts.length, 2, "only reads ran");
  });

  it("refuses a snapshot the disk does not have, listing the ones it has", async () => {
    const host = new FakeHost([lvmSections({ name: "data", free: 0 }, [disk, { name: "snap_vm-401-disk-0_base.qcow2", size: 36 * MiB }])]);
    await assert.rejects(rollback.create(host, await check()), /has no snapshot named golden \(it has base\); nothing was changed/);
  });

  it("chain: a run cut off after the old overlay was removed is finished by renaming the journaled overlay", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 0 }, [{ name: snapLv, size: 36 * MiB },
        { name: "pulumi-lvm-new_vm-401-disk-0.qcow2", size: 36 * MiB, tags: ["pve", "pulumi-lvm/replaces=vm-401-disk-0.qcow2"] }]),
      {},
    ]);
    const outs = await rollback.create(host, await check());
    const text = host.text(1);
    assert.ok(runs(text, ["lvrename", "--", "data", "pulumi-lvm-new_vm-401-disk-0.qcow2", disk.name]), text);
    assert.ok(runs(text, ["lvchange", "--deltag", "pulumi-lvm/replaces=vm-401-disk-0.qcow2", "--", `data/${disk.name}`]), text);
    assert.deepStrictEqual([outs.method, outs.snapshotLvName], ["chain", snapLv]);
  });

  it("thick: journals, merges, checks the merge is done, and takes the snapshot again with its name, size and tags", async () => {
    const raw = { name: "vm-402-disk-0", size: 64 * MiB, tags: [] };
    const snap = { name: "snap_vm-402-disk-0_golden", size: 8 * MiB, attr: "swi-a-s---", origin: raw.name, tags: ["pulumi-lvm/snapshot=golden"] };
    const host = new FakeHost([lvmSections({ name: "data", free: 0 }, [raw, snap]), {}]);
    const outs = await rollback.create(host, await check({ disk: raw.name }));
    const text = host.text(1);
    const journal = `pulumi-lvm/retake=${snap.name}:${8 * MiB}:golden`;
    assert.ok(runs(text, ["lvchange", "--addtag", journal, "--", "data/vm-402-disk-0"]), text);
    assert.ok(runs(text, ["lvconvert", "--merge", "--interval", "1", "--", `data/${snap.name}`]), text);
    assert.ok(runs(text, ["lvcreate", "--yes", "--snapshot", "-L", `${8 * MiB}b`, "-n", snap.name, "--addtag", "pulumi-lvm/snapshot=golden", "--", "data/vm-402-disk-0"]), text);
    assert.ok(runs(text, ["lvchange", "--deltag", journal, "--", "data/vm-402-disk-0"]), text);
    order(text, ["lock", "activate the disk", "check the disk is not in use", "check the snapshot is not in use", "journal the re-take",
      "lvconvert --merge the snapshot into the disk", "check the merge is done", "take the snapshot again", "close the journal entry"]);
    assert.deepStrictEqual([outs.method, outs.snapshotLvName], ["thick", snap.name]);
  });

  it("thick: refuses an invalid snapshot, and re-takes one an interrupted rollback merged", async () => {
    const raw = { name: "vm-402-disk-0", size: 64 * MiB, tags: [] };
    const invalid = { name: "snap_vm-402-disk-0_golden", size: 8 * MiB, attr: "swi-I-s---", origin: raw.name, tags: ["pulumi-lvm/snapshot=golden"] };
    await assert.rejects(rollback.create(new FakeHost([lvmSections({ name: "data", free: 0 }, [raw, invalid])]), await check({ disk: raw.name })),
      /is invalid: .*its content is lost; nothing was changed/);
    const journaled = { ...raw, tags: [`pulumi-lvm/retake=snap_vm-402-disk-0_golden:${8 * MiB}:golden`] };
    const host = new FakeHost([lvmSections({ name: "data", free: 0 }, [journaled]), {}]);
    await rollback.create(host, await check({ disk: raw.name }));
    assert.ok(runs(host.text(1), ["lvcreate", "--yes", "--snapshot", "-L", `${8 * MiB}b`, "-n", "snap_vm-402-disk-0_golden",
      "--addtag", "pulumi-lvm/snapshot=golden", "--", "data/vm-402-disk-0"]), host.text(1));
    assert.ok(!host.text(1).includes("lvconvert"));

    // The re-take itself cut off mid-lvcreate by a power loss: its unfinished LV (plain, no origin) is removed first.
    const unfinished = { name: "snap_vm-402-disk-0_golden", size: 8 * MiB, tags: ["pulumi-lvm/snapshot=golden"] };
    const again = new FakeHost([lvmSections({ name: "data", free: 0 }, [journaled, unfinished]), {}]);
    await rollback.create(again, await check({ disk: raw.name }));
    order(again.text(1), ["lock", "remove the unfinished snapshot a cut-off lvcreate left", "take the snapshot again", "close the journal entry"]);
  });

  describe("thin", () => {
    const pool = { name: "pool", size: 1024 * MiB, attr: "twi-aotz--", dataPercent: 10, metadataPercent: 5, tags: ["pulumi-lvm/thin-refuse-above=90"] };
    const thinDisk = { name: "vm-403-disk-0", size: 64 * MiB, attr: "Vwi-a-tz--", pool: "pool", tags: ["pulumi-lvm/format=raw"] };
    const thinSnap = (name: string, origin = thinDisk.name) =>
      ({ name: `snap_vm-403-disk-0_${name}`, size: 64 * MiB, attr: "Vri---tz-k", pool: "pool", origin, tags: [`pulumi-lvm/snapshot=${name}`] });

    it("re-makes the disk's LV as a writable thin snapshot of any snapshot, journaled, keeping every snapshot", async () => {
      // The older of two snapshots; the disk was rolled back before, so the older one has lost its origin already.
      const host = new FakeHost([lvmSections({ name: "data", free: 0 }, [pool, thinDisk, thinSnap("golden", ""), thinSnap("later")]), {}]);
      const outs = await rollback.create(host, await check({ disk: thinDisk.name, quiesce: { before: [["virsh", "shutdown", "vm3"]], after: [] } }));
      const text = host.text(1);
      const fresh = "pulumi-lvm-new_vm-403-disk-0";
      assert.ok(runs(text, ["lvcreate", "--yes", "--snapshot", "--permission", "rw", "--setactivationskip", "n", "-n", fresh,
        "--addtag", "pulumi-lvm/format=raw", "--addtag", "pulumi-lvm/replaces=vm-403-disk-0", "--", "data/snap_vm-403-disk-0_golden"]), text);
      assert.ok(runs(text, ["lvremove", "--yes", "--", "data/vm-403-disk-0"]), text);
      assert.ok(runs(text, ["lvrename", "--", "data", fresh, "vm-403-disk-0"]), text);
      assert.ok(!/lvremove[^\n]*snap_vm-403-disk-0_/.test(text), "no snapshot is removed");
      order(text, ["lock", "quiesce.before[0]", "check the disk is not in use", "check the new LV's name is free", "check the thin pool",
        "lvcreate the thin snapshot", "remove the disk's old LV", "give the new LV the disk's name", "close the journal entry"]);
      assert.match(text, /refuse_above='90'/, "the pool's own fill limit is checked on the host");
      const forget = text.lastIndexOf("__undos=''");
      assert.ok(forget > stepAt(text, "lvcreate the thin snapshot") && forget < stepAt(text, "remove the disk's old LV"), text);
      assert.deepStrictEqual([outs.method, outs.snapshotLvName], ["thin", "snap_vm-403-disk-0_golden"]);
    });

    it("a run cut off after the old LV was removed is finished by renaming the journaled LV (method thin)", async () => {
      const heir = { ...thinDisk, name: "pulumi-lvm-new_vm-403-disk-0", origin: "snap_vm-403-disk-0_golden", tags: ["pulumi-lvm/format=raw", "pulumi-lvm/replaces=vm-403-disk-0"] };
      const host = new FakeHost([lvmSections({ name: "data", free: 0 }, [pool, heir, thinSnap("golden", "")]), {}]);
      const outs = await rollback.create(host, await check({ disk: thinDisk.name }));
      assert.ok(runs(host.text(1), ["lvrename", "--", "data", heir.name, "vm-403-disk-0"]), host.text(1));
      assert.deepStrictEqual([outs.method, outs.snapshotLvName], ["thin", "snap_vm-403-disk-0_golden"]);
    });

    it("refuses a disk with a thick snapshot, which removing its LV would take with it; nothing runs", async () => {
      const thick = { name: "snap_vm-403-disk-0_copy", size: 8 * MiB, attr: "swi-a-s---", origin: thinDisk.name, tags: ["pulumi-lvm/snapshot=copy"] };
      const host = new FakeHost([lvmSections({ name: "data", free: 0 }, [pool, thinDisk, thinSnap("golden"), thick])]);
      await assert.rejects(rollback.create(host, await check({ disk: thinDisk.name })), /has thick snapshots \(snap_vm-403-disk-0_copy\)/);
      assert.strictEqual(host.scripts.length, 1, "only the read ran");
    });
  });

  it("refresh keeps the record without a host, and delete changes nothing", async () => {
    const olds = { ...(await check()), method: "chain" as const, snapshotLvName: snapLv, rolledBackAt: "t" };
    const host = new FakeHost([]);
    assert.deepStrictEqual(await rollback.read(host, olds), olds);
    await rollback.delete(host, olds);
    assert.strictEqual(host.scripts.length, 0);
  });
});
