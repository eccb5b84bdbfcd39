import * as assert from "assert";
import { DiskExport, Rollback, Snapshot, VmDisk, VmDiskArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { contentSha256, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/**
 * Running out of room through Pulumi's plugin against the guest: a VG that fills part-way through a stack of disk
 * creates (raw and qcow2, made in parallel), and a thick snapshot whose copy-on-write area overflows. (A destination
 * filesystem that fills during an export is test/e2e/diskExport.test.ts's.) In each case the errors name what did not
 * fit and the room there was, nothing is half-made, and the next up converges once there is room.
 */
describe("out of space (e2e)", function () {
  const VG = "space";
  const FILLER = "filler";
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  let h: TestHost;
  let pvs: string[];
  const { engine } = testEngine("space");
  const { timings, timed } = stopwatch();
  let disks: Record<string, Omit<VmDiskArgs, "connection" | "volumeGroup">> = {};
  type Connection = ReturnType<typeof rootConnectionArgs>;
  /** Resources declared after the disks, each depending on all of them (so destroy deletes them first). */
  let extra: (connection: Connection, after: { dependsOn: VmDisk[] }) => void = () => undefined;
  const program = () => {
    const connection = rootConnectionArgs(h);
    const made = Object.entries(disks).map(([name, args]) => new VmDisk(name, { connection, volumeGroup: VG, ...args }));
    extra(connection, { dependsOn: made });
  };
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  const inState = () => engine.readState().resources.map((r) => r.name).sort();
  const failure = (r: { failures: { reason: string }[] }) => r.failures.map((f) => f.reason).join("\n");

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[0], h.disks[1]];
    await scrubDisks(h, pvs, [VG]);
    // A 4 MiB-extent VG with exactly 72 MiB free: room for any two of the three disks below (32 or 36 MiB LVs), not all three.
    await h.exec(`vgcreate -y -s 4m ${VG} ${pvs[0]} >/dev/null && ` +
      `lvcreate -y -q -n ${FILLER} -l $(( $(vgs --noheadings -o vg_free_count ${VG}) - 18 )) ${VG} >/dev/null`);
  });
  after(async () => {
    if (h) await scrubDisks(h, pvs, [VG]);
    await closeAll();
    process.stderr.write(`      [space timings] ${timings.join("; ")}\n`);
  });

  it("a VG that fills part-way through three creates: two disks made and in state, the third refused naming disk and room, no LV outside the state", async () => {
    disks = {
      raw1: { name: "vm-961-disk-0", size: "32MiB" },
      raw2: { name: "vm-962-disk-0", size: "32MiB" },
      qcow1: { name: "vm-963-disk-0.qcow2", size: "32MiB", format: "qcow2" },
    };
    const r = await timed("three creates, room for two", () => engine.up(program));
    assert.strictEqual(r.ok, false);
    const made = inState();
    assert.strictEqual(made.length, 2, `two disks fit: ${made}`);
    // Each failure is a refusal naming its disk and the room; the engine starts nothing new after the first (as
    // Pulumi's does), so a disk that did not fit may also be one never tried.
    const reasons = r.failures.map((f) => f.reason);
    assert.ok(reasons.length >= 1);
    for (const reason of reasons) {
      assert.match(reason, new RegExp(`not enough free space in volume group ${VG}: disk vm-96\\d-disk-0(\\.qcow2)? needs (32|36) MiB ` +
        "\\(\\d+ bytes\\), only \\d+ MiB \\(\\d+ bytes\\) are free"), reason);
      assert.ok(!made.some((d) => reason.includes(`disk ${disks[d].name} `)), `${reason}: a disk that was made`);
    }
    assert.deepStrictEqual(await lvNames(), [FILLER, ...made.map((d) => disks[d].name)].sort(), "every LV but the filler is in the state");
    assert.strictEqual((await h.exec(`lvs --noheadings -o lv_tags ${VG} | grep -c pulumi-lvm/creating || true`)).trim(), "0", "no half-made disk");

    await h.exec(`vgextend -y ${VG} ${pvs[1]} >/dev/null`);
    mustSucceed(await timed("the same up, the VG grown", () => engine.up(program)));
    assert.deepStrictEqual(inState(), Object.keys(disks).sort());
    assert.deepStrictEqual(await lvNames(), [FILLER, ...Object.values(disks).map((d) => String(d.name))].sort());
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))), []);
  });

  it("a thick snapshot that overflows: valid: false on refresh, never re-taken; a rollback to it, an export of it and growing its disk are refused, changing nothing", async () => {
    disks = { raw1: disks.raw1 };
    extra = (connection, after) => {
      new Snapshot("golden", { connection, volumeGroup: VG, disk: "vm-961-disk-0", name: "golden", method: "thick", size: "4MiB" }, after);
    };
    mustSucceed(await engine.up(program));
    await h.exec(`dd if=/dev/urandom of=${dev("vm-961-disk-0")} bs=1M count=8 oflag=direct status=none || true`);
    mustSucceed(await engine.refresh());
    assert.strictEqual(engine.readState().resources.find((x) => x.name === "golden")!.outputs.valid, false);
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))), [], "an invalid snapshot is not re-taken");

    const lvsBefore = await h.exec(`lvs --noheadings -o lv_name,lv_attr,lv_size ${VG}`);
    const sumBefore = await contentSha256(h, dev("vm-961-disk-0"), "raw");
    const withSnapshot = extra;
    for (const [what, use, refusal] of [
      ["rollback", (connection: Connection, after: { dependsOn: VmDisk[] }) => new Rollback("back", { connection, volumeGroup: VG, disk: "vm-961-disk-0", snapshot: "golden" }, after),
        /the thick snapshot space\/snap_vm-961-disk-0_golden is invalid: more was written to the disk than its copy-on-write area holds, so its content is lost; nothing was changed/],
      ["export", (connection: Connection, after: { dependsOn: VmDisk[] }) => new DiskExport("out", { connection, volumeGroup: VG, disk: "vm-961-disk-0", snapshot: "golden", path: "/root/space-golden.raw" }, after),
        /snapshot golden \(space\/snap_vm-961-disk-0_golden\) is invalid \(it overflowed\): its content is lost/],
    ] as const) {
      extra = (connection, after) => { withSnapshot(connection, after); use(connection, after); };
      const r = await timed(`${what} of the invalid snapshot`, () => engine.up(program));
      assert.strictEqual(r.ok, false, what);
      assert.match(failure(r), refusal);
    }
    extra = withSnapshot;
    // Growing the snapshot's origin: LVM would refuse it in the middle of the script; refused before it instead.
    const raw1 = disks.raw1;
    disks = { raw1: { ...raw1, size: "40MiB" } };
    const grow = await timed("growing the snapshot's origin", () => engine.up(program));
    disks = { raw1 };
    assert.strictEqual(grow.ok, false);
    assert.match(failure(grow), /space\/vm-961-disk-0 has thick snapshots \(snap_vm-961-disk-0_golden\): LVM grows the origin of a thick snapshot only while it is inactive; .*nothing was changed/);
    assert.strictEqual(await h.exec(`lvs --noheadings -o lv_name,lv_attr,lv_size ${VG}`), lvsBefore, "no LV changed");
    assert.strictEqual(await contentSha256(h, dev("vm-961-disk-0"), "raw"), sumBefore, "the disk is as it was");
    assert.strictEqual((await h.exec("ls /root/space-golden.raw* 2>/dev/null || true")).trim(), "", "no file written");
    mustSucceed(await engine.destroy());
    assert.deepStrictEqual(await lvNames(), [FILLER], "only the LV the test made by hand");
  });
});
