// VmDisk without a host: every check failure goes through the dynamic-provider glue with a host resolver that
// throws (so no host is contacted), and the scripts the kind builds are read off a fake HostSession.
import * as assert from "assert";
import { HostCommandError } from "../../provider/command";
import { dynamicProvider, UNKNOWN } from "../../provider/dynamic/provider";
import { vmDisk, VmDiskInputs, VmDiskOutputs } from "../../provider/resources/vmDisk";
import { CONNECTION as connection, noHost } from "../support/noHost";
import { EXTENT, FakeHost, FakeLv, lvmSections, MEASURE_32MIB, MEASURE_64MIB, qcow2Info, runs, stepAt } from "../support/fakeHost";

const provider = dynamicProvider(vmDisk, noHost);
const base = { connection, volumeGroup: "data", name: "vm-100-disk-0.qcow2", size: "32MiB", format: "qcow2" };
const MiB = 1024 * 1024;
/** What dmsetup reports as a new LV's device uuid, and the LV's uuid as LVM prints it. */
const DEVICE_UUID = `LVM-${"V".repeat(32)}abcdefGHIJklmnOPQRstuvWXYZ012345`;
const LV_UUID = "abcdef-GHIJ-klmn-OPQR-stuv-WXYZ-012345";

async function failures(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
  const { failures: found } = await provider.check!(olds, news);
  return (found ?? []).map((f) => `${f.property}: ${f.reason}`);
}

describe("VmDisk check (no host contacted)", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["an LV name with a space", { name: "vm 100" }, /^name: logical volume name may contain only letters, digits and \+ _ \. -/],
    ["an LV name starting with '-'", { name: "-disk" }, /^name: .*must not start with '-'/],
    ["an LV name reserved by LVM (prefix)", { name: "snapshot-1" }, /^name: .*must not start with 'snapshot' \(reserved by LVM\)/],
    ["an LV name reserved by LVM (suffix)", { name: "disk_tmeta" }, /^name: .*must not contain '_tmeta'/],
    ["'..' as LV name", { name: ".." }, /^name: .*must not be '\.' or '\.\.'/],
    ["an LV name of 128 characters", { name: "d".repeat(128) }, /^name: .*at most 127 characters/],
    ["a bad VG name", { volumeGroup: "my vg" }, /^volumeGroup: volume group name may contain only/],
    ["a size that is not a size", { size: "big" }, /^size: not a size/],
    ["a zero size", { size: 0 }, /^size: must be greater than zero/],
    ["a qcow2 size that is not whole sectors", { size: 1000 }, /^size: the size of a qcow2 disk must be a whole number of 512-byte sectors/],
    ["an unknown format", { format: "vmdk" }, /^format: format must be "raw" or "qcow2"/],
    ["deleteSnapshots with wipeOnDelete", { deleteSnapshots: true, wipeOnDelete: true }, /^deleteSnapshots: deleteSnapshots removes the disk's snapshots without zeroing them/],
    ["qcow2 options on a raw disk", { format: "raw", qcow2: { clusterSize: "64KiB" } }, /^qcow2: qcow2 options apply only to format: "qcow2" \(format is "raw"\)/],
    ["qcow2 options on a disk of default format", { format: undefined, qcow2: {} }, /^qcow2: qcow2 options apply only to format: "qcow2"/],
    ["a cluster size that is not a power of two", { qcow2: { clusterSize: "96KiB" } }, /^qcow2\.clusterSize: clusterSize must be a power of two from 512B to 2MiB/],
    ["a cluster size below 512 B", { qcow2: { clusterSize: 256 } }, /^qcow2\.clusterSize: clusterSize must be a power of two/],
    ["a cluster size above 2 MiB", { qcow2: { clusterSize: "4MiB" } }, /^qcow2\.clusterSize: clusterSize must be a power of two/],
    ["subclusters with clusters under 16 KiB", { qcow2: { clusterSize: "8KiB", extendedL2: true } }, /^qcow2\.clusterSize: extendedL2 needs a clusterSize of at least 16KiB/],
    ["an unknown preallocation", { qcow2: { preallocation: "sparse" } }, /^qcow2\.preallocation: preallocation must be one of off, metadata, falloc, full/],
    ["an unknown qcow2 option", { qcow2: { lazyRefcounts: true } }, /^qcow2\.lazyRefcounts: unknown key "lazyRefcounts" in qcow2; the keys of qcow2 are clusterSize, extendedL2, preallocation$/],
    ["a relative source path", { source: { path: "images/debian.qcow2" } }, /^source\.path: source\.path must be an absolute path on the host/],
    ["an unknown source format", { source: { path: "/srv/debian.iso", format: "iso" } }, /^source\.format: source\.format must be one of raw, qcow2, vmdk/],
    ["a bad tag", { tags: ["ok", "not ok"] }, /^tags\.1: a tag may contain only/],
    ["a misspelt field", { wipeOnDelet: true }, /^wipeOnDelet: unknown key "wipeOnDelet" in the inputs; did you mean "wipeOnDelete"\?$/],
  ];
  for (const [what, patch, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const found = await failures({ ...base, ...patch });
      assert.strictEqual(found.length, 1, found.join("\n"));
      assert.match(found[0], reason);
    });
  }

  it("accepts valid inputs and fills the defaults: raw, no wipe, sorted tags, the size in bytes", async () => {
    const { inputs, failures: found } = await provider.check!({}, { connection, volumeGroup: "data", name: "vm-100-disk-1", size: "18MiB", tags: ["b", "a"] });
    assert.deepStrictEqual(found, []);
    assert.deepStrictEqual({ ...inputs, connection: undefined }, {
      connection: undefined, volumeGroup: "data", name: "vm-100-disk-1", size: 18 * MiB, format: "raw", wipeOnDelete: false,
      tags: ["a", "b"], adopt: false,
    });
  });

  it("refuses shrinking at preview, since it destroys data", async () => {
    const found = await failures({ ...base, size: "16MiB" }, { ...base, size: "32MiB" });
    assert.deepStrictEqual(found, ["size: shrinking destroys data: size 32 MiB -> 16 MiB; a disk can only grow (to make it smaller, copy its data to a new disk)"]);
  });

  it("accepts growing, and a smaller size on a replacement (a new disk)", async () => {
    assert.deepStrictEqual(await failures({ ...base, size: "64MiB" }, base), []);
    assert.deepStrictEqual(await failures({ ...base, size: "16MiB", format: "raw" }, base), []);
    assert.deepStrictEqual(await failures({ ...base, size: "16MiB", name: "vm-100-disk-9.qcow2" }, base), []);
  });

  it("says nothing about values not known yet at preview", async () => {
    assert.deepStrictEqual(await failures({ ...base, volumeGroup: UNKNOWN, size: UNKNOWN }, base), []);
  });
});

describe("VmDisk diff (no host contacted)", () => {
  const olds = { ...base, size: 32 * MiB, wipeOnDelete: false, tags: [], adopt: false, path: "/dev/data/vm-100-disk-0.qcow2" };
  const diff = (news: Record<string, unknown>) => provider.diff!("id", olds, { ...olds, ...news });

  it("replaces on a change of name, volume group, format, qcow2 options or source", async () => {
    assert.deepStrictEqual((await diff({ format: "raw" })).replaces, ["format"]);
    assert.deepStrictEqual((await diff({ qcow2: { clusterSize: 65536 } })).replaces, ["qcow2"]);
    assert.deepStrictEqual((await diff({ volumeGroup: "other" })).replaces, ["volumeGroup"]);
    assert.deepStrictEqual((await diff({ source: { path: "/srv/a.qcow2" } })).replaces, ["source"]);
    assert.deepStrictEqual((await diff({ name: "vm-100-disk-1.qcow2" })).replaces, ["name"]);
  });

  it("deletes the old disk first only when the new one would take its name on the same VG", async () => {
    assert.strictEqual((await diff({ format: "raw" })).deleteBeforeReplace, true, "same VG and name: it must go first");
    assert.strictEqual((await diff({ name: "vm-100-disk-1.qcow2" })).deleteBeforeReplace, false, "a new name: create first, keep the old until then");
    assert.strictEqual((await diff({ volumeGroup: "other" })).deleteBeforeReplace, false);
    assert.strictEqual((await diff({ name: UNKNOWN })).deleteBeforeReplace, true, "unknown at preview: assume a collision");
  });

  it("updates in place a grown size, tags and state-only fields", async () => {
    for (const news of [{ size: 64 * MiB }, { tags: ["pve"] }, { wipeOnDelete: true }, { adopt: true }]) {
      const d = await diff(news);
      assert.strictEqual(d.changes, true);
      assert.deepStrictEqual(d.replaces, []);
    }
  });

  it("records a change of wipeOnDelete without contacting the host", async () => {
    const { outs } = await provider.update!("id", olds, { ...olds, wipeOnDelete: true });
    assert.strictEqual(outs.wipeOnDelete, true);
  });
});

// ---- scripts, on a fake host ------------------------------------------------------------------------------

async function inputs(patch: Record<string, unknown> = {}): Promise<VmDiskInputs> {
  const { inputs: parsed, failures: found } = await provider.check!({}, { ...base, ...patch });
  assert.deepStrictEqual(found, []);
  return parsed as VmDiskInputs;
}

describe("VmDisk create (fake host)", () => {
  it("qcow2: measures, then under the VG lock checks, creates a fully-allocated LV, waits for udev, formats", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 8000 * MiB }), measure: MEASURE_32MIB },
      { uuid: DEVICE_UUID },
    ]);
    const out = await vmDisk.create(host, await inputs({ tags: ["pve"] }));

    assert.strictEqual(host.scripts.length, 2);
    const inspect = host.text(0);
    assert.ok(runs(inspect, ["qemu-img", "measure", "--output=json", "--size", String(32 * MiB), "-O", "qcow2", "-o",
      "cluster_size=131072,extended_l2=on,preallocation=metadata"]), inspect);
    assert.ok(!inspect.includes("flock"), "inspecting takes no lock");

    const create = host.text(1);
    // 34209792 bytes fully allocated, rounded up to 4 MiB extents: 36 MiB.
    assert.ok(runs(create, ["lvcreate", "--yes", "-Wy", "-Zy", "-L", `${36 * MiB}b`, "-n", "vm-100-disk-0.qcow2", "--addtag", "pve", "--addtag", "pulumi-lvm/format=qcow2", "--addtag", "pulumi-lvm/creating", "--", "data"]), create);
    assert.ok(runs(create, ["lvchange", "--deltag", "pulumi-lvm/creating", "--", "data/vm-100-disk-0.qcow2"]), "the last step closes the journal entry");
    assert.ok(runs(create, ["lvremove", "--yes", "--", "data/vm-100-disk-0.qcow2"]), "the LV is removed if a later step fails");
    assert.ok(runs(create, ["qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=131072,extended_l2=on,preallocation=metadata",
      "/dev/data/vm-100-disk-0.qcow2", String(32 * MiB)]), create);
    assert.ok(create.includes("need='37748736'") && create.includes("need_text='36 MiB'"), "free space is checked for the whole LV");
    assert.ok(!create.includes("check the name is free") && !create.includes("check free space"), "lvcreate checks the name and the room itself");
    const order = ["lock", "lvcreate", "wait for the device", "qemu-img create", "finish the create", "uuid"];
    const at = order.map((s) => stepAt(create, s));
    assert.ok(runs(create, ["dmsetup", "info", "-c", "--noheadings", "-o", "uuid", "--", "/dev/data/vm-100-disk-0.qcow2"]), create);
    assert.ok(!create.includes("'lvs'") && !create.includes("'qemu-img' 'info'"), "what the create made is known: only its uuid is read");
    assert.deepStrictEqual([...at].sort((a, b) => a - b), at, `steps run in the order ${order.join(", ")}`);

    assert.deepStrictEqual({ ...out, connection: undefined }, {
      connection: undefined, volumeGroup: "data", name: "vm-100-disk-0.qcow2", size: 32 * MiB, format: "qcow2",
      wipeOnDelete: false, tags: ["pve"], adopt: false, path: "/dev/data/vm-100-disk-0.qcow2", lvName: "vm-100-disk-0.qcow2",
      uuid: LV_UUID, lvSizeBytes: 36 * MiB, virtualSizeBytes: 32 * MiB, active: true, open: false,
      clusterSizeBytes: 131072, extendedL2: true,
    });
  });

  it("qcow2 on a qemu-img without subclusters: qemu's default layout", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 8000 * MiB }), measure: MEASURE_32MIB },
      { uuid: DEVICE_UUID },
    ], { qcow2ExtendedL2: false });
    const out = await vmDisk.create(host, await inputs());
    assert.deepStrictEqual([out.clusterSizeBytes, out.extendedL2], [65536, false]);
    assert.ok(host.text(0).includes("'extended_l2=off,preallocation=metadata'"), host.text(0));
    assert.ok(host.text(1).includes("'extended_l2=off,preallocation=metadata'"), host.text(1));
  });

  it("refuses subclusters the host's qemu-img lacks, before contacting it further", async () => {
    const host = new FakeHost([], { qcow2ExtendedL2: false, qemuImgVersion: "5.1.0" });
    await assert.rejects(vmDisk.create(host, await inputs({ qcow2: { extendedL2: true } })),
      /qemu-img 5.1.0 on root@10.0.0.5:22 does not support qcow2 extended_l2 .*set qcow2.extendedL2: false/);
    assert.strictEqual(host.scripts.length, 0);
  });

  it("refuses a qcow2 disk on a host without qemu-img, naming the package, before running anything", async () => {
    const tools = { "lvm": true, "qemu-img": false, "flock": true, "blkid": true, "wipefs": true, "blkdiscard": true, "udevadm": true };
    const host = new FakeHost([], { tools });
    await assert.rejects(vmDisk.create(host, await inputs()), /qemu-img is not installed on root@10.0.0.5:22: apt-get install qemu-utils/);
    assert.strictEqual(host.scripts.length, 0);
  });

  it("preallocation full on an LV: zeroes the LV, then creates with metadata (qemu-img refuses full on a device)", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 8000 * MiB }), measure: MEASURE_32MIB },
      { uuid: DEVICE_UUID },
    ]);
    await vmDisk.create(host, await inputs({ qcow2: { preallocation: "full" } }));
    const create = host.text(1);
    assert.ok(create.includes("blkdiscard='1'") && create.includes("dev='/dev/data/vm-100-disk-0.qcow2'"), create);
    assert.ok(stepAt(create, "zero the disk") < stepAt(create, "qemu-img create"));
    assert.ok(create.includes("'cluster_size=131072,extended_l2=on,preallocation=metadata'"), create);
  });

  it("raw: an LV of the size rounded up to whole extents, nothing written into it", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 8000 * MiB }),
      { uuid: DEVICE_UUID },
    ]);
    const out = await vmDisk.create(host, await inputs({ name: "vm-100-disk-1", format: "raw", size: "18MiB" }));
    const create = host.text(1);
    assert.ok(runs(create, ["lvcreate", "--yes", "-Wy", "-Zy", "-L", `${20 * MiB}b`, "-n", "vm-100-disk-1", "--addtag", "pulumi-lvm/format=raw", "--addtag", "pulumi-lvm/creating", "--", "data"]), create);
    assert.ok(!create.includes("'qemu-img'") && !host.text(0).includes("'measure'"), "raw disks need no qemu-img");
    assert.strictEqual(out.lvSizeBytes, 20 * MiB);
    assert.strictEqual(out.virtualSizeBytes, 20 * MiB);
  });

  it("source: checks the image's virtual size first, then converts it in with its detected format", async () => {
    const host = new FakeHost([
      { "inspect source image": qcow2Info(6 * MiB, 65536, false) },
      { ...lvmSections({ name: "data", free: 8000 * MiB }), measure: MEASURE_32MIB },
      { uuid: DEVICE_UUID },
    ]);
    await vmDisk.create(host, await inputs({ source: { path: "/srv/images/debian.qcow2" } }));
    assert.ok(runs(host.text(0), ["qemu-img", "info", "--output=json", "/srv/images/debian.qcow2"]), host.text(0));
    const create = host.text(2);
    assert.ok(runs(create, ["qemu-img", "convert", "-p", "-n", "-t", "writeback", "-f", "qcow2", "-O", "qcow2", "/srv/images/debian.qcow2", "/dev/data/vm-100-disk-0.qcow2"]), create);
    assert.ok(create.includes("__progress 'VmDisk data/vm-100-disk-0.qcow2: importing /srv/images/debian.qcow2' 'qemu-img'"), create);
    assert.ok(stepAt(create, "qemu-img create") < stepAt(create, "qemu-img convert"));
  });

  it("refuses a source image larger than the disk, before creating anything", async () => {
    const host = new FakeHost([{ "inspect source image": qcow2Info(40 * MiB) }, { ...lvmSections({ name: "data", free: 8000 * MiB }), measure: MEASURE_32MIB }]);
    await assert.rejects(vmDisk.create(host, await inputs({ source: { path: "/srv/big.qcow2", format: "qcow2" } })), (e: HostCommandError) => {
      assert.strictEqual(e.kind, "refused");
      assert.match(e.message, /source image \/srv\/big.qcow2 has a virtual size of 40 MiB, larger than the disk's size 32 MiB/);
      return true;
    });
    assert.strictEqual(host.scripts.length, 2, "only the reads ran");
  });

  it("refuses a missing volume group and an existing LV (without adopt), before creating anything", async () => {
    const noVg = new FakeHost([{ ...lvmSections(undefined), measure: MEASURE_32MIB }]);
    await assert.rejects(vmDisk.create(noVg, await inputs()), /volume group data does not exist on this host/);
    const taken = new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [{ name: "vm-100-disk-0.qcow2", size: 36 * MiB }]), measure: MEASURE_32MIB }]);
    await assert.rejects(vmDisk.create(taken, await inputs()), /logical volume data\/vm-100-disk-0.qcow2 already exists; set adopt: true to take it over/);
    assert.strictEqual(noVg.scripts.length + taken.scripts.length, 2);
  });

  it("a create cut off earlier (its LV still tagged creating) is removed under the lock and made again", async () => {
    const cut = { name: "vm-100-disk-0.qcow2", size: 36 * MiB, tags: ["pulumi-lvm/format=qcow2", "pulumi-lvm/creating"] };
    const host = new FakeHost([{ ...lvmSections({ name: "data", free: 1000 * MiB }, [cut]), measure: MEASURE_32MIB },
      { uuid: DEVICE_UUID }]);
    await vmDisk.create(host, await inputs());
    const create = host.text(1);
    assert.ok(stepAt(create, "remove what a create cut off left") < stepAt(create, "lvcreate"), create);
    assert.ok(create.includes("tag='pulumi-lvm/creating'"), create);
  });

  it("adopts an existing LV whose format and size match, changing nothing on the host", async () => {
    const host = new FakeHost([{
      ...lvmSections({ name: "data", free: 0 }, [{ name: "vm-100-disk-0.qcow2", size: 36 * MiB, attr: "-wi-ao----" }]),
      "measure": MEASURE_32MIB, "image  /dev/data/vm-100-disk-0.qcow2": qcow2Info(32 * MiB),
    }]);
    const out = await vmDisk.create(host, await inputs({ adopt: true }));
    assert.strictEqual(host.scripts.length, 1);
    assert.ok(host.text(0).includes("format=''"), "the existing LV's format is probed, not assumed");
    assert.strictEqual(out.uuid, "uuid-vm-100-disk-0.qcow2");
    assert.strictEqual(out.open, true);
  });

  it("refuses to adopt an LV of another format or size, naming what differs", async () => {
    const rawLv = new FakeHost([{
      ...lvmSections({ name: "data", free: 0 }, [{ name: "vm-100-disk-0.qcow2", size: 36 * MiB }]),
      "measure": MEASURE_32MIB, "image  /dev/data/vm-100-disk-0.qcow2": JSON.stringify({ "virtual-size": 36 * MiB, "format": "raw" }),
    }]);
    await assert.rejects(vmDisk.create(rawLv, await inputs({ adopt: true })),
      /data\/vm-100-disk-0.qcow2 exists but it holds a raw image, not qcow2; nothing was changed/);
    const smaller = new FakeHost([{
      ...lvmSections({ name: "data", free: 0 }, [{ name: "vm-100-disk-0.qcow2", size: 36 * MiB }]),
      "measure": MEASURE_32MIB, "image  /dev/data/vm-100-disk-0.qcow2": qcow2Info(16 * MiB),
    }]);
    await assert.rejects(vmDisk.create(smaller, await inputs({ adopt: true })), /its virtual size is 16 MiB, not 32 MiB; nothing was changed/);
    assert.strictEqual(rawLv.scripts.length + smaller.scripts.length, 2, "only the inspection ran");
  });
});

describe("VmDisk update and delete (fake host)", () => {
  const created = async (patch: Record<string, unknown> = {}): Promise<VmDiskOutputs> => ({
    ...(await inputs(patch)), path: "/dev/data/vm-100-disk-0.qcow2", lvName: "vm-100-disk-0.qcow2", uuid: "u", lvSizeBytes: 36 * MiB,
    virtualSizeBytes: 32 * MiB, active: true, open: false, clusterSizeBytes: 131072, extendedL2: true,
  });

  it("grows a qcow2 disk: refused while open, then lvextend to the new measure and qemu-img resize", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 8000 * MiB }, [{ name: "vm-100-disk-0.qcow2", size: 36 * MiB }]), "measure": MEASURE_64MIB, "image qcow2 /dev/data/vm-100-disk-0.qcow2": qcow2Info(32 * MiB) },
      { ...lvmSections({ name: "data", free: 0 }, [{ name: "vm-100-disk-0.qcow2", size: 68 * MiB }]), image: qcow2Info(64 * MiB) },
    ]);
    const out = await vmDisk.update(host, await created(), await inputs({ size: "64MiB" }));
    const grow = host.text(1);
    const order = ["lock", "check the disk is not in use", "check free space", "lvextend", "wait for the device", "qemu-img resize"];
    const at = order.map((s) => stepAt(grow, s));
    assert.deepStrictEqual([...at].sort((a, b) => a - b), at, `steps run in the order ${order.join(", ")}`);
    assert.ok(runs(grow, ["lvextend", "--yes", "-L", `${68 * MiB}b`, "--", "data/vm-100-disk-0.qcow2"]), grow);
    assert.ok(runs(grow, ["qemu-img", "resize", "-q", "-f", "qcow2", "--preallocation=metadata", "/dev/data/vm-100-disk-0.qcow2", String(64 * MiB)]), grow);
    assert.ok(grow.includes("need='33554432'"), "free space is checked for the growth only");
    assert.strictEqual(out.virtualSizeBytes, 64 * MiB);
    assert.strictEqual(out.lvSizeBytes, 68 * MiB);
  });

  it("finishes a grow that stopped halfway: no second lvextend, only the resize", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 8000 * MiB }, [{ name: "vm-100-disk-0.qcow2", size: 68 * MiB }]), "measure": MEASURE_64MIB, "image qcow2 /dev/data/vm-100-disk-0.qcow2": qcow2Info(32 * MiB) },
      { ...lvmSections({ name: "data", free: 0 }, [{ name: "vm-100-disk-0.qcow2", size: 68 * MiB }]), image: qcow2Info(64 * MiB) },
    ]);
    await vmDisk.update(host, await created(), await inputs({ size: "64MiB" }));
    assert.ok(!host.text(1).includes("'lvextend'") && host.text(1).includes("'qemu-img' 'resize'"), host.text(1));
  });

  it("refuses to grow an active raw disk with a thick snapshot (LVM would refuse it mid-script), naming the snapshot", async () => {
    const raw = { format: "raw", name: "vm-100-disk-0" };
    const host = new FakeHost([lvmSections({ name: "data", free: 8000 * MiB }, [
      { name: "vm-100-disk-0", size: 32 * MiB, attr: "owi-a-s---" },
      { name: "snap_vm-100-disk-0_golden", size: 4 * MiB, attr: "swi-a-s---", origin: "vm-100-disk-0" },
    ])]);
    const olds = { ...(await created(raw)), path: "/dev/data/vm-100-disk-0", lvName: "vm-100-disk-0" };
    await assert.rejects(vmDisk.update(host, olds, await inputs({ ...raw, size: "64MiB" })),
      /data\/vm-100-disk-0 has thick snapshots \(snap_vm-100-disk-0_golden\): LVM grows the origin .* only while it is inactive; .*nothing was changed/);
    assert.strictEqual(host.scripts.length, 1, "only the inspection ran");
  });

  it("updates tags in place, and refuses a shrink even if asked directly", async () => {
    const host = new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [{ name: "vm-100-disk-0.qcow2", size: 36 * MiB, tags: ["b"] }]), image: qcow2Info(32 * MiB) }]);
    const out = await vmDisk.update(host, await created({ tags: ["a"] }), await inputs({ tags: ["b"] }));
    assert.ok(runs(host.text(0), ["lvchange", "--addtag", "b", "--deltag", "a", "--", "data/vm-100-disk-0.qcow2"]), host.text(0));
    assert.deepStrictEqual(out.tags, ["b"]);
    await assert.rejects(vmDisk.update(new FakeHost([]), await created(), await inputs({ size: "16MiB" })), /shrinking destroys data/);
  });

  it("deletes under the lock after checking open and snapshots (thick and Proxmox chain)", async () => {
    const host = new FakeHost([{}]);
    await vmDisk.delete(host, await created());
    const text = host.text(0);
    assert.ok(text.includes("chain_prefix='snap_vm-100-disk-0_'"), text);
    assert.ok(stepAt(text, "check the disk can be removed") < stepAt(text, "remove the logical volume"));
    assert.ok(!text.includes("zero the disk"), "no zeroing unless wipeOnDelete");
  });

  it("deleteSnapshots: the snapshots found under the lock are removed with the disk, before its own LV, instead of refusing", async () => {
    const plain = new FakeHost([{}]);
    await vmDisk.delete(plain, await created());
    assert.ok(plain.text(0).includes("remove_snapshots=''") && !plain.text(0).includes("remove its snapshots with it"), plain.text(0));
    const host = new FakeHost([{}]);
    await vmDisk.delete(host, { ...(await created()), deleteSnapshots: true });
    const text = host.text(0);
    assert.ok(text.includes("remove_snapshots='1'"), text);
    assert.ok(stepAt(text, "check the disk can be removed") < stepAt(text, "remove its snapshots with it"));
    assert.ok(stepAt(text, "remove its snapshots with it") < stepAt(text, "remove the logical volume"));
    assert.ok(!text.includes("'qemu-img'"), "nothing is merged");
  });

  it("wipeOnDelete zeroes the LV before removing it: blkdiscard --zeroout, else dd from /dev/zero", async () => {
    const withBlkdiscard = new FakeHost([{}]);
    await vmDisk.delete(withBlkdiscard, { ...(await created()), wipeOnDelete: true });
    const text = withBlkdiscard.text(0);
    assert.ok(text.includes("blkdiscard='1'") && text.includes("progress='VmDisk data/vm-100-disk-0.qcow2: writing zeros over the disk'"), text);
    assert.ok(stepAt(text, "zero the disk") < stepAt(text, "remove the logical volume"));

    const tools = { "lvm": true, "qemu-img": true, "flock": true, "blkid": true, "wipefs": true, "blkdiscard": false, "udevadm": true };
    const withoutBlkdiscard = new FakeHost([{}], { tools });
    await vmDisk.delete(withoutBlkdiscard, { ...(await created()), wipeOnDelete: true });
    assert.ok(withoutBlkdiscard.text(0).includes("blkdiscard=''"), withoutBlkdiscard.text(0));
  });
});

describe("VmDisk on a thin pool (fake host)", () => {
  const POOL: FakeLv = { name: "pool", size: 1024 * MiB, attr: "twi-aotz--", dataPercent: 3,
    tags: ["pulumi-lvm/thin-refuse-above=80", "pulumi-lvm/thin-max-over-commit=2"] };
  const thin = (patch: Record<string, unknown> = {}) => inputs({ name: "vm-100-disk-1", format: "raw", size: "1GiB", thinPool: "pool", ...patch });
  const thinLv = (size: number): FakeLv => ({ name: "vm-100-disk-1", size, attr: "Vwi-a-tz--", pool: "pool", dataPercent: 0 });

  it("refuses wipeOnDelete for a thin disk, and replaces on a change of thinPool", async () => {
    assert.deepStrictEqual(await failures({ ...base, thinPool: "pool", wipeOnDelete: true }),
      ["wipeOnDelete: wipeOnDelete applies to thick disks: zeroing a thin disk would allocate all of it in the pool first; its blocks go back to the pool on delete, and a pool with zero: true (the default) zeroes them before any thin LV uses them again"]);
    assert.match((await failures({ ...base, thinPool: "pool_tmeta" }))[0], /^thinPool: .*must not contain '_tmeta'/);
    const olds = { ...base, size: 32 * MiB, wipeOnDelete: false, tags: [], adopt: false };
    assert.deepStrictEqual((await provider.diff!("id", olds, { ...olds, thinPool: "pool" })).replaces, ["thinPool"]);
  });

  it("raw: under the lock, the pool's guards (from its tags) instead of a free-space check, then lvcreate -V --thinpool", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 0 }, [POOL]),
      lvmSections({ name: "data", free: 0 }, [POOL, thinLv(1024 * MiB)]),
    ]);
    const out = await vmDisk.create(host, await thin({ tags: ["pve"] }));
    const create = host.text(1);
    assert.ok(runs(create, ["lvcreate", "--yes", "-Wy", "-V", `${1024 * MiB}b`, "--thinpool", "data/pool", "-n", "vm-100-disk-1",
      "--addtag", "pve", "--addtag", "pulumi-lvm/format=raw", "--addtag", "pulumi-lvm/creating", "--", "data"]), create);
    assert.ok(runs(create, ["lvremove", "--yes", "--", "data/vm-100-disk-1"]), "undone if a later step fails");
    for (const v of ["pool='pool'", "check_fill='1'", "refuse_above='80'", "max_over_commit='2'", `adding='${1024 * MiB}'`,
      "what='a new thin disk vm-100-disk-1 (1 GiB)'"]) assert.ok(create.includes(v), `${v} in:\n${create}`);
    assert.ok(!create.includes("check free space"), "a thin LV takes no room from the VG");
    const order = ["lock", "check the name is free", "check the thin pool", "lvcreate", "wait for the device"];
    order.reduce((at, step) => { const next = stepAt(create, step); assert.ok(next > at, `${step} out of order`); return next; }, -1);
    assert.deepStrictEqual([out.thinPool, out.lvSizeBytes, out.allocatedPercent], ["pool", 1024 * MiB, 0]);
  });

  it("a pool without guard tags gets the defaults: refuse above 95%, no over-commit limit", async () => {
    const host = new FakeHost([
      lvmSections({ name: "data", free: 0 }, [{ ...POOL, tags: [] }]),
      lvmSections({ name: "data", free: 0 }, [POOL, thinLv(1024 * MiB)]),
    ]);
    await vmDisk.create(host, await thin());
    assert.ok(host.text(1).includes("refuse_above='95'") && host.text(1).includes("max_over_commit=''"), host.text(1));
  });

  it("qcow2: the thin LV is sized by qemu-img measure as a thick one, then formatted", async () => {
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 0 }, [POOL]), measure: MEASURE_32MIB },
      { ...lvmSections({ name: "data", free: 0 }, [POOL, { ...thinLv(36 * MiB), name: "vm-100-disk-0.qcow2" }]), image: qcow2Info(32 * MiB) },
    ]);
    await vmDisk.create(host, await inputs({ thinPool: "pool" }));
    const create = host.text(1);
    assert.ok(runs(create, ["lvcreate", "--yes", "-Wy", "-V", `${36 * MiB}b`, "--thinpool", "data/pool", "-n", "vm-100-disk-0.qcow2",
      "--addtag", "pulumi-lvm/format=qcow2", "--addtag", "pulumi-lvm/creating", "--", "data"]), create);
    assert.ok(stepAt(create, "lvcreate") < stepAt(create, "qemu-img create"));
  });

  it("refuses a thin pool that does not exist or is not a pool, before the locked script", async () => {
    const none = new FakeHost([lvmSections({ name: "data", free: 0 }, [])]);
    await assert.rejects(vmDisk.create(none, await thin()), /thin pool data\/pool does not exist on this host; create it with a ThinPool first/);
    const thick = new FakeHost([lvmSections({ name: "data", free: 0 }, [{ name: "pool", size: 4 * MiB }])]);
    await assert.rejects(vmDisk.create(thick, await thin()), /data\/pool is not a thin pool \(lv_attr -wi-a-----\)/);
    assert.strictEqual(none.scripts.length + thick.scripts.length, 2, "only the inspections ran");
  });

  it("grows a thin disk in place: the over-commit guard for the growth (not the fill guard), no free-space check", async () => {
    const olds: VmDiskOutputs = { ...(await thin()), path: "/dev/data/vm-100-disk-1", lvName: "vm-100-disk-1", uuid: "u",
      lvSizeBytes: 1024 * MiB, virtualSizeBytes: 1024 * MiB, active: true, open: false };
    const host = new FakeHost([
      { ...lvmSections({ name: "data", free: 0 }, [POOL, thinLv(1024 * MiB)]) },
      lvmSections({ name: "data", free: 0 }, [POOL, thinLv(1536 * MiB)]),
    ]);
    await vmDisk.update(host, olds, await thin({ size: "1.5GiB" }));
    const grow = host.text(1);
    for (const v of ["check_fill='0'", `adding='${512 * MiB}'`, "max_over_commit='2'"]) assert.ok(grow.includes(v), `${v} in:\n${grow}`);
    assert.ok(!grow.includes("check free space"), grow);
    assert.ok(runs(grow, ["lvextend", "--yes", "-L", `${1536 * MiB}b`, "--", "data/vm-100-disk-1"]), grow);
    assert.ok(stepAt(grow, "check the thin pool") < stepAt(grow, "lvextend"));
  });

  it("adopt refuses a thick LV as a thin disk and a thin LV as a thick one, or one of another pool", async () => {
    const answer = (lv: FakeLv) => new FakeHost([{ ...lvmSections({ name: "data", free: 0 }, [POOL, lv]),
      "image  /dev/data/vm-100-disk-1": JSON.stringify({ "virtual-size": 1024 * MiB, "format": "raw" }) }]);
    await assert.rejects(vmDisk.create(answer({ name: "vm-100-disk-1", size: 1024 * MiB }), await thin({ adopt: true })),
      /exists but it is not a thin LV \(of pool pool\); nothing was changed/);
    await assert.rejects(vmDisk.create(answer({ ...thinLv(1024 * MiB), pool: "other" }), await thin({ adopt: true })),
      /exists but it is a thin LV of pool other, not pool; nothing was changed/);
    await assert.rejects(vmDisk.create(answer(thinLv(1024 * MiB)), await thin({ adopt: true, thinPool: undefined })),
      /exists but it is a thin LV of pool pool; set thinPool: "pool"; nothing was changed/);
  });
});
