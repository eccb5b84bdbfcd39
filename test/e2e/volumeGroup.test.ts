import * as assert from "assert";
import * as fs from "fs";
import { VolumeGroup, VolumeGroupArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { changes, mustSucceed, testEngine } from "../support/engine";
import { diskSignatures, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/**
 * VolumeGroup the way Pulumi runs it: whole programs through Pulumi's real dynamic-provider plugin (the
 * engine driver), against the real guest. The tests in this file build on each other, like a user's stack.
 */
describe("VolumeGroup through the engine (e2e)", function () {
  const VG = "e2evg";
  let h: TestHost;
  let disks: string[];
  let args: Omit<VolumeGroupArgs, "connection">;
  const { engine, lines, stateFile } = testEngine();
  const program = () => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), ...args }); };
  const hostLvm = () => h.exec(`vgs --noheadings -o vg_name,pv_count,lv_count,vg_tags; pvs --noheadings -o pv_name,vg_name; lvs --noheadings -o lv_name,vg_name,lv_size`);
  const pvsOf = async (vg: string) => (await h.exec(`pvs --noheadings -o pv_name -S vg_name=${vg}`)).split("\n").map((s) => s.trim()).filter(Boolean).sort();
  const lastPlan = () => lines.slice(lines.map((l) => /^(Previewing|Updating|Refreshing|Destroying)/.test(l.trim())).lastIndexOf(true)).join("\n");

  before(async () => {
    h = await useTestHost();
    disks = h.disks.slice(0, 4);
    await scrubDisks(h, disks, [VG, "adoptme"]);
    args = { name: VG, devices: disks.slice(0, 2), tags: ["env=test"] };
  });
  after(async () => {
    await scrubDisks(h, disks, [VG, "adoptme"]);
    await closeAll();
  });

  it("previews a create without touching the host", async () => {
    const before = await hostLvm();
    const r = mustSucceed(await engine.preview(program));
    assert.deepStrictEqual(changes(r).map((s) => `${s.op} ${s.type} ${s.name}`), ["create lvm:VolumeGroup vg"]);
    assert.strictEqual(await hostLvm(), before);
  });

  it("creates the VG on two disks", async () => {
    const up = mustSucceed(await engine.up(program));
    // The provider stored in state is a stub that loads the installed package: small, and none of our code.
    assert.ok(up.providerBytes["lvm:VolumeGroup"] < 4096, `serialized provider is ${up.providerBytes["lvm:VolumeGroup"]} bytes`);
    const stored = JSON.stringify(engine.readState().resources[0].outputs.__provider);
    assert.match(stored, /require\(\\"pulumi-lvm\/provider\\"\)/);
    assert.doesNotMatch(stored, /vgcreate|pvcreate|ssh2/);
    assert.deepStrictEqual(await pvsOf(VG), disks.slice(0, 2));
    assert.match(await h.exec(`vgs --noheadings -o vg_tags ${VG}`), /env=test/);
    const state = fs.readFileSync(stateFile, "utf8");
    const vg = engine.readState().resources.find((r) => r.name === "vg")!;
    assert.ok(vg.id.endsWith(`/${VG}`), vg.id);
    assert.ok(!state.includes("PRIVATE KEY") && !state.includes(h.privateKey.split("\n")[1]), "the state file holds the private key in plaintext");
  });

  it("shows no changes on a second preview", async () => {
    const r = mustSucceed(await engine.preview(program));
    assert.deepStrictEqual(changes(r), []);
  });

  it("extends to three disks, after a preview that changes nothing", async () => {
    args = { ...args, devices: disks.slice(0, 3) };
    const before = await hostLvm();
    const p = mustSucceed(await engine.preview(program));
    assert.deepStrictEqual(changes(p).map((s) => [s.op, s.changedFields]), [["update", ["devices"]]]);
    assert.strictEqual(await hostLvm(), before);
    mustSucceed(await engine.up(program));
    assert.deepStrictEqual(await pvsOf(VG), disks.slice(0, 3));
  });

  it("sees an LV created outside Pulumi on refresh, and keeps its data when the disk under it is removed", async () => {
    // An LV on the first disk, filled with random data.
    const sum = await h.exec(`lvcreate -y -Wy -n outside -L 64m ${VG} ${disks[0]} >/dev/null && udevadm settle && ` +
      `dd if=/dev/urandom of=/dev/${VG}/outside bs=1M count=64 status=none conv=fsync && sha256sum < /dev/${VG}/outside`);
    const r = mustSucceed(await engine.refresh());
    assert.deepStrictEqual(changes(r).map((s) => s.op), ["read"]);
    assert.ok(changes(r)[0].changedFields.includes("lvCount"), `drift: ${changes(r)[0].changedFields}`);

    args = { ...args, devices: disks.slice(1, 3) };
    mustSucceed(await engine.up(program));
    assert.deepStrictEqual(await pvsOf(VG), disks.slice(1, 3));
    assert.strictEqual(await h.exec(`sha256sum < /dev/${VG}/outside`), sum, "the LV's data changed while its disk was removed");
    assert.deepStrictEqual(await diskSignatures(h, [disks[0]]), { [disks[0]]: "" }, "the removed disk is left blank");
  });

  it("refuses to remove a disk whose data does not fit elsewhere, before changing anything", async () => {
    // Fill the VG so the LV data on one disk cannot move to the other.
    await h.exec(`lvcreate -y -Wy -n filler -l 100%FREE ${VG} >/dev/null`);
    const before = await hostLvm();
    args = { ...args, devices: [disks[1]] };
    const r = await engine.up(program);
    assert.strictEqual(r.ok, false);
    assert.match(r.failures.map((f) => f.reason).join("\n"), /cannot remove .*do not fit in the \d+ bytes free on the remaining devices/);
    assert.strictEqual(await hostLvm(), before);
    await h.exec(`lvremove -y ${VG}/filler >/dev/null`);
    args = { ...args, devices: disks.slice(1, 3) };
  });

  it("shows PVs added outside Pulumi as drift, and puts them back on the next up", async () => {
    await h.exec(`vgextend -y ${VG} ${disks[3]} >/dev/null 2>&1`);
    mustSucceed(await engine.refresh());
    // The program's devices are unchanged but the refreshed outputs differ, so an update is planned (the engine
    // lists changed *input* fields, and there are none).
    const p = mustSucceed(await engine.preview(program));
    assert.deepStrictEqual(changes(p).map((s) => s.op), ["update"]);
    assert.deepStrictEqual(await pvsOf(VG), [...disks.slice(1, 3), disks[3]].sort());
    mustSucceed(await engine.up(program));
    assert.deepStrictEqual(await pvsOf(VG), disks.slice(1, 3));
  });

  it("updates tags in place, and shows a rename as a replace at preview", async () => {
    args = { ...args, tags: ["env=test", "owner=ci"] };
    mustSucceed(await engine.up(program));
    assert.match(await h.exec(`vgs --noheadings -o vg_tags ${VG}`), /env=test,owner=ci/);
    const p = mustSucceed(await engine.preview(() => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), ...args, name: "renamed" }); }));
    assert.deepStrictEqual(changes(p).map((s) => [s.op, s.replaceFields]), [["replace", ["name"]]]);
    assert.match(lastPlan(), /\+- replace/);
  });

  it("refuses extentSize changes at preview", async () => {
    const p = await engine.preview(() => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), ...args, extentSize: "8MiB" }); });
    assert.strictEqual(p.ok, false);
    assert.match(p.failures.map((f) => `${f.property}: ${f.reason}`).join("\n"), /extentSize: extentSize is fixed when a volume group is created/);
  });

  it("refuses to destroy while the VG holds an LV, naming it", async () => {
    const r = await engine.destroy();
    assert.strictEqual(r.ok, false);
    assert.match(r.failures.map((f) => f.reason).join("\n"), /still holds logical volumes: outside; .*forceDestroy/);
    assert.deepStrictEqual(await pvsOf(VG), disks.slice(1, 3));
  });

  it("destroys with forceDestroy, leaving blank devices", async () => {
    args = { ...args, forceDestroy: true };
    const r = mustSucceed(await engine.up(program));
    assert.deepStrictEqual(changes(r).map((s) => s.changedFields), [["forceDestroy"]]);
    mustSucceed(await engine.destroy());
    assert.doesNotMatch(await h.exec("vgs --noheadings -o vg_name"), new RegExp(VG));
    assert.deepStrictEqual(await diskSignatures(h, disks), Object.fromEntries(disks.map((d) => [d, ""])));
    assert.deepStrictEqual(engine.readState().resources, []);
  });

  it("refuses a disk that carries a filesystem unless wipeSignatures is set", async () => {
    await h.exec(`mkfs.ext4 -q -F ${disks[0]}`);
    const fresh = testEngine();
    let wipe = false;
    const prog = () => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), name: VG, devices: [disks[0]], wipeSignatures: wipe }); };
    const r = await fresh.engine.up(prog);
    assert.strictEqual(r.ok, false);
    assert.match(r.failures.map((f) => f.reason).join("\n"), new RegExp(`${disks[0]} carries a signature \\(ext4\\); set wipeSignatures: true`));
    assert.deepStrictEqual(await diskSignatures(h, [disks[0]]), { [disks[0]]: "ext4" }, "the filesystem was touched");
    wipe = true;
    mustSucceed(await fresh.engine.up(prog));
    assert.deepStrictEqual(await pvsOf(VG), [disks[0]]);
    mustSucceed(await fresh.engine.destroy());
  });

  it("adopts an existing VG with the same devices, and refuses one with other devices", async () => {
    await h.exec(`vgcreate -y adoptme ${disks[0]} ${disks[1]} >/dev/null`);
    const wrong = testEngine();
    const r = await wrong.engine.up(() => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), name: "adoptme", devices: [disks[0]], adopt: true }); });
    assert.strictEqual(r.ok, false);
    assert.match(r.failures.map((f) => f.reason).join("\n"), /exists but its devices are .* not \/dev\/\w+; nothing was changed/);

    const refused = testEngine();
    const exists = await refused.engine.up(() => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), name: "adoptme", devices: disks.slice(0, 2) }); });
    assert.match(exists.failures.map((f) => f.reason).join("\n"), /volume group adoptme already exists on this host; set adopt: true/);

    const right = testEngine();
    const adoptProgram = () => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), name: "adoptme", devices: disks.slice(0, 2), adopt: true, tags: ["adopted"] }); };
    mustSucceed(await right.engine.up(adoptProgram));
    assert.match(await h.exec("vgs --noheadings -o vg_tags adoptme"), /adopted/);
    assert.deepStrictEqual(changes(mustSucceed(await right.engine.preview(adoptProgram))), []);
    mustSucceed(await right.engine.destroy());
    assert.deepStrictEqual(await diskSignatures(h, disks.slice(0, 2)), { [disks[0]]: "", [disks[1]]: "" });
  });

  it("works for an ordinary user through sudo", async () => {
    const e = testEngine();
    const connection = { ...rootConnectionArgs(h), user: "tester", sudo: true };
    const prog = () => { new VolumeGroup("vg", { connection, name: VG, devices: [disks[3]] }); };
    mustSucceed(await e.engine.up(prog));
    assert.deepStrictEqual(await pvsOf(VG), [disks[3]]);
    assert.match(await h.exec("journalctl -q --no-pager -t sudo | tail -n 20"), /tester : .*COMMAND=\/usr\/bin\/sh -s/);
    mustSucceed(await e.engine.destroy());
    assert.deepStrictEqual(await diskSignatures(h, [disks[3]]), { [disks[3]]: "" });
  });

  it("reports a VG deleted outside Pulumi as gone on refresh", async () => {
    const e = testEngine();
    const prog = () => { new VolumeGroup("vg", { connection: rootConnectionArgs(h), name: VG, devices: [disks[2]] }); };
    mustSucceed(await e.engine.up(prog));
    await h.exec(`vgremove -y ${VG} >/dev/null && pvremove -y ${disks[2]} >/dev/null`);
    const r = mustSucceed(await e.engine.refresh());
    assert.deepStrictEqual(changes(r).map((s) => [s.op, s.gone]), [["read", true]]);
    assert.deepStrictEqual(e.engine.readState().resources, []);
    const p = mustSucceed(await e.engine.preview(prog));
    assert.deepStrictEqual(changes(p).map((s) => s.op), ["create"]);
  });
});
