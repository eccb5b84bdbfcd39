import * as assert from "assert";
import { Snapshot, VmDisk, VolumeGroup } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { contentSha256, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/**
 * Progress of the operations that take minutes on a real host, as whoever runs `pulumi up` sees it: lines the plugin
 * prints while the operation runs (`<Kind> <name>: <what> N%`), through the engine driver and Pulumi's real
 * dynamic-provider plugin. The data is large enough that each operation runs for several seconds on the test guest,
 * so a line is due from each (one every few seconds while it runs); what each operation left is checked as well.
 */
describe("progress of long operations (e2e)", function () {
  const VG = "progress";
  const DISK = "vm-500-disk-0.qcow2";
  const SOURCE = "/root/pulumi-lvm-progress-source.raw";
  const SOURCE_MIB = 192;
  let h: TestHost;
  let devices: string[];
  const { engine, lines } = testEngine("progress");
  let vgDevices: string[];
  let snapshot: boolean;
  const program = () => {
    const connection = rootConnectionArgs(h);
    const vg = new VolumeGroup("vg", { connection, name: VG, devices: vgDevices });
    const disk = new VmDisk("disk", { connection, volumeGroup: vg.name, name: DISK, size: "256MiB", format: "qcow2",
      source: { path: SOURCE, format: "raw" } });
    if (snapshot) new Snapshot("s1", { connection, volumeGroup: vg.name, disk: disk.name, name: "s1" });
  };
  /** The plugin's progress lines that start with `prefix` and end with a percentage, as the figures. */
  const progressOf = (prefix: string) => lines.flatMap((l) => {
    const at = l.indexOf(`[plugin] ${prefix} `);
    const m = at < 0 ? null : /^(\d+)%$/.exec(l.slice(at + `[plugin] ${prefix} `.length).trim());
    return m ? [Number(m[1])] : [];
  });
  const pluginLines = () => lines.filter((l) => l.includes("[plugin]")).join("\n");
  const diskSha = () => contentSha256(h, `/dev/${VG}/${DISK}`, "qcow2");
  const { timings, timed } = stopwatch();

  before(async () => {
    h = await useTestHost();
    devices = h.disks.slice(0, 2);
    await scrubDisks(h, devices, [VG]);
    await h.exec(`dd if=/dev/urandom of=${SOURCE} bs=1M count=${SOURCE_MIB} status=none`);
    vgDevices = devices;
    snapshot = false;
  });
  after(async () => {
    if (h) {
      await scrubDisks(h, devices, [VG]);
      await h.exec(`rm -f ${SOURCE}`);
    }
    await closeAll();
    process.stderr.write(`      [progress timings] ${timings.join("; ")}\n`);
    process.stderr.write(`      [progress lines]\n${lines.filter((l) => /\[plugin\] .*: .* \d+%$/.test(l)).map((l) => `        ${l.trim()}\n`).join("")}`);
  });

  it("an image import (qemu-img convert) prints how far it is while it runs", async () => {
    const r = mustSucceed(await timed(`import ${SOURCE_MIB} MiB of random data`, () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["create vg", "create disk"]);
    const figures = progressOf(`VmDisk ${VG}/${DISK}: importing ${SOURCE}`);
    assert.ok(figures.length >= 1, pluginLines());
    assert.deepStrictEqual(figures, [...figures].sort((a, b) => a - b), "the figures grow");
    // (compare reads the disk's 64 MiB past the image's end as zeros, which it checks they are)
    assert.strictEqual(await h.exec(`qemu-img compare -U -f raw -F qcow2 ${SOURCE} /dev/${VG}/${DISK} >/dev/null && echo same`), "same\n",
      "the disk holds the image");
  });

  it("a chain snapshot's delete (qemu-img commit) prints how far the merge is", async () => {
    snapshot = true;
    mustSucceed(await engine.up(program));
    // What the VM wrote after the snapshot: the overlay's data, which the delete merges into the snapshot's LV.
    await h.exec(`qemu-io -f qcow2 -c 'write -P 0xa5 0 160M' /dev/${VG}/${DISK} >/dev/null`);
    const before = await diskSha();
    snapshot = false;
    const r = mustSucceed(await timed("delete a chain snapshot, merging 160 MiB", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["delete s1"]);
    const figures = progressOf(`Snapshot ${VG}/${DISK}@s1: merging ${DISK} into it`);
    assert.ok(figures.length >= 1, pluginLines());
    assert.strictEqual(await diskSha(), before, "the disk reads as before");
  });

  it("a device's removal from the VG (pvmove) prints how far the move is", async () => {
    const from = (await h.exec(`pvs --noheadings -o pv_name,pv_used --units m -S vg_name=${VG} | sort -k2 -n -r | head -1`)).trim().split(/\s+/)[0];
    const before = await diskSha();
    vgDevices = devices.filter((d) => d !== from);
    const r = mustSucceed(await timed("move the disk's extents to the other device", () => engine.up(program)));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.name}`), ["update vg"]);
    const figures = progressOf(`VolumeGroup ${VG}: moving its data off ${from}`);
    assert.ok(figures.length >= 1, pluginLines());
    assert.doesNotMatch(await h.exec("pvs --noheadings -o pv_name"), new RegExp(`${from}\\b`), `${from} left the VG`);
    assert.strictEqual(await diskSha(), before, "the disk reads as before");
  });
});

