// `pulumi-lvm inspect` without a host: the model and the tree from canned guest output (test/support/inspectFixtures),
// read off a fake host that also records the one script inspect sends.
import * as assert from "assert";
import { inspectHost, InspectReport, renderReport } from "../../provider/inspect";
import { Capabilities } from "../../provider/ssh";
import { FakeHost } from "../support/fakeHost";
import {
  chainJson, measureSection, missingBacking, proxmoxChain, readSections, Row, SCENARIO_ROWS, scenarioSections, withoutImages,
} from "../support/inspectFixtures";

const MiB = 1024 * 1024;

async function inspect(sections: Record<string, string>, caps: Partial<Capabilities> = {}, vg?: string) {
  const host = new FakeHost([sections], { lvmVersion: "2.03.16", ...caps });
  const report = await inspectHost(host, vg === undefined ? {} : { vg });
  return { report, host, text: renderReport(report, { color: false }) };
}

/** The scenario with some rows replaced (by name) or added. */
const rowsWith = (...changes: Row[]) =>
  [...SCENARIO_ROWS.filter((r) => !changes.some((c) => c.name === r.name)), ...changes];

const kinds = (report: InspectReport) => report.warnings.map((w) => `${w.kind} ${w.subject}`);
const golden = (patch: Partial<Row>): Row => ({ ...SCENARIO_ROWS.find((r) => r.name === "snap_vm-601-disk-0_golden")!, ...patch });

describe("inspect: the model of a host", () => {
  it("places every LV of the guest's VG: the raw disk with its thick snapshot, the chain newest first, the thin disk with its thin snapshots, the pool, the unrelated LV apart", async () => {
    const { report, host } = await inspect(scenarioSections());
    assert.strictEqual(host.scripts.length, 1, "one read after the preflight");
    const [vg] = report.volumeGroups;
    assert.deepStrictEqual([vg.name, vg.sizeBytes, vg.freeBytes, vg.pvs.map((p) => p.device)],
      ["inspectvg", 8581545984, 8262778880, ["/dev/vdb", "/dev/vdc"]]);
    assert.deepStrictEqual(vg.disks.map((d) => [d.lvName, d.format, d.virtualSizeBytes, d.sizeBytes, d.thinPool]), [
      ["vm-601-disk-0", "raw", 64 * MiB, 64 * MiB, undefined], ["vm-602-disk-0.qcow2", "qcow2", 32 * MiB, 36 * MiB, undefined],
      ["vm-701-disk-0", "raw", 96 * MiB, 96 * MiB, "pool0"]]);
    const [raw, qcow2, thin] = vg.disks;
    assert.deepStrictEqual(raw.thickSnapshots.map((s) => [s.name, s.lvName, s.usedPercent, s.valid, s.merging]),
      [["golden", "snap_vm-601-disk-0_golden", 25.2, true, false]]);
    assert.deepStrictEqual(qcow2.chain.map((s) => [s.name, s.lvName, s.inChain]), [
      ["s3", "snap_vm-602-disk-0_s3.qcow2", true], ["s2", "snap_vm-602-disk-0_s2.qcow2", true], ["s1", "snap_vm-602-disk-0_s1.qcow2", true]]);
    assert.deepStrictEqual([qcow2.fullyAllocatedBytes, qcow2.image?.backingFile, qcow2.image?.clusterSizeBytes],
      [34209792, "snap_vm-602-disk-0_s3.qcow2", 131072]);
    assert.deepStrictEqual(thin.thinSnapshots.map((s) => [s.name, s.lvName, s.active, s.activationSkip]),
      [["s1", "snap_vm-701-disk-0_s1", false, true], ["s2", "snap_vm-701-disk-0_s2", false, true]]);
    assert.deepStrictEqual(vg.thinPools.map((p) => p.lvName), ["pool0"]);
    assert.deepStrictEqual(vg.otherLvs.map((l) => l.lvName), ["scratch"]);
    assert.deepStrictEqual(raw.tags, ["pulumi-lvm/format=raw", "web"], "the JSON keeps every tag as LVM lists it");
    assert.deepStrictEqual(report.host, { target: "root@10.0.0.5:22", hostname: "test-host", lvmVersion: "2.03.16", qemuImgVersion: "7.2.22" });
    assert.deepStrictEqual(report.warnings, []);
  });

  it("reads the whole host in one script: LVM with --all, the running exports, each qcow2 chain; --vg narrows every part", async () => {
    const whole = (await inspect(scenarioSections())).host.text(0);
    assert.match(whole, /'lvs' '--reportformat' 'json' .* '--all'/);
    assert.match(whole, /__step 'read the qcow2 images'/);
    assert.ok(!whole.includes("lvchange"), "inspect activates nothing");
    const narrowed = (await inspect(scenarioSections(), {}, "inspectvg")).host.text(0);
    for (const tool of ["vgs", "pvs", "lvs"]) assert.match(narrowed, new RegExp(`'${tool}' .*'-S' 'vg_name=inspectvg'`));
    assert.match(narrowed, /set -- '-S' 'vg_name=inspectvg'/, "the image loop reads that VG's LVs only");
  });

  it("refuses a --vg the host does not have", async () => {
    await assert.rejects(inspect(readSections([], {}), {}, "nope"), /volume group nope does not exist on root@10\.0\.0\.5:22/);
  });

  it("tells VM disks from other LVs: pulumi-lvm's format tag, a .qcow2 name or Proxmox's vm-<id>-disk-<n>; LVM's internal LVs stay out", async () => {
    const rows: Row[] = [
      { name: "vm-100-disk-1", size: 8 * MiB },
      { name: "root", size: 8 * MiB, attr: "-wi-ao----" },
      { name: "xen-linux01", size: 8 * MiB, tags: ["pulumi-lvm/format=raw"] },
      { name: "[lvol0_pmspare]", size: 4 * MiB, attr: "ewi-------" },
    ];
    const { report } = await inspect(readSections(rows));
    const [vg] = report.volumeGroups;
    assert.deepStrictEqual(vg.disks.map((d) => d.lvName), ["vm-100-disk-1", "xen-linux01"]);
    assert.deepStrictEqual(vg.otherLvs.map((l) => [l.lvName, l.open]), [["root", true]]);
  });
});

describe("inspect: thick snapshots", () => {
  it("an overflowed snapshot is INVALID, with a warning saying what is lost and what to do", async () => {
    const { report, text } = await inspect(readSections(rowsWith(golden({ attr: "swi-I-s---", snapPercent: "100.00" }))));
    assert.strictEqual(report.volumeGroups[0].disks[0].thickSnapshots[0].valid, false);
    assert.match(text, /└─ golden \(thick\) {2}8 MiB {2}\[██████████\] INVALID {2}snap_vm-601-disk-0_golden/);
    assert.deepStrictEqual(kinds(report), ["snapshot-invalid inspectvg/snap_vm-601-disk-0_golden"]);
    assert.match(report.warnings[0].message, /is INVALID: more was written to vm-601-disk-0 than its 8 MiB copy-on-write area holds/);
    assert.match(report.warnings[0].action, /lvremove inspectvg\/snap_vm-601-disk-0_golden/);
  });

  it("warns above 80% full, not at 80%", async () => {
    const at = async (percent: string) => kinds((await inspect(readSections(rowsWith(golden({ snapPercent: percent }))))).report);
    assert.deepStrictEqual(await at("80.00"), []);
    assert.deepStrictEqual(await at("80.10"), ["snapshot-filling inspectvg/snap_vm-601-disk-0_golden"]);
  });

  it("shows a snapshot whose merge LVM deferred (hidden from a plain lvs) as MERGING under its disk", async () => {
    const { report, text } = await inspect(readSections(rowsWith(
      golden({ name: "[snap_vm-601-disk-0_golden]", attr: "Swi-a-s---", snapPercent: "0.00" }),
      { name: "vm-601-disk-0", size: 64 * MiB, attr: "Owi-aos---", tags: ["pulumi-lvm/format=raw", "web"] })));
    assert.match(text, /└─ golden \(thick\) {2}8 MiB {2}\[░+\] 0% {2}MERGING {2}snap_vm-601-disk-0_golden/);
    assert.deepStrictEqual(kinds(report), ["merge-pending inspectvg/snap_vm-601-disk-0_golden"]);
    assert.match(report.warnings[0].action, /deactivate and activate it \(lvchange -an, then -ay\)/);
  });

  it("a DiskExport's temporary snapshot: a leftover when its job no longer runs, nothing to say while it does", async () => {
    const temp: Row = { name: "snap_vm-601-disk-0_pulumi-lvm-export-0a1b2c3d", size: 8 * MiB, attr: "swi-a-s---",
      tags: ["pulumi-lvm/temporary"], origin: "vm-601-disk-0", snapPercent: "3.00" };
    const leftover = await inspect(readSections(rowsWith(temp)));
    assert.deepStrictEqual(kinds(leftover.report), ["leftover-temporary-snapshot inspectvg/snap_vm-601-disk-0_pulumi-lvm-export-0a1b2c3d"]);
    assert.match(leftover.text, /└─ pulumi-lvm-export-0a1b2c3d \(thick\) {2}8 MiB .*\n│ {9}LEFTOVER temporary/);
    const running = await inspect({ ...readSections(rowsWith(temp)), "running exports": "0a1b2c3d" });
    assert.deepStrictEqual(kinds(running.report), []);
    assert.strictEqual(running.report.volumeGroups[0].disks[0].thickSnapshots.find((s) => s.temporary)?.temporary, "running export");
  });

  it("warns when the VG has less free space than its largest thick snapshot could still need", async () => {
    const free = 40 * MiB; // the 8 MiB snapshot of the 64 MiB disk could need 56 MiB more
    const { report } = await inspect(readSections(SCENARIO_ROWS, {}, free));
    assert.deepStrictEqual(kinds(report), ["vg-free-below-snapshot-need inspectvg"]);
    assert.match(report.warnings[0].message, /^40 MiB free, but the thick snapshot snap_vm-601-disk-0_golden \(8 MiB\) could still need 56 MiB more/);
    assert.deepStrictEqual(kinds((await inspect(readSections(SCENARIO_ROWS, {}, 56 * MiB))).report), []);
  });
});

describe("inspect: qcow2 disks and their chains", () => {
  const DISK = "vm-602-disk-0.qcow2";
  const chainSection = (text: string) => ({ [`chain inspectvg/${DISK}`]: text });

  it("a chain whose backing LV does not exist is broken: the snapshots still show under the disk, by name", async () => {
    const rows = SCENARIO_ROWS.filter((r) => r.name !== "snap_vm-602-disk-0_s1.qcow2");
    const { report, text } = await inspect(readSections(rows, chainSection(missingBacking("/dev/inspectvg/snap_vm-602-disk-0_s1.qcow2"))));
    const disk = report.volumeGroups[0].disks[1];
    assert.deepStrictEqual(disk.chainProblem && [disk.chainProblem.kind, disk.chainProblem.lv], ["missing-link", "snap_vm-602-disk-0_s1.qcow2"]);
    assert.deepStrictEqual(disk.chain.map((s) => [s.name, s.inChain]), [["s2", false], ["s3", false]]);
    assert.deepStrictEqual(report.volumeGroups[0].otherLvs.map((l) => l.lvName), ["scratch"]);
    assert.deepStrictEqual(kinds(report), [`broken-chain inspectvg/${DISK}`]);
    assert.match(report.warnings[0].message, /reads through snap_vm-602-disk-0_s1\.qcow2, which does not exist/);
    assert.match(text, /├─ chain: broken: it reads through snap_vm-602-disk-0_s1\.qcow2, which does\n│  │ {6}not exist\n│  ├─ s2 \(chain\) .* unconfirmed/);
  });

  it("an inactive link or disk is not a broken chain: it says what to activate, and warns of nothing", async () => {
    const inactiveLink = rowsWith({ name: "snap_vm-602-disk-0_s1.qcow2", size: 36 * MiB, attr: "-wi-------", tags: ["pulumi-lvm/format=qcow2"] });
    const link = await inspect(readSections(inactiveLink, chainSection(missingBacking("/dev/inspectvg/snap_vm-602-disk-0_s1.qcow2"))));
    assert.deepStrictEqual(link.report.volumeGroups[0].disks[1].chainProblem?.kind, "inactive-link");
    assert.match(link.report.volumeGroups[0].disks[1].chainProblem!.message, /lvchange -ay inspectvg\/snap_vm-602-disk-0_s1\.qcow2 to read it/);
    assert.match(link.text, /chain: not read: snap_vm-602-disk-0_s1\.qcow2 is not active/);
    assert.deepStrictEqual(kinds(link.report), []);
    const inactiveDisk = rowsWith({ name: DISK, size: 36 * MiB, attr: "-wi-------", tags: ["pulumi-lvm/format=qcow2"] });
    const disk = await inspect(withoutImages(readSections(inactiveDisk)));
    assert.deepStrictEqual(disk.report.volumeGroups[0].disks[1].chainProblem?.kind, "inactive");
    assert.deepStrictEqual(disk.report.volumeGroups[0].disks[1].chain.map((s) => s.name), ["s1", "s2", "s3"]);
    assert.deepStrictEqual(kinds(disk.report), []);
  });

  it("an interrupted snapshot deletion (journaled) is an unfinished operation, not a broken chain", async () => {
    // removeByCommit after the commit and the child's lvremove: s1 absorbed s2 and waits to take its name.
    const rows = SCENARIO_ROWS.filter((r) => r.name !== "snap_vm-602-disk-0_s2.qcow2").map((r) => r.name === "snap_vm-602-disk-0_s1.qcow2"
      ? { ...r, tags: ["pulumi-lvm/absorbs=snap_vm-602-disk-0_s2.qcow2", "pulumi-lvm/format=qcow2"] } : r);
    const { report } = await inspect(readSections(rows, chainSection(missingBacking("/dev/inspectvg/snap_vm-602-disk-0_s2.qcow2"))));
    assert.deepStrictEqual(report.volumeGroups[0].disks[1].chainProblem?.kind, "unfinished-operation");
    assert.deepStrictEqual(kinds(report), ["unfinished-operation inspectvg/snap_vm-602-disk-0_s1.qcow2"]);
    assert.match(report.warnings[0].message, /was merging inspectvg\/snap_vm-602-disk-0_s1\.qcow2 into inspectvg\/snap_vm-602-disk-0_s2\.qcow2/);
  });

  it("warns when a qcow2 disk's LV is smaller than its fully allocated measure, and says how much to grow it to", async () => {
    const small = rowsWith({ name: DISK, size: 32 * MiB, tags: ["pulumi-lvm/format=qcow2"] });
    const { report } = await inspect(readSections(small, {
      ...chainSection(proxmoxChain(DISK, ["s1", "s2", "s3"])),
      [`measure inspectvg/${DISK}`]: measureSection(32 * MiB, 34209792),
    }));
    assert.deepStrictEqual(kinds(report), [`lv-below-measure inspectvg/${DISK}`]);
    assert.match(report.warnings[0].action, new RegExp(`lvextend -L ${36 * MiB}b inspectvg/vm-602-disk-0\\.qcow2`));
  });

  it("counts a measure only if the host ran it with measureArgv of the image as parsed here", async () => {
    const small = rowsWith({ name: DISK, size: 32 * MiB, tags: ["pulumi-lvm/format=qcow2"] });
    const { report } = await inspect(readSections(small, {
      ...chainSection(proxmoxChain(DISK, ["s1", "s2", "s3"])),
      [`measure inspectvg/${DISK}`]: measureSection(32 * MiB, 34209792, "cluster_size=65536,extended_l2=off,preallocation=metadata"),
    }));
    assert.strictEqual(report.volumeGroups[0].disks[1].fullyAllocatedBytes, undefined);
    assert.deepStrictEqual(kinds(report), []);
  });

  it("a qcow2-named LV that does not hold qcow2, or a corrupt image, is a warning with qemu's words", async () => {
    const unreadable = await inspect(readSections(SCENARIO_ROWS, chainSection(`qemu-img: Could not open '/dev/inspectvg/${DISK}': Image is not in qcow2 format`)));
    assert.deepStrictEqual(kinds(unreadable.report), [`image-unreadable inspectvg/${DISK}`]);
    assert.match(unreadable.report.warnings[0].message, /Image is not in qcow2 format/);
    const corrupt = JSON.parse(proxmoxChain(DISK, ["s1", "s2", "s3"]));
    corrupt[0]["format-specific"].data.corrupt = true;
    const marked = await inspect(readSections(SCENARIO_ROWS, chainSection(JSON.stringify(corrupt, null, 4))));
    assert.deepStrictEqual(kinds(marked.report), [`image-corrupt inspectvg/${DISK}`]);
  });

  it("without qemu-img on the host: no image is read, the disks still show, one warning says why", async () => {
    const { report, host } = await inspect(withoutImages(readSections()), { tools: { "lvm": true, "qemu-img": false, "flock": true, "blkid": true, "wipefs": true, "blkdiscard": true, "udevadm": true } });
    assert.ok(!host.text(0).includes("read the qcow2 images"));
    assert.deepStrictEqual(report.volumeGroups[0].disks[1].chainProblem?.kind, "no-qemu-img");
    assert.deepStrictEqual(kinds(report), ["chains-not-read test-host"]);
  });

  it("two LVs read through the same snapshots (a rollback's fresh overlay, journaled): both show them, and the journal says why", async () => {
    const overlay = "pulumi-lvm-new_vm-602-disk-0.qcow2";
    const rows = rowsWith({ name: overlay, size: 36 * MiB, tags: ["pulumi-lvm/format=qcow2", `pulumi-lvm/replaces=${DISK}`] });
    const { report } = await inspect(readSections(rows, {
      ...chainSection(proxmoxChain(DISK, ["s1", "s2", "s3"])),
      [`chain inspectvg/${overlay}`]: chainJson([{ lv: overlay, backing: "snap_vm-602-disk-0_s3.qcow2" },
        { lv: "snap_vm-602-disk-0_s3.qcow2", backing: "snap_vm-602-disk-0_s2.qcow2" }, { lv: "snap_vm-602-disk-0_s2.qcow2", backing: "snap_vm-602-disk-0_s1.qcow2" },
        { lv: "snap_vm-602-disk-0_s1.qcow2" }]),
    }));
    assert.deepStrictEqual(report.volumeGroups[0].disks.map((d) => [d.lvName, d.chain.length]),
      [[overlay, 3], ["vm-601-disk-0", 0], [DISK, 3], ["vm-701-disk-0", 0]]);
    assert.deepStrictEqual(kinds(report), [`unfinished-operation inspectvg/${overlay}`]);
  });
});

describe("inspect: the tree", () => {
  it("draws the host as the README shows it, within 80 columns", async () => {
    const { text } = await inspect(scenarioSections());
    assert.strictEqual(text, `root@10.0.0.5:22  (test-host)  LVM 2.03.16  qemu-img 7.2.22

VG inspectvg  7.99 GiB, 7.7 GiB free  [█░░░░░░░░░░░░░░░░░░░] 3.7% used
├─ PV /dev/vdb  4 GiB, 3.7 GiB free
├─ PV /dev/vdc  4 GiB, 3.99 GiB free
├─ pool0  thin pool, 64 MiB (metadata 4 MiB)
│  ├─ data [█░░░░░░░░░] 12.5%  metadata [█░░░░░░░░░] 10.9%
│  ├─ 3 thin LVs, 288 MiB virtual: 4.5x over-commit
│  └─ limits: refuse new thin LVs above 90% full or 5x over-commit
├─ vm-601-disk-0  raw, 64 MiB  active  tags: web
│  └─ golden (thick)  8 MiB  [███░░░░░░░] 25.2%  snap_vm-601-disk-0_golden
├─ vm-602-disk-0.qcow2  qcow2, 32 MiB (LV 36 MiB)  active
│  ├─ s3 (chain)  LV 36 MiB  snap_vm-602-disk-0_s3.qcow2
│  ├─ s2 (chain)  LV 36 MiB  snap_vm-602-disk-0_s2.qcow2
│  └─ s1 (chain)  LV 36 MiB  snap_vm-602-disk-0_s1.qcow2
├─ vm-701-disk-0  raw, 96 MiB  thin in pool0, 8.3% allocated  active
│  ├─ s1 (thin)  96 MiB  inactive  activation-skip  snap_vm-701-disk-0_s1
│  └─ s2 (thin)  96 MiB  inactive  activation-skip  snap_vm-701-disk-0_s2
└─ other LVs (not VM disks)
   └─ scratch  16 MiB  -wi-a-----  active

No warnings.
`);
  });

  it("wraps what does not fit in 80 columns under its line, and colors only when asked", async () => {
    const long = `vm-700-disk-0-${"x".repeat(30)}`;
    const rows: Row[] = [
      { name: long, size: 64 * MiB, tags: ["pulumi-lvm/format=raw", "a-rather-long-user-tag", "another-long-tag"] },
      { name: `snap_${long}_golden`, size: 8 * MiB, attr: "swi-I-s---", tags: ["pulumi-lvm/snapshot=golden"], origin: long, snapPercent: "100.00" },
    ];
    const { report, text } = await inspect(readSections(rows));
    for (const line of text.split("\n")) assert.ok([...line].length <= 80, `${[...line].length} columns: ${line}`);
    assert.match(text, /\n {3}│ {3}tags: a-rather-long-user-tag,another-long-tag\n {3}└─ golden/, "continued under the disk, the tree's line drawn through");
    assert.ok(!/\x1b\[/.test(text));
    const colored = renderReport(report, { color: true });
    assert.match(colored, /\x1b\[31mINVALID\x1b\[0m/);
    assert.strictEqual(colored.replace(/\x1b\[[0-9;]*m/g, ""), text, "colors change nothing else");
  });
});
