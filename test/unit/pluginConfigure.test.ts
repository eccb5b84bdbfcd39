import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Plugin } from "../engine/plugin";
import { startSourcePlugin } from "../engine/sourcePlugin";
import { isSecret, secret } from "../engine/values";
import { CONNECTION } from "../support/noHost";

const REPO = path.resolve(__dirname, "..", "..", "..");
const VG = { urn: "urn:pulumi:test::p::lvm:index:VolumeGroup::data", type: "lvm:index:VolumeGroup", name: "data" };

/**
 * The plugin process itself (this repository's build, started through run-plugin as the engine starts a source plugin),
 * called over gRPC as the engine calls an explicit provider (`new lvm.Provider("p", { connection })`): Configure with
 * the provider's inputs, then Check of a resource that gives no connection. No host is contacted: Check only validates.
 */
describe("an explicit provider's connection through the plugin's gRPC Configure (no host)", function () {
  this.timeout(60_000);
  let cwd: string;
  const plugins: Plugin[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const p = await startSourcePlugin(REPO, cwd, { PULUMI_CONFIG: "{}", ...env }, () => undefined);
    plugins.push(p);
    return p;
  };

  before(() => { cwd = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-configure-")); });
  after(async () => {
    for (const p of plugins) await p.close();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("gives its resources the connection of Configure's args (a secret object, as the engine sends it)", async () => {
    const plugin = await start();
    await plugin.configure({ connection: secret(CONNECTION) });
    const r = await plugin.check(VG, {}, { name: "data", devices: ["/dev/vdb"] });
    assert.deepStrictEqual(r.failures, []);
    assert.ok(isSecret(r.inputs.connection), "the connection stays secret in the inputs");
    assert.strictEqual((r.inputs.connection as { value: { host: string } }).value.host, CONNECTION.host);
  });

  it("takes Configure's connection over the stack config's, and its JSON text as well as an object", async () => {
    const plugin = await start({ PULUMI_CONFIG: JSON.stringify({ connection: JSON.stringify({ ...CONNECTION, host: "192.0.2.77" }) }) });
    await plugin.configure({ connection: JSON.stringify({ ...CONNECTION, host: "192.0.2.88" }) });
    const r = await plugin.check(VG, {}, { name: "data", devices: ["/dev/vdb"] });
    assert.strictEqual((r.inputs.connection as { value: { host: string } }).value.host, "192.0.2.88");
  });

  it("keeps the stack config's connection when Configure gives none (the default provider)", async () => {
    const plugin = await start({ PULUMI_CONFIG: JSON.stringify({ connection: JSON.stringify(CONNECTION) }) });
    await plugin.configure({});
    const r = await plugin.check(VG, {}, { name: "data", devices: ["/dev/vdb"] });
    assert.deepStrictEqual(r.failures, []);
  });

  it("refuses a resource with no connection anywhere, naming lvm:connection and the explicit provider", async () => {
    const plugin = await start();
    await plugin.configure({});
    const r = await plugin.check(VG, {}, { name: "data", devices: ["/dev/vdb"] });
    assert.deepStrictEqual(r.failures.map((f) => f.property), ["connection"]);
    assert.match(r.failures[0].reason, /lvm:connection/);
    assert.match(r.failures[0].reason, /lvm\.Provider|explicit provider/);
  });
});
