import * as assert from "assert";
import { Script, sh } from "../../provider/command";
import { closeAll, hostFor } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { diskSignatures, rootConnection, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/** Issue 2's loop: pinned key, VG on two disks, an LV, bytes through it, everything removed, disks blank. */
describe("smoke: the test host over our SSH layer", () => {
  let h: TestHost;
  let disks: string[];
  before(async () => {
    h = await useTestHost();
    disks = h.disks.slice(0, 2);
  });
  after(async () => {
    await scrubDisks(h, disks, ["smoke"]);
    await closeAll();
  });

  it("creates a VG and an LV, writes and reads back bytes through it, and removes everything", async () => {
    const host = hostFor(rootConnection(h));
    const payload = "pulumi-lvm smoke test: 0123456789 ünïcødé\n";
    const result = await host.run(new Script("smoke")
      .run("pvcreate", ["pvcreate", "--yes", ...disks])
      .run("vgcreate", ["vgcreate", "--yes", "smoke", ...disks])
      .run("lvcreate", ["lvcreate", "--yes", "-Wy", "-L", "64m", "-n", "data", "smoke"])
      .run("settle", ["udevadm", "settle"])
      .code("write", sh`printf '%s' "$payload" | dd of=/dev/smoke/data bs=4096 conv=fsync status=none`, { payload })
      .captureCode("read", sh`head -c "$n" /dev/smoke/data`, { n: String(Buffer.byteLength(payload)) })
      .capture("lvs", ["lvs", "--noheadings", "-o", "lv_name,vg_name,lv_size", "--units", "m", "smoke"]));
    assert.strictEqual(result.sections.read, payload.replace(/\n$/, ""));
    assert.match(result.sections.lvs, /data\s+smoke\s+64\.00m/);

    // Seen independently of our SSH layer, with the system OpenSSH client.
    assert.match(await h.exec("lvs --noheadings -o lv_path smoke"), /\/dev\/smoke\/data/);

    await host.run(new Script("smoke cleanup")
      .run("lvremove", ["lvremove", "--yes", "smoke/data"])
      .run("vgremove", ["vgremove", "--yes", "smoke"])
      .run("pvremove", ["pvremove", "--yes", ...disks]));
    assert.doesNotMatch(await h.exec("vgs --noheadings -o vg_name"), /smoke/);
    assert.deepStrictEqual(await diskSignatures(h, disks), Object.fromEntries(disks.map((d) => [d, ""])));
  });
});
