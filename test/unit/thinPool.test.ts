// ThinPool without a host: check failures go through the dynamic-provider glue with a host resolver that throws (so
// no host is contacted); the scripts the kind builds are read off a fake host.
import * as assert from "assert";
import { dynamicProvider } from "../../provider/dynamic/provider";
import { thinPool, ThinPoolInputs, ThinPoolOutputs } from "../../provider/resources/thinPool";
import { poolLimitsOf } from "../../provider/storage/thin";
import { FakeHost, FakeLv, lvmSections, runs, stepAt } from "../support/fakeHost";
import { CONNECTION as connection, noHost } from "../support/noHost";

const provider = dynamicProvider(thinPool, noHost);
const MiB = 1024 * 1024;
const base = { connection, volumeGroup: "data", name: "pool", size: "1GiB" };
const POOL_ATTR = "twi-aotz--";
const THIN_ATTR = "Vwi-a-tz--";

async function failures(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
  const { failures: found } = await provider.check!(olds, news);
  return (found ?? []).map((f) => `${f.property}: ${f.reason}`);
}
async function inputs(patch: Record<string, unknown> = {}): Promise<ThinPoolInputs> {
  const { inputs: parsed, failures: found } = await provider.check!({}, { ...base, ...patch });
  assert.deepStrictEqual(found, []);
  return parsed as ThinPoolInputs;
}
/** The answer to a script that ends with withState: the VG's LVs and the pool's chunk size. */
const state = (lvs: FakeLv[], chunk = 65536) => ({ lvs: lvmSections({ name: "data", free: 0 }, lvs).lvs, chunk: String(chunk) });
const pool = (patch: Partial<FakeLv> = {}): FakeLv => ({
  name: "pool", size: 1024 * MiB, attr: POOL_ATTR, tags: ["pulumi-lvm/thin-refuse-above=95"], dataPercent: 0,
  metadataPercent: 10.4, metadataSize: 8 * MiB, ...patch,
});

describe("ThinPool check (no host contacted)", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["a pool name LVM reserves", { name: "pool_tdata" }, /^name: .*must not contain '_tdata'/],
    ["a zero size", { size: 0 }, /^size: must be greater than zero/],
    ["a metadata size under 2 MiB", { metadataSize: "1MiB" }, /^metadataSize: metadataSize must be from 2MiB to 16GiB/],
    ["a metadata size over 16 GiB", { metadataSize: "17GiB" }, /^metadataSize: metadataSize must be from 2MiB to 16GiB/],
    ["a chunk size that is not a multiple of 64 KiB", { chunkSize: "96KiB" }, /^chunkSize: chunkSize must be a multiple of 64KiB/],
    ["a chunk size over 1 GiB", { chunkSize: "2GiB" }, /^chunkSize: chunkSize must be a multiple of 64KiB/],
    ["zero as a string", { zero: "yes" }, /^zero: zero must be true or false/],
    ["a negative over-commit", { maxOverCommit: -1 }, /^maxOverCommit: maxOverCommit must be greater than zero/],
    ["an over-commit as text", { maxOverCommit: "2x" }, /^maxOverCommit: maxOverCommit must be a number/],
    ["a fill limit over 100", { refuseAbovePercent: 120 }, /^refuseAbovePercent: refuseAbovePercent must be from 1 to 100/],
    ["a reserved tag", { tags: ["pulumi-lvm/thin-refuse-above=99"] }, /^tags\.0: tags starting with pulumi-lvm\/ are reserved/],
    ["a misspelt field", { chunksize: "64KiB" }, /^chunksize: unknown key "chunksize" in the inputs; did you mean "chunkSize"\?$/],
  ];
  for (const [what, patch, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const found = await failures({ ...base, ...patch });
      assert.strictEqual(found.length, 1, found.join("\n"));
      assert.match(found[0], reason);
    });
  }

  it("fills the defaults: zeroing on, refuse above 95%, no over-commit limit", async () => {
    const parsed = await inputs();
    assert.deepStrictEqual([parsed.size, parsed.zero, parsed.refuseAbovePercent, parsed.maxOverCommit, parsed.adopt],
      [1024 * MiB, true, 95, undefined, false]);
  });

  it("refuses at preview a smaller size or metadata size, and another chunk size; accepts growing both", async () => {
    const olds = { ...base, metadataSize: "16MiB", chunkSize: "128KiB" };
    assert.deepStrictEqual(await failures({ ...olds, size: "512MiB", metadataSize: "8MiB", chunkSize: "256KiB" }, olds), [
      "size: a thin pool cannot shrink: size 1 GiB -> 512 MiB; LVM does not reduce thin pools (to make one smaller, move its thin LVs to a new pool)",
      "metadataSize: a thin pool cannot shrink: metadataSize 16 MiB -> 8 MiB; LVM does not reduce thin pools (to make one smaller, move its thin LVs to a new pool)",
      "chunkSize: chunkSize is fixed when a thin pool is created and cannot change on an existing one (131072 -> 262144); create a new pool to change it",
    ]);
    assert.deepStrictEqual(await failures({ ...olds, size: "2GiB", metadataSize: "32MiB" }, olds), []);
    assert.deepStrictEqual(await failures({ ...olds, name: "other", size: "512MiB" }, olds), [], "a new pool starts afresh");
  });
});

describe("ThinPool on a fake host", () => {
  it("create: under the lock, checks the name and room for data and metadata (and its spare), then lvcreate --type thin-pool", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 8000 * MiB }), chunk: "" },
      state([pool({ size: 1024 * MiB, tags: ["pve", "pulumi-lvm/thin-refuse-above=90", "pulumi-lvm/thin-max-over-commit=2.5"] })], 131072),
    ]);
    const out = await thinPool.create(host, await inputs({ size: "1023MiB", metadataSize: "8MiB", chunkSize: "128KiB", zero: false,
      tags: ["pve"], refuseAbovePercent: 90, maxOverCommit: 2.5 }));
    const create = host.text(1);
    assert.ok(runs(create, ["lvcreate", "--yes", "--type", "thin-pool", "-L", `${1024 * MiB}b`, "--poolmetadatasize", `${8 * MiB}b`,
      "--chunksize", "131072b", "--zero", "n", "-n", "pool", "--addtag", "pve", "--addtag", "pulumi-lvm/thin-refuse-above=90",
      "--addtag", "pulumi-lvm/thin-max-over-commit=2.5", "--", "data"]), create);
    assert.ok(runs(create, ["lvremove", "--yes", "--", "data/pool"]), "undone if a later step fails");
    assert.ok(create.includes(`need='${1040 * MiB}'`), "data, metadata and LVM's spare metadata copy");
    const order = ["lock", "check the name is free", "check free space", "lvcreate --type thin-pool"];
    order.reduce((at, step) => { const next = stepAt(create, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);
    assert.deepStrictEqual([out.tags, out.sizeBytes, out.chunkSizeBytes, out.metadataSizeBytes, out.thinLvCount, out.overCommit],
      [["pve"], 1024 * MiB, 131072, 8 * MiB, 0, 0]);
  });

  it("create journals itself on the VG around its lvcreate; after a power loss cut it off, the next create first removes the lvol<N> it left", async () => {
    const journal = "pulumi-lvm/pool-creating=pool:4";
    const before: Record<string, string> = { ...lvmSections({ name: "data", free: 8000 * MiB }, [{ name: "lvol3", size: 4 * MiB, tags: ["mine"] }]), chunk: "" };
    const host = new FakeHost([before, state([pool()], 65536)]);
    await thinPool.create(host, await inputs());
    const create = host.text(1);
    assert.match(create, /first='4'/, "above every lvol<N> the VG has");
    assert.ok(runs(create, ["vgchange", "--addtag", journal, "--", "data"]), create);
    assert.ok(runs(create, ["vgchange", "--deltag", journal, "--", "data"]), create);
    ["lock", "check no lvol LV appeared", "journal the create", "lvcreate --type thin-pool", "close the journal entry"]
      .reduce((at, step) => { const next = stepAt(create, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);

    const vgs = JSON.parse(before.vgs);
    vgs.report[0].vg[0].vg_tags = `pve,${journal}`;
    const again = new FakeHost([{ ...before, vgs: JSON.stringify(vgs) }, {}, before, state([pool()], 65536)]);
    await thinPool.create(again, await inputs());
    const recover = again.text(1);
    assert.match(recover, /first='4'/);
    ["lock", "remove what the cut-off lvcreate left", "close the journal entry"]
      .reduce((at, step) => { const next = stepAt(recover, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);
    assert.ok(runs(recover, ["vgchange", "--deltag", journal, "--", "data"]), recover);
    assert.ok(runs(again.text(3), ["vgchange", "--addtag", journal, "--", "data"]), "then the pool is created");
  });

  it("outputs the pool's fill, the sum of its thin LVs (snapshots included) and the over-commit ratio", async () => {
    const lvs = [
      pool({ dataPercent: 6.25, metadataPercent: 11.5 }),
      { name: "vm-1-disk-0", size: 1024 * MiB, attr: THIN_ATTR, pool: "pool", dataPercent: 6.25 },
      { name: "snap_vm-1-disk-0_a", size: 1024 * MiB, attr: "Vri---tz-k", pool: "pool", origin: "vm-1-disk-0" },
      { name: "vm-2-disk-0", size: 512 * MiB, attr: THIN_ATTR, pool: "pool" },
      { name: "elsewhere", size: 64 * MiB, attr: THIN_ATTR, pool: "other" },
      { name: "thick", size: 64 * MiB },
    ];
    const created = await thinPool.create(new FakeHost([{ ...lvmSections({ name: "data", free: 8000 * MiB }), chunk: "" }, state(lvs)]), await inputs());
    assert.deepStrictEqual([created.dataPercent, created.metadataPercent, created.virtualSizeBytes, created.overCommit, created.thinLvCount],
      [6.25, 11.5, 2560 * MiB, 2.5, 3]);
  });

  const outputs = async (patch: Record<string, unknown> = {}): Promise<ThinPoolOutputs> => ({
    ...(await inputs(patch)), lvName: "pool", uuid: "u", sizeBytes: 1024 * MiB, metadataSizeBytes: 8 * MiB, chunkSizeBytes: 65536,
    dataPercent: 0, metadataPercent: 10, virtualSizeBytes: 0, overCommit: 0, thinLvCount: 0, active: true,
  });

  it("update: grows data and metadata in place (room for both, and the spare), switches zeroing and the guards' tags", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 8000 * MiB }, [pool()]), chunk: "65536" },
      state([pool({ size: 1536 * MiB, metadataSize: 16 * MiB })]),
    ]);
    const out = await thinPool.update(host, await outputs({ metadataSize: "8MiB" }),
      await inputs({ size: "1.5GiB", metadataSize: "16MiB", zero: false, refuseAbovePercent: 80, maxOverCommit: 3 }));
    const text = host.text(1);
    assert.ok(runs(text, ["lvextend", "--yes", "-L", `${1536 * MiB}b`, "--", "data/pool"]), text);
    assert.ok(runs(text, ["lvextend", "--yes", "--poolmetadatasize", `${16 * MiB}b`, "--", "data/pool"]), text);
    assert.ok(runs(text, ["lvchange", "--zero", "n", "--", "data/pool"]), text);
    assert.ok(runs(text, ["lvchange", "--addtag", "pulumi-lvm/thin-refuse-above=80", "--addtag", "pulumi-lvm/thin-max-over-commit=3",
      "--deltag", "pulumi-lvm/thin-refuse-above=95", "--", "data/pool"]), text);
    assert.ok(text.includes(`need='${528 * MiB}'`), "512 MiB of data, 8 MiB of metadata and 8 MiB of spare");
    assert.ok(stepAt(text, "check free space") < stepAt(text, "lvextend the pool's data"));
    assert.strictEqual(out.sizeBytes, 1536 * MiB);
  });

  it("update: only what changed runs (tags alone are one lvchange), and a shrink asked directly is refused", async () => {
    const host = new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [pool()]), chunk: "65536" }, state([pool({ tags: ["x"] })])]);
    await thinPool.update(host, await outputs(), await inputs({ tags: ["x"] }));
    const text = host.text(1);
    assert.ok(!text.includes("'lvextend'") && !text.includes("'--zero'") && !text.includes("check free space"), text);
    assert.ok(runs(text, ["lvchange", "--addtag", "x", "--", "data/pool"]), text);
    const shrink = new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [pool()]), chunk: "65536" }]);
    await assert.rejects(thinPool.update(shrink, await outputs(), await inputs({ size: "512MiB" })), /a thin pool cannot shrink/);
    assert.strictEqual(shrink.scripts.length, 1, "nothing but the inspection ran");
  });

  it("delete: under the lock, refuses while the pool holds thin LVs (lvremove of a pool removes them), then lvremove", async () => {
    const host = new FakeHost([{}]);
    await thinPool.delete(host, await outputs());
    const text = host.text(0);
    assert.ok(stepAt(text, "check the pool holds no thin LVs") < stepAt(text, "remove the thin pool"), text);
    assert.match(text, /still holds thin LVs: \$thin_lvs; delete them first/);
    assert.ok(runs(text, ["lvremove", "--yes", "--", "data/pool"]), text);
  });

  it("adopt: an existing pool of the size and options asked is taken over; only the tags change", async () => {
    const proxmox = pool({ tags: [], metadataSize: 8 * MiB });
    const host = new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [proxmox]), chunk: "65536" },
      { ...lvmSections({ name: "data", free: 0 }, [proxmox]), chunk: "65536" }, state([pool()])]);
    const out = await thinPool.create(host, await inputs({ adopt: true, metadataSize: "8MiB", chunkSize: "64KiB" }));
    assert.strictEqual(host.scripts.length, 3);
    const text = host.text(2);
    assert.ok(runs(text, ["lvchange", "--addtag", "pulumi-lvm/thin-refuse-above=95", "--", "data/pool"]), text);
    assert.ok(!text.includes("'lvextend'") && !text.includes("'lvcreate'"), text);
    assert.strictEqual(out.uuid, "uuid-pool");
  });

  it("adopt: refuses an LV that is not a thin pool, or a pool whose size or options differ, naming each, changing nothing", async () => {
    const answer = (lvs: FakeLv[], chunk = "65536") => new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, lvs), chunk }]);
    await assert.rejects(thinPool.create(answer([{ name: "pool", size: 1024 * MiB }]), await inputs({ adopt: true })),
      /data\/pool exists but is not a thin pool \(lv_attr -wi-a-----\); nothing was changed/);
    const other = answer([pool({ size: 2048 * MiB, attr: "twi-aot---" })], "131072");
    await assert.rejects(thinPool.create(other, await inputs({ adopt: true, metadataSize: "16MiB", chunkSize: "64KiB" })),
      /data\/pool exists but its data size is 2 GiB, not 1 GiB; its metadata size is 8 MiB, not 16 MiB; its chunk size is 128 KiB, not 64 KiB; its zeroing is off \(set zero: false\); nothing was changed/);
    await assert.rejects(thinPool.create(answer([pool()]), await inputs()), /logical volume data\/pool already exists; set adopt: true/);
  });

  it("finishCreate after an unconfirmed create: the pool made as asked is recorded with no change; a missing one is made", async () => {
    const made = new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [pool()]), chunk: "65536" }]);
    const out = await thinPool.finishCreate!(made, await inputs());
    assert.strictEqual(made.scripts.length, 1, "only the read ran");
    assert.deepStrictEqual([out.uuid, out.adopt], ["uuid-pool", false]);
    const missing = new FakeHost([{ ...lvmSections({ name: "data", free: 8000 * MiB }), chunk: "" }, state([pool()])]);
    await thinPool.finishCreate!(missing, await inputs());
    assert.ok(runs(missing.text(1), ["lvcreate", "--yes", "--type", "thin-pool", "-L", `${1024 * MiB}b`, "--zero", "y", "-n", "pool",
      "--addtag", "pulumi-lvm/thin-refuse-above=95", "--", "data"]), missing.text(1));
    const other = new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [pool({ size: 2048 * MiB })]), chunk: "65536" }]);
    await assert.rejects(thinPool.finishCreate!(other, await inputs()), /data\/pool exists but its data size is 2 GiB, not 1 GiB; nothing was changed/);
  });

  it("reads the guards back from the pool's tags, with defaults for a pool made outside Pulumi", () => {
    assert.deepStrictEqual(poolLimitsOf(["pulumi-lvm/thin-refuse-above=80", "pulumi-lvm/thin-max-over-commit=1.5", "pve"]),
      { refuseAbovePercent: 80, maxOverCommit: 1.5 });
    assert.deepStrictEqual(poolLimitsOf([]), { refuseAbovePercent: 95 });
  });
});
