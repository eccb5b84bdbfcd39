import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { closeAll } from "../../provider/ssh";
import { schemaText } from "../../provider/plugin/schema";
import { TestHost } from "../host/testHost";
import { packedInstall, startSourcePlugin } from "../engine/sourcePlugin";
import { isSecret, Props, secret } from "../engine/values";
import { changes, mustSucceed, testEngine } from "../support/engine";
import { arm, disarm, installFaultWrappers, removeFaultWrappers } from "../support/faults";
import { rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

const MiB = 1024 * 1024;

/** A resource of the plugin, registered by its type token as a generated SDK's class registers it. */
class LvmResource extends pulumi.CustomResource {}

/**
 * pulumi-lvm as a provider plugin (package `lvm`), the way a Python, Go, C# or YAML program uses it: a packed
 * install started through @pulumi/pulumi's run-plugin, resources registered by type token as a generated SDK
 * registers them, and the connection given once, as the stack config `lvm:connection`. Checked on the guest.
 */
describe("the lvm provider plugin through the engine (e2e)", function () {
  const VG = "plugvg";
  const IMPORT_VG = "plugimp";
  const QCOW2 = "vm-801-disk-0.qcow2";
  let h: TestHost;
  let disks: string[];
  let pluginDir: string;
  let secretBits: string[];
  const lvm = (type: string, name: string, props: Props, opts?: pulumi.CustomResourceOptions) =>
    new LvmResource(`lvm:index:${type}`, name, props, opts);
  const newEngine = (project: string) => testEngine(project, {
    packages: { lvm: pluginDir },
    config: { "lvm:connection": { secret: JSON.stringify(rootConnectionArgs(h)) } },
  });
  const info = async (vg: string, lv: string) => JSON.parse(await h.exec(`qemu-img info --output=json -U /dev/${vg}/${lv}`));
  const lvNames = async (vg: string) => (await h.exec(`lvs --noheadings -o lv_name ${vg}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  /** Neither the key nor a password, nor any long line of the key, appears in `text`. */
  const assertNoCredential = (text: string, where: string) => {
    for (const bit of secretBits) assert.ok(!text.includes(bit), `${where} holds a credential in plaintext`);
  };

  before(async function () {
    h = await useTestHost();
    disks = [h.disks[2], h.disks[3]];
    await scrubDisks(h, disks, [VG, IMPORT_VG]);
    pluginDir = await packedInstall();
    secretBits = h.privateKey.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
    assert.ok(secretBits.length > 0);
  });
  after(async () => {
    if (h) await scrubDisks(h, disks, [VG, IMPORT_VG]);
    await closeAll();
  });

  it("starts from a packed install through run-plugin, as the Node language host starts a source plugin, and serves its schema", async () => {
    // The engine's working directory, here a YAML program's: run-plugin registers ts-node with the tsconfig.json it
    // finds there, which the TypeScript bundled with @pulumi/pulumi (3.8) may refuse (see README).
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-yaml-"));
    fs.writeFileSync(path.join(cwd, "Pulumi.yaml"), "name: lvm-yaml\nruntime: yaml\n");
    const plugin = await startSourcePlugin(pluginDir, cwd, { PULUMI_CONFIG: "{}" }, () => undefined);
    try {
      const served = await plugin.getSchema();
      assert.strictEqual(served, schemaText(require("../../../package.json").version), "the installed package serves the schema generated from the kinds");
      assert.deepStrictEqual(Object.keys(JSON.parse(served).resources),
        ["VolumeGroup", "ThinPool", "VmDisk", "Snapshot", "Rollback", "DiskExport"].map((k) => `lvm:index:${k}`));
    } finally {
      await plugin.close();
    }
  });

  it("runs VolumeGroup -> qcow2 VmDisk -> chain Snapshot through preview, up, refresh, an update and destroy, the connection given once", async () => {
    const { engine, lines, stateFile } = newEngine("plugin");
    let size = "32MiB";
    let snapshot = false;
    const program = () => {
      const vg = lvm("VolumeGroup", "vg", { name: VG, devices: [disks[0]] });
      const disk = lvm("VmDisk", "disk", { volumeGroup: VG, name: QCOW2, size, format: "qcow2" }, { dependsOn: [vg] });
      if (snapshot) lvm("Snapshot", "s1", { volumeGroup: VG, disk: QCOW2, name: "s1" }, { dependsOn: [disk] });
    };

    const preview = mustSucceed(await engine.preview(program));
    assert.deepStrictEqual(changes(preview).map((s) => `${s.op} ${s.name}`), ["create vg", "create disk"]);
    assert.strictEqual(await h.exec(`vgs --noheadings -o vg_name ${VG} 2>/dev/null || true`), "", "preview changed nothing");

    mustSucceed(await engine.up(program));
    assert.deepStrictEqual(await lvNames(VG), [QCOW2]);
    let image = await info(VG, QCOW2);
    assert.deepStrictEqual([image.format, image["virtual-size"], image["cluster-size"]], ["qcow2", 32 * MiB, 131072]);
    const disk = engine.readState().resources.find((r) => r.name === "disk")!;
    assert.strictEqual(disk.id, `${h.host}:${h.port}/${VG}/${QCOW2}`);
    assert.strictEqual(disk.type, "lvm:index:VmDisk");
    assert.deepStrictEqual([disk.outputs.path, disk.outputs.virtualSizeBytes], [`/dev/${VG}/${QCOW2}`, 32 * MiB]);

    const refresh = mustSucceed(await engine.refresh());
    assert.deepStrictEqual(refresh.steps.flatMap((s) => s.driftedInputs ?? []), [], "refresh finds the program's inputs");

    size = "48MiB";
    snapshot = true;
    const update = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(update).map((s) => `${s.op} ${s.name}`), ["update disk", "create s1"]);
    assert.deepStrictEqual(await lvNames(VG), ["snap_vm-801-disk-0_s1.qcow2", QCOW2].sort());
    image = await info(VG, QCOW2);
    assert.deepStrictEqual([image["backing-filename"], image["virtual-size"]], ["snap_vm-801-disk-0_s1.qcow2", 48 * MiB]);
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))), [], "a second preview shows no changes");

    // Secrets: the connection is secret in state (so encrypted in the file), and no key is in the file or the logs.
    for (const r of engine.readState().resources) {
      assert.ok(isSecret(r.inputs.connection) && isSecret(r.outputs.connection), `${r.name}: connection is secret`);
    }
    assertNoCredential(fs.readFileSync(stateFile, "utf8"), "the state file");

    mustSucceed(await engine.destroy());
    assert.strictEqual(await h.exec(`vgs --noheadings -o vg_name ${VG} 2>/dev/null || true`), "");
    assert.deepStrictEqual(engine.readState().resources, []);
    assertNoCredential(lines.join("\n"), "the plan and plugin output");
  });

  it("a create whose connection is cut at its last step is kept as an unconfirmed create, and the next up finishes it", async () => {
    const { engine, lines, stateFile } = newEngine("plugin-cut");
    const vgOnly = () => { lvm("VolumeGroup", "vg", { name: VG, devices: [disks[0]] }); };
    const program = () => {
      const vg = lvm("VolumeGroup", "vg", { name: VG, devices: [disks[0]] });
      lvm("VmDisk", "disk", { volumeGroup: VG, name: QCOW2, size: "32MiB", format: "qcow2" }, { dependsOn: [vg] });
    };
    const journaled = async () => (await h.exec(`lvs --noheadings -o lv_name,lv_tags ${VG} | grep -F pulumi-lvm/creating || true`)).trim();
    mustSucceed(await engine.up(vgOnly));
    await installFaultWrappers(h);
    try {
      // The disk's create counts lvcreate, qemu-img create, then its last step (closing its journal entry): the SSH
      // session is killed while that runs, so the provider never hears how the create ended.
      await arm(h, 3, "drop");
      const cut = await engine.up(program);
      const calls = await disarm(h);
      assert.ok(!cut.ok, "the cut create fails the up");
      assert.match(calls[2] ?? "", /lvchange --deltag pulumi-lvm\/creating/, calls.join("\n"));
      const said = cut.failures.map((f) => f.reason).join("\n");
      assert.match(said, /kept in the state as an unconfirmed create: the next pulumi up finds what it left on the host and finishes it/);
      const kept = engine.readState().resources.find((r) => r.name === "disk");
      assert.ok(kept, "the engine keeps the disk in the state");
      assert.strictEqual(kept.outputs.createUnconfirmed, true);
      assert.ok(isSecret(kept.outputs.connection), "the partial state's connection is sealed as outputs are");
      assert.strictEqual(await journaled(), "", "nothing half-made is left: the script ended through its undo or finished");
    } finally {
      await disarm(h);
      await removeFaultWrappers(h);
    }
    const next = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(next).map((s) => `${s.op} ${s.name}`), ["update disk"], "the next up finishes the create");
    const disk = engine.readState().resources.find((r) => r.name === "disk")!;
    assert.deepStrictEqual([disk.outputs.createUnconfirmed, disk.outputs.virtualSizeBytes, disk.outputs.path], [undefined, 32 * MiB, `/dev/${VG}/${QCOW2}`]);
    assert.deepStrictEqual(await lvNames(VG), [QCOW2]);
    assert.strictEqual(await journaled(), "");
    await h.exec(`qemu-img check -q -f qcow2 /dev/${VG}/${QCOW2}`);
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program))), [], "then nothing is left to do");
    mustSucceed(await engine.destroy());
    assertNoCredential(fs.readFileSync(stateFile, "utf8"), "the state file");
    assertNoCredential(lines.join("\n"), "the plan and plugin output");
  });

  it("gives an explicit provider's connection (Configure's args, as the engine sends them) to resources that have none: Check, Create, Delete on the guest", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-explicit-"));
    // No stack config: the connection reaches the plugin only as an explicit provider's input.
    const plugin = await startSourcePlugin(pluginDir, cwd, { PULUMI_CONFIG: "{}" }, () => undefined);
    const target = { urn: "urn:pulumi:test::p::lvm:index:VolumeGroup::explicit", type: "lvm:index:VolumeGroup", name: "explicit" };
    try {
      await plugin.configure({ connection: secret(rootConnectionArgs(h)) });
      const { inputs, failures } = await plugin.check(target, {}, { name: VG, devices: [disks[0]] });
      assert.deepStrictEqual(failures, []);
      const { id, outputs } = await plugin.create(target, inputs);
      assert.strictEqual((await h.exec("vgs --noheadings -o vg_name")).split("\n").map((l) => l.trim()).includes(VG), true, "the VG is on the guest");
      assert.ok(isSecret(outputs.connection), "the connection leaves as a secret");
      await plugin.delete(target, id, outputs, inputs);
      assert.strictEqual((await h.exec("vgs --noheadings -o vg_name")).split("\n").map((l) => l.trim()).includes(VG), false, "the VG is gone");
    } finally {
      await plugin.close();
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("lets a resource's own connection win over the provider's, and keeps credentials out of its errors", async () => {
    const { engine, lines } = newEngine("plugin-own");
    const own = { ...rootConnectionArgs(h), port: 1, connectTimeoutSeconds: 5 }; // nothing listens on port 1
    const r = await engine.up(() => { lvm("VolumeGroup", "vg", { connection: pulumi.secret(own), name: VG, devices: [disks[0]] }); });
    assert.ok(!r.ok);
    const reasons = r.failures.map((f) => f.reason).join("\n");
    assert.match(reasons, /127\.0\.0\.1:1\b/, "the resource's own port was used");
    assertNoCredential(reasons, "the error");
    assertNoCredential(lines.join("\n"), "the plan and plugin output");
    assert.deepStrictEqual(engine.readState().resources, []);
  });

  it("imports a VG, a qcow2 disk and a chain snapshot made by hand with Proxmox's names, by ID alone; the next preview shows no changes", async () => {
    const dir = `/dev/${IMPORT_VG}`;
    await h.exec([
      `vgcreate -y ${IMPORT_VG} ${disks[1]} >/dev/null`,
      `lvcreate -y -Wy -L 40m -n vm-901-disk-0.qcow2 ${IMPORT_VG} >/dev/null`,
      `qemu-img create -q -f qcow2 -o cluster_size=128k,extended_l2=on,preallocation=metadata ${dir}/vm-901-disk-0.qcow2 32M`,
      `lvrename ${IMPORT_VG} vm-901-disk-0.qcow2 snap_vm-901-disk-0_before.qcow2 >/dev/null`,
      `lvcreate -y -Wy -L 40m -n vm-901-disk-0.qcow2 ${IMPORT_VG} >/dev/null`,
      `cd ${dir} && qemu-img create -q -f qcow2 -b snap_vm-901-disk-0_before.qcow2 -F qcow2 -o cluster_size=128k,extended_l2=on,preallocation=metadata vm-901-disk-0.qcow2`,
    ].join(" && "));
    const { engine, lines, stateFile } = newEngine("plugin-import");
    const at = `${h.host}:${h.port}/${IMPORT_VG}`;
    mustSucceed(await engine.import([
      { type: "lvm:index:VolumeGroup", name: "vg", id: at },
      { type: "lvm:index:VmDisk", name: "disk", id: `${at}/vm-901-disk-0.qcow2` },
      { type: "lvm:index:Snapshot", name: "before", id: `${at}/vm-901-disk-0.qcow2@before` },
    ]));

    const state = engine.readState().resources;
    const inputs = Object.fromEntries(state.map((r) => [r.name, r.inputs]));
    assert.deepStrictEqual(inputs.vg, { name: IMPORT_VG, devices: [disks[1]] });
    assert.deepStrictEqual(inputs.disk, { volumeGroup: IMPORT_VG, name: "vm-901-disk-0.qcow2", size: 32 * MiB, format: "qcow2" });
    assert.deepStrictEqual(inputs.before, { volumeGroup: IMPORT_VG, disk: "vm-901-disk-0.qcow2", name: "before", method: "chain", lvName: "snap_vm-901-disk-0_before.qcow2" });
    const snapshot = state.find((r) => r.name === "before")!;
    assert.deepStrictEqual([snapshot.id, snapshot.outputs.backingFile], [`${at}/vm-901-disk-0.qcow2@before`, "snap_vm-901-disk-0_before.qcow2"]);
    assert.ok(isSecret(snapshot.outputs.connection), "the provider's connection is in the outputs, as a secret");

    // The program `pulumi import` generates: each resource with the inputs the import returned.
    const program = () => { for (const r of state) lvm(r.type.split(":")[2], r.name, r.inputs); };
    const preview = mustSucceed(await engine.preview(program));
    assert.deepStrictEqual(changes(preview), [], "the imported inputs match what is on the host");
    assert.strictEqual(preview.steps.filter((s) => s.op === "same").length, 3);

    // An ID for another host than the provider's connection is refused, naming both, before anything is read.
    const wrong = await engine.import([{ type: "lvm:index:VolumeGroup", name: "other", id: `192.0.2.1:22/${IMPORT_VG}` }]);
    assert.match(wrong.failures.map((f) => f.reason).join("\n"), /names the host 192\.0\.2\.1:22, but the provider's connection reaches 127\.0\.0\.1:/);
    assertNoCredential(fs.readFileSync(stateFile, "utf8"), "the state file");
    assertNoCredential(lines.join("\n"), "the plan and plugin output");
  });
});
