import * as assert from "assert";
import { Snapshot, VmDisk } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { mustSucceed, testEngine } from "../support/engine";
import { installWrapper, removeWrappers, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/**
 * A qcow2 disk with `deleteSnapshots` and two chain snapshots given `deletedWith: disk`, destroyed: Pulumi skips the
 * snapshots' deletes and the disk's delete removes the whole chain under the lock, merging nothing (a wrapper around
 * qemu-img on the guest logs every subcommand).
 */
describe("a disk destroyed with its chain snapshots (deletedWith, e2e)", function () {
  const VG = "dwith";
  const LOG = "/run/pulumi-lvm-dwith-qemu-img";
  let h: TestHost;
  const { engine } = testEngine("deletedwith");
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();

  before(async () => {
    h = await useTestHost();
    await scrubDisks(h, [h.disks[4]], [VG]);
    await h.exec(`vgcreate -y ${VG} ${h.disks[4]} >/dev/null && rm -f ${LOG}\n${installWrapper("qemu-img", `#!/bin/sh
echo "$1" >> ${LOG}
exec /usr/bin/qemu-img "$@"
`)}`);
  });
  after(async () => {
    if (h) await h.exec(`${removeWrappers(["qemu-img"])}; rm -f ${LOG}`).then(() => scrubDisks(h, [h.disks[4]], [VG]));
    await closeAll();
  });

  it("removes the disk and both snapshot LVs without a qemu-img commit or rebase", async () => {
    const connection = rootConnectionArgs(h);
    mustSucceed(await engine.up(() => {
      const disk = new VmDisk("disk", { connection, volumeGroup: VG, name: "vm-700-disk-0.qcow2", size: "16MiB", format: "qcow2", deleteSnapshots: true });
      const a = new Snapshot("a", { connection, volumeGroup: VG, disk: disk.name, name: "a" }, { deletedWith: disk });
      new Snapshot("b", { connection, volumeGroup: VG, disk: disk.name, name: "b" }, { deletedWith: disk, dependsOn: [a] });
    }));
    assert.deepStrictEqual(await lvNames(), ["snap_vm-700-disk-0_a.qcow2", "snap_vm-700-disk-0_b.qcow2", "vm-700-disk-0.qcow2"]);
    await h.exec(`rm -f ${LOG}`);
    const r = mustSucceed(await engine.destroy());
    assert.deepStrictEqual(r.steps.map((s) => [s.name, s.deletedWith ?? false]).sort(), [["a", true], ["b", true], ["disk", false]]);
    assert.deepStrictEqual(await lvNames(), [], "the whole chain is gone");
    const ran = (await h.exec(`cat ${LOG} 2>/dev/null || true`)).split("\n").filter(Boolean);
    assert.ok(!ran.includes("commit") && !ran.includes("rebase"), `no merge ran: ${ran.join(" ")}`);
    assert.deepStrictEqual(engine.readState().resources, []);
  });
});
