// `pulumi-lvm inspect` and thin provisioning, from canned guest output (test/support/inspectFixtures): the pools with
// their fill and guards, thin disks with their thin snapshots, and the pool warnings.
import * as assert from "assert";
import { inspectHost, InspectReport, renderReport } from "../../provider/inspect";
import { FakeHost } from "../support/fakeHost";
import { POOL_ROWS, readSections, Row, SCENARIO_ROWS, scenarioSections, thinSnapshotRow } from "../support/inspectFixtures";

const MiB = 1024 * 1024;

async function inspect(sections: Record<string, string>) {
  const report = await inspectHost(new FakeHost([sections], { lvmVersion: "2.03.16" }));
  return { report, text: renderReport(report, { color: false }) };
}

const kinds = (report: InspectReport) => report.warnings.map((w) => `${w.kind} ${w.subject}`);
/** Where each LV of the VG ended up in the model. */
function placement(report: InspectReport): Record<string, string> {
  const [vg] = report.volumeGroups;
  const places: Record<string, string> = {};
  for (const pool of vg.thinPools) places[pool.lvName] = "pool";
  for (const [where, lvs] of [["disk", vg.disks], ["other", vg.otherLvs]] as const) {
    for (const lv of lvs) {
      places[lv.lvName] = where;
      for (const s of lv.thickSnapshots) places[s.lvName] = `thick of ${lv.lvName}`;
      for (const s of lv.thinSnapshots) places[s.lvName] = `thin of ${lv.lvName}`;
    }
  }
  return places;
}

/** The scenario's pool with some of its report changed. */
const poolWith = (patch: Partial<Row>): Row[] =>
  SCENARIO_ROWS.map((r) => (r.name === "pool0" ? { ...r, ...patch } : r));
const thinDisk = (name: string, patch: Partial<Row> = {}): Row =>
  ({ name, size: 96 * MiB, attr: "Vwi-a-tz--", tags: ["pulumi-lvm/format=raw"], pool: "pool0", snapPercent: "8.33", ...patch });

describe("inspect: thin pools", () => {
  it("lists each pool with its size, fill, what its thin LVs add up to and the guards its tags set; its internal LVs stay hidden", async () => {
    const { report, text } = await inspect(scenarioSections());
    assert.deepStrictEqual(report.volumeGroups[0].thinPools, [{
      lvName: "pool0", sizeBytes: 64 * MiB, metadataSizeBytes: 4 * MiB, dataPercent: 12.5, metadataPercent: 10.94,
      attr: "twi-aotz--", active: true, tags: ["pulumi-lvm/thin-max-over-commit=5", "pulumi-lvm/thin-refuse-above=90"],
      virtualSizeBytes: 288 * MiB, overCommit: 4.5, thinLvCount: 3, refuseAbovePercent: 90, maxOverCommit: 5, limitsTagged: true,
    }]);
    const places = placement(report);
    for (const internal of ["lvol0_pmspare", "pool0_tdata", "pool0_tmeta"]) {
      assert.ok(!Object.keys(places).some((name) => name.includes(internal)), `${internal} is shown`);
      assert.ok(!text.includes(internal), `${internal} is drawn`);
    }
    assert.match(text, /\n├─ pool0 {2}thin pool, 64 MiB \(metadata 4 MiB\)\n│ {2}├─ data \[█░{9}\] 12\.5% {2}metadata \[█░{9}\] 10\.9%\n│ {2}├─ 3 thin LVs, 288 MiB virtual: 4\.5x over-commit\n│ {2}└─ limits: refuse new thin LVs above 90% full or 5x over-commit\n/);
  });

  it("a pool without pulumi-lvm's tags (made by hand or by Proxmox) shows no limits line, and the default 95% applies", async () => {
    const { report, text } = await inspect(readSections(poolWith({ tags: [] })));
    const [pool] = report.volumeGroups[0].thinPools;
    assert.deepStrictEqual([pool.refuseAbovePercent, pool.maxOverCommit, pool.limitsTagged], [95, undefined, false]);
    assert.ok(!text.includes("limits:"), text);
    assert.deepStrictEqual(kinds(report), [], "no over-commit limit: 4.5x is fine");
  });

  it("an inactive pool's fill is unknown, and warns of nothing", async () => {
    const { report, text } = await inspect(readSections(poolWith({ attr: "twi---tz--", snapPercent: undefined, metadataPercent: undefined })));
    assert.deepStrictEqual([report.volumeGroups[0].thinPools[0].dataPercent, report.volumeGroups[0].thinPools[0].active], [undefined, false]);
    assert.match(text, /\n│ {2}├─ fill unknown \(inactive\)\n/);
    assert.deepStrictEqual(kinds(report), []);
  });
});

describe("inspect: thin disks and their thin snapshots", () => {
  it("a thin disk says it is thin, in which pool and how much is allocated; its thin snapshots go under it, not among disks or other LVs", async () => {
    const { report } = await inspect(scenarioSections());
    const places = placement(report);
    assert.deepStrictEqual([places["vm-701-disk-0"], places["snap_vm-701-disk-0_s1"], places["snap_vm-701-disk-0_s2"]],
      ["disk", "thin of vm-701-disk-0", "thin of vm-701-disk-0"]);
    const thin = report.volumeGroups[0].disks.find((d) => d.lvName === "vm-701-disk-0")!;
    assert.deepStrictEqual([thin.thinPool, thin.allocatedPercent, thin.thickSnapshots], ["pool0", 8.33, []]);
    const thick = report.volumeGroups[0].disks.find((d) => d.lvName === "vm-601-disk-0")!;
    assert.deepStrictEqual([thick.thinPool, thick.thinSnapshots, thick.thickSnapshots.map((s) => s.name)], [undefined, [], ["golden"]],
      "a thick disk and its thick snapshot stay as they are");
  });

  it("an active thin snapshot shows its allocation; one without activation-skip does not say it", async () => {
    const rows = [...SCENARIO_ROWS.filter((r) => r.name !== "snap_vm-701-disk-0_s1"),
      thinSnapshotRow("vm-701-disk-0", "s1", { attr: "Vri-a-tz--", snapPercent: "8.33" })];
    const { report, text } = await inspect(readSections(rows));
    assert.deepStrictEqual(report.volumeGroups[0].disks[2].thinSnapshots[0],
      { name: "s1", lvName: "snap_vm-701-disk-0_s1", sizeBytes: 96 * MiB, allocatedPercent: 8.33, active: true, open: false, activationSkip: false });
    assert.match(text, /\n│ {2}├─ s1 \(thin\) {2}96 MiB {2}active, 8\.3% allocated {2}snap_vm-701-disk-0_s1\n/);
  });

  it("Proxmox's own: an untagged snapshot goes under its disk by origin; a linked clone of a template is a disk, not a snapshot", async () => {
    const rows: Row[] = [
      ...POOL_ROWS,
      { name: "vm-100-disk-0", size: 32 * MiB, attr: "Vwi-a-tz--", pool: "pool0", snapPercent: "10.00" },
      { name: "snap_vm-100-disk-0_before", size: 32 * MiB, attr: "Vri---tz-k", origin: "vm-100-disk-0", pool: "pool0" },
      { name: "base-200-disk-0", size: 32 * MiB, attr: "Vri---tz-k", pool: "pool0" },
      { name: "vm-201-disk-0", size: 32 * MiB, attr: "Vwi-a-tz--", origin: "base-200-disk-0", pool: "pool0", snapPercent: "10.00" },
    ];
    const { report } = await inspect(readSections(rows));
    assert.deepStrictEqual(placement(report), {
      "pool0": "pool", "vm-100-disk-0": "disk", "snap_vm-100-disk-0_before": "thin of vm-100-disk-0",
      "base-200-disk-0": "disk", "vm-201-disk-0": "disk",
    });
    assert.strictEqual(report.volumeGroups[0].disks.find((d) => d.lvName === "vm-100-disk-0")!.thinSnapshots[0].name, "before");
  });

  it("after a thin rollback (the disk re-made from its snapshot, which lost its origin): the disk stays a disk, the snapshot stays under it", async () => {
    const rows: Row[] = [
      ...POOL_ROWS,
      thinDisk("vm-701-disk-0", { origin: "snap_vm-701-disk-0_s1" }),
      thinSnapshotRow("vm-701-disk-0", "s1", { origin: "" }),
    ];
    const { report } = await inspect(readSections(rows));
    assert.deepStrictEqual(placement(report), { "pool0": "pool", "vm-701-disk-0": "disk", "snap_vm-701-disk-0_s1": "thin of vm-701-disk-0" });
  });

  it("a thin snapshot nothing ties to a shown LV is listed among the other LVs, so nothing is hidden", async () => {
    const rows: Row[] = [...POOL_ROWS, { name: "snap_gone_x", size: 32 * MiB, attr: "Vri---tz-k", pool: "pool0", tags: ["pulumi-lvm/snapshot=x"] }];
    const { report, text } = await inspect(readSections(rows));
    assert.deepStrictEqual(placement(report), { "pool0": "pool", "snap_gone_x": "other" });
    assert.match(text, /└─ snap_gone_x {2}32 MiB {2}Vri---tz-k {2}thin in pool0 {2}inactive/);
  });

  it("a DiskExport's leftover temporary thin snapshot warns and says how to remove it; a running export's does not", async () => {
    const temp = thinSnapshotRow("vm-701-disk-0", "x", { name: "snap_vm-701-disk-0_pulumi-lvm-export-0a1b2c3d", tags: ["pulumi-lvm/temporary"] });
    // The pool without its over-commit limit: the snapshot adds to what its thin LVs add up to.
    const rows = [...poolWith({ tags: [] }), temp];
    const leftover = await inspect(readSections(rows));
    assert.deepStrictEqual(kinds(leftover.report), ["leftover-temporary-snapshot inspectvg/snap_vm-701-disk-0_pulumi-lvm-export-0a1b2c3d"]);
    assert.match(leftover.report.warnings[0].message, /keeps the blocks of vm-701-disk-0 rewritten since in their thin pool/);
    assert.match(leftover.report.warnings[0].action, /lvremove inspectvg\/snap_vm-701-disk-0_pulumi-lvm-export-0a1b2c3d/);
    assert.match(leftover.text, /├─ pulumi-lvm-export-0a1b2c3d \(thin\) {2}96 MiB {2}inactive {2}activation-skip\n│ {2}│ {6}LEFTOVER temporary/);
    const running = await inspect({ ...readSections(rows), "running exports": "0a1b2c3d" });
    assert.deepStrictEqual(kinds(running.report), []);
  });
});

describe("inspect: thin pool warnings", () => {
  const at = async (patch: Partial<Row>) => (await inspect(readSections(poolWith(patch)))).report;

  it("data above 80% (not at 80%): what happens when it is full, and how to grow the pool", async () => {
    assert.deepStrictEqual(kinds(await at({ snapPercent: "80.00" })), []);
    const report = await at({ snapPercent: "87.50" });
    assert.deepStrictEqual(kinds(report), ["thin-pool-filling inspectvg/pool0"]);
    assert.match(report.warnings[0].message, /^thin pool pool0 is 87\.5% full \(data\): at 100% writes to its thin LVs stall, then fail/);
    assert.match(report.warnings[0].action, /raise the ThinPool's size and run pulumi up, or lvextend -L \+<size> inspectvg\/pool0 \(7\.7 GiB free in inspectvg\)/);
  });

  it("metadata above 80%: how to grow the metadata", async () => {
    const report = await at({ metadataPercent: "85.00" });
    assert.deepStrictEqual(kinds(report), ["thin-pool-filling inspectvg/pool0"]);
    assert.match(report.warnings[0].message, /is 85% full \(metadata\): at 100% the pool turns read-only/);
    assert.match(report.warnings[0].action, /raise the ThinPool's metadataSize .* lvextend --poolmetadatasize \+<size> inspectvg\/pool0/);
  });

  it("above its refuseAbovePercent: one warning that new thin disks and snapshots are refused, with how to grow it", async () => {
    const report = await at({ snapPercent: "91.00" });
    assert.deepStrictEqual(kinds(report), ["thin-pool-refusing inspectvg/pool0"]);
    assert.match(report.warnings[0].message, /91% full \(data\), above its refuseAbovePercent of 90%: new thin disks and snapshots in it are refused/);
    assert.match(report.warnings[0].action, /lvextend -L \+<size> inspectvg\/pool0/);
    assert.deepStrictEqual(kinds(await at({ tags: [], snapPercent: "91.00" })), ["thin-pool-filling inspectvg/pool0"], "untagged: refused only above 95%");
  });

  it("over-committed above its maxOverCommit (not at it): new thin disks are refused", async () => {
    assert.deepStrictEqual(kinds(await at({ tags: ["pulumi-lvm/thin-max-over-commit=4.5"] })), []);
    const report = await at({ tags: ["pulumi-lvm/thin-max-over-commit=4"] });
    assert.deepStrictEqual(kinds(report), ["thin-pool-over-committed inspectvg/pool0"]);
    assert.match(report.warnings[0].message, /its 3 thin LVs add up to 288 MiB, 4\.5x its 64 MiB of data space, above its maxOverCommit of 4: new and grown thin disks in it are refused/);
    assert.match(report.warnings[0].action, /raise its maxOverCommit/);
  });

  it("draws a filling pool's bar red and its warning within 80 columns", async () => {
    const report = await at({ snapPercent: "87.50" });
    const text = renderReport(report, { color: false });
    assert.match(text, /\n│ {2}├─ data \[█{9}░\] 87\.5% {2}metadata/);
    assert.match(text, /\n1 warning:\n! inspectvg\/pool0: thin pool pool0 is 87\.5% full \(data\): at 100% writes to its\n/);
    for (const line of text.split("\n")) assert.ok([...line].length <= 80, `${[...line].length} columns: ${line}`);
    assert.match(renderReport(report, { color: true }), /data \[\x1b\[31m█{9}░\x1b\[0m\]/);
  });
});
