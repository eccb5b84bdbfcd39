import * as assert from "assert";
import { dynamicProvider, UNKNOWN } from "../../provider/dynamic/provider";
import { volumeGroup } from "../../provider/resources/volumeGroup";
import { CONNECTION, noHost } from "../support/noHost";

const provider = dynamicProvider(volumeGroup, noHost);
const valid = { connection: CONNECTION, name: "data", devices: ["/dev/vdb", "/dev/vdc"] };

async function failures(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
  const r = await provider.check!(olds, news);
  return (r.failures ?? []).map((f) => `${f.property}: ${f.reason}`);
}

describe("VolumeGroup check (no host is contacted)", () => {
  it("accepts valid inputs and fills defaults, parsing sizes to bytes", async () => {
    const r = await provider.check!({}, { ...valid, extentSize: "8MiB", metadataSize: "2m", tags: ["z", "a"] });
    assert.deepStrictEqual(r.failures, []);
    assert.strictEqual(r.inputs.extentSize, 8 * 2 ** 20);
    assert.strictEqual(r.inputs.metadataSize, 2 * 2 ** 20);
    assert.deepStrictEqual(r.inputs.tags, ["a", "z"]);
    assert.strictEqual(r.inputs.forceDestroy, false);
    assert.strictEqual(r.inputs.connection.port, 22);
    assert.strictEqual(r.inputs.connection.user, "root");
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["empty name", { name: "" }, /^name: volume group name must not be empty/],
    ["name with a space", { name: "my vg" }, /^name: .*only letters, digits and \+ _ \. -/],
    ["name starting with -", { name: "-vg" }, /^name: .*must not start with '-'/],
    ["name '.'", { name: "." }, /^name: .*must not be '\.' or '\.\.'/],
    ["name '..'", { name: ".." }, /^name: .*must not be '\.' or '\.\.'/],
    ["name of 128 characters", { name: "v".repeat(128) }, /^name: .*at most 127 characters/],
    ["shell metacharacters in the name", { name: "vg;rm -rf /" }, /^name: /],
    ["no devices", { devices: [] }, /^devices: at least one device is required/],
    ["a relative device", { devices: ["vdb"] }, /^devices\.0: a device must be an absolute path/],
    ["a device with a space", { devices: ["/dev/vd b"] }, /^devices\.0: a device must be an absolute path/],
    ["a device with ..", { devices: ["/dev/../etc/passwd"] }, /^devices\.0: a device path must not contain '\.\.'/],
    ["a device with a trailing slash", { devices: ["/dev/vdb/"] }, /^devices\.0: /],
    ["a duplicate device", { devices: ["/dev/vdb", "/dev/vdb"] }, /^devices: device \/dev\/vdb is listed twice/],
    ["devices not a list", { devices: "/dev/vdb" }, /^devices: /],
    ["a size that is not a size", { extentSize: "four megs" }, /^extentSize: not a size/],
    ["an extent size that is not a power of two", { extentSize: "3MiB" }, /^extentSize: extentSize must be a power of two/],
    ["an extent size under 1KiB", { extentSize: 512 }, /^extentSize: extentSize must be a power of two of at least 1KiB/],
    ["a negative size", { metadataSize: -1 }, /^metadataSize: not a size/],
    ["a tiny metadata size", { metadataSize: "4k" }, /^metadataSize: metadataSize must be at least 512KiB/],
    ["an empty tag", { tags: [""] }, /^tags\.0: a tag must not be empty/],
    ["a tag with a space", { tags: ["a b"] }, /^tags\.0: a tag may contain only/],
    ["a tag starting with -", { tags: ["-x"] }, /^tags\.0: a tag must not start with '-'/],
    ["a duplicate tag", { tags: ["a", "a"] }, /^tags: tag 'a' is listed twice/],
    ["a wipeSignatures that is not a boolean", { wipeSignatures: "yes" }, /^wipeSignatures: /],
    ["an unknown field", { devics: ["/dev/vdb"] }, /devics/],
    ["a missing connection", { connection: undefined }, /^connection: /],
    ["a connection without a host", { connection: { ...CONNECTION, host: undefined } }, /^connection\.host: /],
    ["a bad port", { connection: { ...CONNECTION, port: 70000 } }, /^connection\.port: port must be an integer between 1 and 65535/],
    ["a bad host key", { connection: { ...CONNECTION, hostKey: "not a key" } }, /^connection\.hostKey: hostKey must be an OpenSSH public key line/],
  ];
  for (const [what, change, expected] of cases) {
    it(`refuses ${what}`, async () => {
      const found = await failures({ ...valid, ...change });
      assert.ok(found.some((f) => expected.test(f)), `expected ${expected} in ${JSON.stringify(found)}`);
    });
  }

  it("refuses changing extentSize or metadataSize of an existing VG, at preview", async () => {
    const olds = { ...valid, extentSize: "4MiB", metadataSize: "1MiB" };
    const found = await failures({ ...valid, extentSize: "8MiB", metadataSize: "2MiB" }, olds);
    assert.ok(found.some((f) => /^extentSize: extentSize is fixed when a volume group is created/.test(f)), String(found));
    assert.ok(found.some((f) => /^metadataSize: metadataSize is fixed/.test(f)), String(found));
    assert.deepStrictEqual(await failures({ ...valid, name: "other", extentSize: "8MiB" }, olds), [], "a rename replaces, so any extent size is fine");
  });

  it("never puts a secret in a failure", async () => {
    const found = await failures({ ...valid, name: "", connection: { ...CONNECTION, port: "x" } });
    assert.ok(found.length >= 2);
    assert.ok(!found.join("\n").includes("secret-key-material"));
  });

  it("lets unknown values through at preview without failing on them", async () => {
    const r = await provider.check!({}, { ...valid, name: UNKNOWN, devices: [UNKNOWN, "/dev/vdc"], connection: { ...CONNECTION, port: UNKNOWN } });
    assert.deepStrictEqual(r.failures, []);
    const bad = await failures({ ...valid, name: UNKNOWN, devices: ["relative"] });
    assert.ok(bad.some((f) => f.startsWith("devices.0:")), "known values are still checked");
  });

  it("refuses to create, update or delete with invalid inputs, before any host is contacted", async () => {
    await assert.rejects(provider.create({ ...valid, name: "bad name" }), /invalid VolumeGroup inputs:\n {2}name: /);
    await assert.rejects(provider.update!("id", { ...valid, pvs: [] }, { ...valid, devices: [] }), /devices: at least one device/);
  });
});

describe("VolumeGroup diff and state-only updates", () => {
  const olds = { ...valid, connection: { ...CONNECTION, port: 22, user: "root" }, tags: [], wipeSignatures: false, adopt: false, forceDestroy: false, pvs: [], uuid: "u" };

  it("replaces on a new name, deleting first (the devices are shared)", async () => {
    const d = await provider.diff!("id", olds, { ...olds, name: "other" });
    assert.deepStrictEqual([d.changes, d.replaces, d.deleteBeforeReplace], [true, ["name"], true]);
  });

  it("updates in place for devices and tags", async () => {
    const d = await provider.diff!("id", olds, { ...olds, devices: ["/dev/vdb"], tags: ["x"] });
    assert.deepStrictEqual([d.changes, d.replaces, d.deleteBeforeReplace], [true, [], false]);
  });

  it("replaces when the target host changes, but not for other connection changes", async () => {
    const moved = await provider.diff!("id", olds, { ...olds, connection: { ...olds.connection, host: "192.0.2.11" } });
    assert.deepStrictEqual(moved.replaces, ["connection"]);
    assert.strictEqual(moved.deleteBeforeReplace, false, "on another host the new VG needs nothing the old one holds");
    const rekeyed = await provider.diff!("id", olds, { ...olds, connection: { ...olds.connection, user: "admin", sudo: true } });
    assert.deepStrictEqual([rekeyed.changes, rekeyed.replaces], [true, []]);
  });

  it("reports no change for identical inputs", async () => {
    const d = await provider.diff!("id", olds, { ...olds });
    assert.strictEqual(d.changes, false);
  });

  it("records connection and forceDestroy changes without touching the host", async () => {
    const news = { ...olds, connection: { ...olds.connection, user: "admin" }, forceDestroy: true };
    const r = await provider.update!("id", olds, news);
    assert.strictEqual(r.outs.forceDestroy, true);
    assert.strictEqual(r.outs.connection.user, "admin");
    assert.strictEqual(r.outs.uuid, "u", "computed outputs are kept");
  });

  it("scrubs secrets from errors raised while operating", async () => {
    const leaky = dynamicProvider(volumeGroup, () => { throw new Error(`cannot use key ${CONNECTION.privateKey}`); });
    await assert.rejects(leaky.delete!("id", olds), (e: Error) => !e.message.includes("secret-key-material") && /\[secret\]/.test(e.message));
  });
});

describe("VolumeGroup preflight", () => {
  it("names the missing tool and its package, and sends no operation", async () => {
    const sent: string[] = [];
    const host = {
      target: "root@192.0.2.10:22",
      run: async (s: { operation: string }) => { sent.push(s.operation); return { sections: {}, stderr: "" }; },
      capabilities: async () => ({
        target: "root@192.0.2.10:22", uid: 0, sudo: false, qcow2ExtendedL2: true,
        tools: { lvm: false, "qemu-img": true, flock: true, blkid: true, wipefs: true, blkdiscard: true, udevadm: true },
      }),
    };
    const p = dynamicProvider(volumeGroup, () => host as never);
    await assert.rejects(p.create(valid), /lvm is not installed on root@192\.0\.2\.10:22: apt-get install lvm2/);
    assert.deepStrictEqual(sent, []);
  });
});
