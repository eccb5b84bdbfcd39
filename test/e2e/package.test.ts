import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { packedInstall } from "../engine/sourcePlugin";

/** The package as users get it: `npm pack`, installed into an empty folder, then required (one install per run). */
describe("the published package", () => {
  it("packs, installs into an empty folder and exposes the SDK, the provider, the plugin and the pulumi-lvm command", async function () {
    this.timeout(300_000);
    const installed = await packedInstall();
    const app = path.resolve(installed, "..", "..");
    const has = (f: string) => fs.existsSync(path.join(installed, f));
    assert.ok(has("dist/sdk/index.js") && has("dist/sdk/index.d.ts"), "SDK entry point and types are packed");
    assert.ok(has("dist/provider/index.js"), "the provider is packed");
    assert.ok(has("dist/provider/plugin/index.js"), "the provider plugin's entry is packed");
    assert.ok(has("dist/provider/cli.js"), "the pulumi-lvm command is packed");
    assert.ok(has("PulumiPlugin.yaml"));
    assert.ok(!has("dist/test") && !has("test"), "tests are not packed");

    const out = execFileSync("node", ["-e", `
      const lvm = require("pulumi-lvm");
      const provider = require("pulumi-lvm/provider");
      console.log(JSON.stringify({ sdk: Object.keys(lvm).sort(), kinds: Object.keys(provider.kinds).sort(),
        folder: require.resolve(require("path").dirname(require.resolve("pulumi-lvm/package.json"))) }));`],
      { cwd: app, encoding: "utf8" });
    const { sdk, kinds, folder } = JSON.parse(out);
    assert.ok(sdk.includes("VolumeGroup"), `SDK exports: ${sdk}`);
    assert.ok(kinds.includes("VolumeGroup"), `provider kinds: ${kinds}`);
    // What run-plugin require()s, the package folder, is the plugin; require("pulumi-lvm") is the SDK.
    assert.strictEqual(path.relative(installed, folder), path.join("dist", "provider", "plugin", "index.js"));

    // The command as `npx pulumi-lvm` finds it: installed on the app's PATH, runnable by itself.
    const bin = path.join(app, "node_modules", ".bin", "pulumi-lvm");
    assert.match(execFileSync(bin, ["inspect", "--help"], { encoding: "utf8" }), /^usage: pulumi-lvm inspect \[user@\]host\[:port\] \[options\]/);
    const refused = spawnSync(bin, ["inspect", "root@192.0.2.10", "--host-key", "nonsense", "--password-env", "PATH"], { encoding: "utf8" });
    assert.strictEqual(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--host-key: hostKey must be an OpenSSH public key line/);
  });
});
