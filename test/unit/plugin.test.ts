import * as assert from "assert";
import { providerConfig } from "../../provider/plugin/config";
import { pluginProvider } from "../../provider/plugin/provider";
import { Connection } from "../../provider/ssh";
import { secret, isSecret } from "../engine/values";
import { CONNECTION, noHost } from "../support/noHost";

const URN = (type: string) => `urn:pulumi:test::p::lvm:index:${type}::r`;
const VG = { name: "data", devices: ["/dev/vdb"] };

/** The plugin face over the shared glue, without a host: secrets in and out, the provider's connection, routing. */
describe("provider plugin (no host contacted)", () => {
  const plugin = pluginProvider("0.1.0", { connection: CONNECTION }, noHost);

  it("takes secrets wrapped, validates the plain values, and hands the connection back as a secret", async () => {
    const r = await plugin.check!(URN("VolumeGroup"), {}, { ...VG, connection: secret(CONNECTION) });
    assert.deepStrictEqual(r.failures, []);
    assert.ok(isSecret(r.inputs.connection));
    assert.strictEqual((r.inputs.connection as { value: Connection }).value.port, 22, "defaults filled in, inside the secret");
  });

  it("fills in the provider's connection where a resource gives none, and a resource's own wins", async () => {
    const fromProvider = await plugin.check!(URN("VmDisk"), {}, { volumeGroup: "data", name: "vm-1", size: "1GiB" });
    assert.strictEqual((fromProvider.inputs.connection as { value: Connection }).value.host, CONNECTION.host);
    const own = await plugin.check!(URN("VmDisk"), {}, { volumeGroup: "data", name: "vm-1", size: "1GiB", connection: { ...CONNECTION, host: "192.0.2.99" } });
    assert.strictEqual((own.inputs.connection as { value: Connection }).value.host, "192.0.2.99");
  });

  it("names the missing connection when neither the resource nor the provider has one", async () => {
    const bare = pluginProvider("0.1.0", {}, noHost);
    const r = await bare.check!(URN("VolumeGroup"), {}, VG);
    assert.deepStrictEqual(r.failures?.map((f) => f.property), ["connection"]);
  });

  it("serves each kind by the type in the URN (a parent's type qualifying it too), and refuses others", async () => {
    const nested = await plugin.check!("urn:pulumi:test::p::my:Component$lvm:index:Snapshot::s", {}, { volumeGroup: "data", disk: "vm-1.qcow2", name: "s1" });
    assert.deepStrictEqual(nested.failures, []);
    await assert.rejects(plugin.check!(URN("Nope"), {}, {}), /the lvm provider has no resource type "lvm:index:Nope"/);
  });

  it("diffs through the glue: the provider's connection counts as the resource's; a change of its host replaces", async () => {
    const olds = (await plugin.check!(URN("VolumeGroup"), {}, VG)).inputs; // what create got, and echoed as outputs
    const same = await plugin.diff!("id", URN("VolumeGroup"), olds, (await plugin.check!(URN("VolumeGroup"), olds, VG)).inputs);
    assert.deepStrictEqual([same.changes, same.replaces], [false, []]);
    const moved = pluginProvider("0.1.0", { connection: { ...CONNECTION, host: "192.0.2.11" } }, noHost);
    const news = (await moved.check!(URN("VolumeGroup"), olds, VG)).inputs;
    const diff = await moved.diff!("id", URN("VolumeGroup"), olds, news);
    assert.deepStrictEqual([diff.changes, diff.replaces], [true, ["connection"]]);
  });

  it("refuses an import ID for another host than the provider's, naming both, before any host is contacted", async () => {
    await assert.rejects(plugin.read!("192.0.2.1:22/data", URN("VolumeGroup"), {}),
      /import ID "192\.0\.2\.1:22\/data" names the host 192\.0\.2\.1:22, but the provider's connection reaches 192\.0\.2\.10:22/);
    await assert.rejects(plugin.read!("192.0.2.10:22/data/vm-1@s", URN("Rollback"), {}), /Rollback cannot be imported/);
    await assert.rejects(pluginProvider("0.1.0", {}, noHost).read!("192.0.2.10:22/data", URN("VolumeGroup"), {}), /set lvm:connection in the stack config, or give an explicit provider its connection/);
  });

  it("reads lvm:connection from PULUMI_CONFIG as the engine passes it (bare names, object values as JSON text), never echoing it", () => {
    const text = JSON.stringify(CONNECTION);
    assert.deepStrictEqual(providerConfig({ PULUMI_CONFIG: JSON.stringify({ connection: text }) }), { connection: CONNECTION });
    assert.deepStrictEqual(providerConfig({ PULUMI_CONFIG: JSON.stringify({ "lvm:connection": text }) }), { connection: CONNECTION });
    assert.deepStrictEqual(providerConfig({}), {});
    assert.deepStrictEqual(providerConfig({ PULUMI_CONFIG: "{}" }), { connection: undefined });
    assert.throws(() => providerConfig({ PULUMI_CONFIG: JSON.stringify({ connection: "secret-key-material" }) }),
      (e: Error) => /lvm:connection must be an object/.test(e.message) && !e.message.includes("secret-key-material"));
  });
});
