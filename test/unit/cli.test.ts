// The `pulumi-lvm` command itself, run as a user runs it: node on the built file, its output and exit code.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

const CLI = path.join(__dirname, "..", "..", "provider", "cli.js");
const { version } = require("../../../package.json") as { version: string };

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("pulumi-lvm (the command)", function () {
  this.timeout(60_000); // each case starts node, several seconds on a busy machine
  it("--version prints the package's version and exits 0", () => {
    assert.match(version, /^\d+\.\d+\.\d+/);
    assert.deepStrictEqual(run("--version"), { code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("--help, -h and help list every command, one line each, and exit 0", () => {
    for (const flag of ["--help", "-h", "help"]) {
      const r = run(flag);
      assert.deepStrictEqual([r.code, r.stderr], [0, ""], flag);
      assert.match(r.stdout, /^usage: pulumi-lvm <command> \[options\]\n/, flag);
      for (const command of ["inspect", "--version", "--help"]) {
        assert.strictEqual(r.stdout.split("\n").filter((l) => l.startsWith(`  ${command} `)).length, 1, `${flag}: one line for ${command}`);
      }
    }
  });

  it("no command, or an unknown one, prints the usage on stderr and exits 2", () => {
    const bare = run();
    assert.deepStrictEqual([bare.code, bare.stdout], [2, ""]);
    assert.match(bare.stderr, /^usage: pulumi-lvm <command>/);
    const unknown = run("inspekt");
    assert.deepStrictEqual([unknown.code, unknown.stdout], [2, ""]);
    assert.match(unknown.stderr, /^pulumi-lvm: unknown command "inspekt"\nusage: pulumi-lvm <command>/);
  });

  it("inspect --help prints inspect's own options", () => {
    const r = run("inspect", "--help");
    assert.deepStrictEqual([r.code, r.stderr], [0, ""]);
    assert.match(r.stdout, /--identity FILE/);
  });
});
