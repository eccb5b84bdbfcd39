import * as assert from "assert";
import { closeAll } from "../../provider/ssh";
import { StateFile } from "../engine/state";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { contentSha256, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";
import { readFixtures, Recipe } from "../upgrade/fixtures";
import { EXPORT_PATH, QCOW2, RAW, upgradeStack, VG } from "../upgrade/stack";

/**
 * Upgrade safety: state written by an earlier release must refresh, update and delete under today's code. The
 * fixtures (test/upgrade/fixtures/<release>/) are the state release 0eafee3 wrote for one stack holding every kind
 * (test/upgrade/stack.ts), recorded through the engine driver by test/upgrade/record.ts, and the recipe that
 * recreates its host objects on a fresh guest: the very scripts that release sent to the host, replayed here in the
 * order they started, with the recorder's data writes between them.
 *
 * The fixtures hold no key: the recorder replaced the private key, the host key and the SSH port by placeholders,
 * and readFixtures puts back this guest's (the connection in every resource, the port in IDs and in what the scripts
 * write on the host). Everything else is used as recorded, in particular each resource's `__provider`: the stub
 * (sdk/stub.ts) that requires `pulumi-lvm/provider` at call time. Pulumi's plugin runs Read and Delete through the
 * stub stored in the state, so refresh and destroy here run today's code only through that recorded stub.
 *
 * FROM NOW ON a change that breaks these tests needs a migration in the provider (reading the old state's shape),
 * not new fixtures: users' stacks hold this state. Record a new release's fixtures beside these when its state
 * changes, and keep every old one.
 */
/**
 * The recipe as a few shell commands (each well under the 128 KiB an argument may hold): every script that changed
 * the host (they all hold a VG lock: the reads the release made are left out), run as the release ran it (`sh -s`,
 * its text on stdin) and then until any export worker it started is done, and the recorder's own writes between them.
 */
function replayBatches(steps: Recipe["steps"]): string[] {
  const commands = steps.filter((s) => "test" in s || s.script.includes("flock")).map((s) => "test" in s ? s.test
    : `printf %s ${Buffer.from(s.script).toString("base64")} | base64 -d | sh -s >/dev/null && ` +
      "for l in /run/pulumi-lvm/export-*/lock; do [ -f \"$l\" ] && flock \"$l\" true; done; true");
  const batches: string[][] = [[]];
  for (const c of commands) {
    const last = batches[batches.length - 1];
    if (last.length && [...last, c].join(" && ").length > 90_000) batches.push([c]);
    else last.push(c);
  }
  return batches.map((b) => b.map((c) => `{ ${c}; }`).join(" && "));
}

describe("upgrade: state written by release 0eafee3, under today's code (e2e)", function () {
  const RELEASE = "0eafee3";
  let h: TestHost;
  let devices: string[];
  const { engine, stateFile } = testEngine("upgrade");
  const { timings, timed } = stopwatch();
  const program = (changed: boolean) => () => upgradeStack(rootConnectionArgs(h), devices, "all", changed);
  const outputs = (name: string) => engine.readState().resources.find((r) => r.name === name)!.outputs as Record<string, unknown>;
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  let recorded: ReturnType<typeof readFixtures>;

  before(async () => {
    h = await useTestHost();
    recorded = readFixtures(RELEASE, h);
    devices = recorded.recipe.devices;
    const jobs = [...new Set(recorded.recipe.steps.flatMap((s) => ("script" in s ? s.script.match(/export-[0-9a-f]{8}/g) ?? [] : [])))];
    await scrubDisks(h, devices, [VG]);
    // Blank devices, as the recorder's were: the release's lvcreate zeroes only an LV's first KiB, so whatever an
    // earlier test left on these devices would show through the raw disk and change the export's checksum.
    await h.exec(`for d in ${devices.join(" ")}; do blkdiscard -z "$d" 2>/dev/null || ` +
      `dd if=/dev/zero of="$d" bs=1M oflag=direct status=none 2>/dev/null || true; done`);
    await h.exec(`rm -rf ${EXPORT_PATH}* ${jobs.map((j) => `/run/pulumi-lvm/${j}`).join(" ")}`);
    await timed("host objects recreated by the recipe", async () => {
      for (const batch of replayBatches(recorded.recipe.steps)) await h.exec(batch);
    });
    // The one thing a replay cannot reproduce is the time: the export's marker records when its worker ran, and
    // delete takes only the file whose marker has the state's createdAt. The file's mtime stays the replay's.
    const createdAt = recorded.state.resources.find((r) => r.name === "export")!.outputs.createdAt as string;
    await h.exec(`sed -i 's/"createdAt":"[^"]*"/"createdAt":"${createdAt}"/' ${EXPORT_PATH}.pulumi-lvm.json`);
    new StateFile(stateFile).save(recorded.state);
  });
  after(async () => {
    if (h) {
      await scrubDisks(h, devices, [VG]);
      await h.exec(`rm -f ${EXPORT_PATH}*`);
    }
    await closeAll();
    process.stderr.write(`      [upgrade timings] ${timings.join("; ")}\n`);
  });

  it("holds every kind, keyless, each with the serialized stub that requires the installed package", () => {
    const kinds = recorded.state.resources.map((r) => r.type.replace("pulumi-nodejs:dynamic/lvm:", ""));
    assert.deepStrictEqual([...new Set(kinds)].sort(), ["DiskExport", "Rollback", "Snapshot", "ThinPool", "VmDisk", "VolumeGroup"]);
    for (const r of recorded.state.resources) {
      const stub = r.inputs.__provider as string;
      assert.ok(stub.includes('require("pulumi-lvm/provider").providerFor(type)'), `${r.name}: the stub requires the package`);
      assert.ok(stub.includes(`type: "${r.type.split(":").pop()}"`), `${r.name}: the stub names its kind`);
      assert.ok(Buffer.byteLength(stub) < 4096, `${r.name}: the stub is small`);
    }
  });

  it("refresh reads every recorded resource: none gone, no input drifted, the export's checksum as recorded", async () => {
    const r = mustSucceed(await timed("refresh", () => engine.refresh()));
    assert.strictEqual(r.steps.length, 10);
    assert.deepStrictEqual(r.steps.filter((s) => s.gone).map((s) => s.name), []);
    assert.deepStrictEqual(r.steps.filter((s) => s.driftedInputs?.length).map((s) => [s.name, s.driftedInputs]), []);
    const exported = recorded.state.resources.find((x) => x.name === "export")!.outputs;
    assert.strictEqual(outputs("export").sha256, exported.sha256, "today's code recomputes the recorded export's checksum");
    assert.strictEqual(outputs("thick").valid, true);
    assert.strictEqual(outputs("chain").lvName, "snap_vm-902-disk-0_s1.qcow2");
    assert.deepStrictEqual(changes(mustSucceed(await timed("preview", () => engine.preview(program(false))))), [],
      "the recorded program shows nothing to do");
  });

  it("an update changes every kind on the recorded state: tags, a grown disk, a re-run rollback and export", async () => {
    const s1 = await contentSha256(h, dev("snap_vm-902-disk-0_s1.qcow2"), "qcow2");
    await h.exec(`qemu-io -f qcow2 -c 'write -P 0x33 0 1M' ${dev(QCOW2)} >/dev/null`);
    const r = mustSucceed(await timed("up (changed)", () => engine.up(program(true))));
    const ops = Object.fromEntries(r.steps.map((s) => [s.name, s.op]));
    assert.deepStrictEqual(ops, {
      vg: "update", pool: "update", raw: "update", qcow2: "update", thin: "update",
      chain: "same", thick: "update", thinsnap: "same", rollback: "replace", export: "replace",
    });
    const tags = (await h.exec(`vgs --noheadings -o vg_tags ${VG}; lvs --noheadings -o lv_tags ${VG}/pool ${VG}/${RAW}`)).trim().split(/\s+/);
    assert.deepStrictEqual(tags, ["upgraded", "pulumi-lvm/thin-refuse-above=90,upgraded", "pulumi-lvm/format=raw,upgraded"]);
    const info = JSON.parse(await h.exec(`qemu-img info --output=json ${dev(QCOW2)}`));
    assert.strictEqual(info["virtual-size"], 40 * 1024 * 1024, "the qcow2 disk grew");
    // Rolled back again to s1 (the grown part reads as zeroes), and exported again from the raw disk.
    assert.match(await h.exec(`qemu-img compare -f qcow2 -F qcow2 ${dev("snap_vm-902-disk-0_s1.qcow2")} ${dev(QCOW2)}`), /Images are identical/);
    assert.notStrictEqual(await contentSha256(h, dev(QCOW2), "qcow2"), s1, "the grown size shows in the checksum");
    assert.strictEqual(outputs("export").sha256, await contentSha256(h, dev(RAW), "raw"));
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program(true)))), []);
  });

  it("destroy removes everything the recorded state held, leaving blank devices", async () => {
    mustSucceed(await timed("destroy", () => engine.destroy()));
    assert.strictEqual((await h.exec(`vgs --noheadings -o vg_name ${VG} 2>/dev/null || true`)).trim(), "");
    assert.strictEqual((await h.exec(`ls ${EXPORT_PATH}* 2>/dev/null || true`)).trim(), "");
    assert.strictEqual((await h.exec(`wipefs --noheadings ${devices.join(" ")} | wc -l`)).trim(), "0");
  });
});
