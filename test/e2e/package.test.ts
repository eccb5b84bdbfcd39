import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..", "..");

/** The package as users get it: `npm pack`, installed into an empty folder, then required. */
describe("the published package", () => {
  it("packs, installs into an empty folder and exposes the SDK, the provider and the pulumi-lvm command", function () {
    this.timeout(300_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-pack-"));
    try {
      const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
      const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
      assert.ok(files.includes("dist/sdk/index.js") && files.includes("dist/sdk/index.d.ts"), "SDK entry point and types are packed");
      assert.ok(files.includes("dist/provider/index.js"), "the provider is packed");
      assert.ok(files.includes("dist/provider/cli.js"), "the pulumi-lvm command is packed");
      assert.ok(files.includes("PulumiPlugin.yaml"));
      assert.ok(!files.some((f) => f.startsWith("dist/test/") || f.startsWith("test/")), "tests are not packed");

      const app = path.join(dir, "app");
      fs.mkdirSync(app);
      fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
      execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", path.join(dir, packed[0].filename)],
        { cwd: app, stdio: "ignore" });
      const out = execFileSync("node", ["-e", `
        const lvm = require("pulumi-lvm");
        const provider = require("pulumi-lvm/provider");
        console.log(JSON.stringify({ sdk: Object.keys(lvm).sort(), kinds: Object.keys(provider.kinds).sort() }));`],
        { cwd: app, encoding: "utf8" });
      const { sdk, kinds } = JSON.parse(out);
      assert.ok(sdk.includes("VolumeGroup"), `SDK exports: ${sdk}`);
      assert.ok(kinds.includes("VolumeGroup"), `provider kinds: ${kinds}`);

      // The command as `npx pulumi-lvm` finds it: installed on the app's PATH, runnable by itself.
      const bin = path.join(app, "node_modules", ".bin", "pulumi-lvm");
      assert.match(execFileSync(bin, ["inspect", "--help"], { encoding: "utf8" }), /^usage: pulumi-lvm inspect \[user@\]host\[:port\] \[options\]/);
      const refused = spawnSync(bin, ["inspect", "root@192.0.2.10", "--host-key", "nonsense", "--password-env", "PATH"], { encoding: "utf8" });
      assert.strictEqual(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /--host-key: hostKey must be an OpenSSH public key line/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
