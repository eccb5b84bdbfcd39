import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { TestHost } from "../host/testHost";
import { npm, packedTarball } from "../engine/sourcePlugin";
import { scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";
import { readmeBlock } from "../support/readme";
import { NODE_LINES, nodeBinary } from "../support/nodeLines";

const FIXTURE = path.resolve(__dirname, "..", "..", "..", "test", "fixtures", "user-project");
const TSC = require.resolve("typescript/bin/tsc");
const RUNNER = path.resolve(__dirname, "..", "support", "userStack.js");

/** The tsconfig.json `pulumi new typescript` writes (Pulumi's TypeScript template): strict, no skipLibCheck. */
const PULUMI_TEMPLATE_TSCONFIG = {
  compilerOptions: {
    strict: true, outDir: "bin", target: "es2020", module: "commonjs", moduleResolution: "node", sourceMap: true,
    experimentalDecorators: true, pretty: true, noFallthroughCasesInSwitch: true, noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
  },
  files: ["index.ts", "allKinds.ts", "quickStart.ts"],
};

const run = promisify(execFile);
const compile = async (dir: string) => {
  const r = await run(process.execPath, [TSC, "-p", dir, "--pretty", "false"], { encoding: "utf8" }).catch((e: { stdout: string }) => e);
  return r.stdout.trim();
};

/**
 * pulumi-lvm as a user adds it to a project of their own, outside this repository: the release tarball installed
 * beside the newest @pulumi/pulumi 3.x, the program compiled as Pulumi compiles it, then an up, a preview and a
 * destroy of a VG, a qcow2 disk and a chain snapshot under each supported Node line.
 */
describe("a user's own project (e2e)", function () {
  let h: TestHost;
  let project: string;
  let devices: string[];
  const VG = "userproj";

  before(async function () {
    this.timeout(900_000);
    h = await useTestHost();
    devices = [h.disks[0]];
    await scrubDisks(h, devices, [VG]);
    project = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-user-project-"));
    await npm(["init", "-y"], project);
    // The user's own @pulumi/pulumi first, the newest 3.x, then pulumi-lvm from its release tarball.
    await npm(["install", "--prefer-offline", "@pulumi/pulumi@^3", "@types/node@^22"], project);
    await npm(["install", "--prefer-offline", await packedTarball()], project);
    for (const f of ["index.ts", "allKinds.ts"]) fs.copyFileSync(path.join(FIXTURE, f), path.join(project, f));
    fs.writeFileSync(path.join(project, "quickStart.ts"), readmeBlock("quick-start-ts")); // as a user pastes it
  });
  after(async () => {
    if (h) await scrubDisks(h, devices, [VG]);
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  it("installs with the user's @pulumi/pulumi as the only copy", () => {
    const copies: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (!e.isDirectory()) continue;
        if (p.endsWith(path.join("@pulumi", "pulumi")) && fs.existsSync(path.join(p, "package.json"))) copies.push(p);
        walk(p);
      }
    };
    walk(path.join(project, "node_modules"));
    assert.deepStrictEqual(copies.map((c) => path.relative(project, c)), [path.join("node_modules", "@pulumi", "pulumi")]);
    const pkg = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    assert.match(pkg.dependencies["pulumi-lvm"], /pulumi-lvm-0\.2\.0\.tgz$/);
  });

  it("compiles a program using every kind, and the README's quick start as pasted, under Pulumi's template tsconfig and under tsc --init's defaults", async function () {
    this.timeout(300_000);
    fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(PULUMI_TEMPLATE_TSCONFIG, null, 2));
    assert.strictEqual(await compile(project), "", "Pulumi's template tsconfig compiles the program");
    assert.ok(fs.existsSync(path.join(project, "bin", "index.js")));
    // A compiler that accepts anything would pass too: a wrong input value in the same setting must fail.
    fs.writeFileSync(path.join(project, "quickStart.ts"), readmeBlock("quick-start-ts").replace('format: "qcow2"', 'format: "qcow3"'));
    assert.match(await compile(project), /quickStart\.ts.*"qcow3"/s);
    fs.writeFileSync(path.join(project, "quickStart.ts"), readmeBlock("quick-start-ts"));

    // tsc --init's defaults (module nodenext, verbatimModuleSyntax, exactOptionalPropertyTypes...) make an ES module project.
    const esm = path.join(project, "esm");
    fs.mkdirSync(esm);
    for (const f of PULUMI_TEMPLATE_TSCONFIG.files) fs.copyFileSync(path.join(project, f), path.join(esm, f));
    fs.writeFileSync(path.join(esm, "package.json"), JSON.stringify({ name: "esm", private: true, type: "module" }));
    await run(process.execPath, [TSC, "--init"], { cwd: esm });
    assert.strictEqual(await compile(esm), "", "tsc --init's tsconfig compiles the program");
  });

  for (const line of NODE_LINES) {
    it(`runs an up, a preview and a destroy of a VG, a qcow2 disk and a chain snapshot under Node ${line}`, async function () {
      this.timeout(900_000);
      const node = nodeBinary(line);
      await scrubDisks(h, devices, [VG]); // whatever an earlier line's failure left
      const config = {
        "user-project:host": h.host, "user-project:port": String(h.port), "user-project:hostKey": h.hostKey,
        "user-project:privateKey": { secret: h.privateKey }, "user-project:vgName": VG,
        "user-project:devices": JSON.stringify(devices),
      };
      const operation = async (op: string) => {
        const r = await run(node, [RUNNER, project, `state-node${line}.json`, op], { encoding: "utf8", env: { ...process.env, USER_STACK_CONFIG: JSON.stringify(config) }, maxBuffer: 64 << 20 })
          .catch((e: { stdout: string; stderr: string }) => { throw new Error(`${op} under Node ${line} crashed:\n${e.stderr}`); });
        const result = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ok: boolean; node: string; failures: unknown[]; changes: string[] };
        assert.ok(result.ok, `${op} under Node ${line} failed: ${JSON.stringify(result.failures)}`);
        assert.strictEqual(result.node.split(".")[0], `v${line}`);
        return result.changes;
      };
      const lvs = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG} 2>/dev/null || true`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();

      const created = (await operation("up")).filter((c) => c.startsWith("create ")).map((c) => c.replace(/^create (?:\S*[:/])?(\S+) /, "$1 "));
      assert.deepStrictEqual(created.sort(),
        ["Snapshot before-tests", "VmDisk vm-501-disk-0", "VolumeGroup data"]);
      assert.deepStrictEqual(await lvs(), ["snap_vm-501-disk-0_before-tests.qcow2", "vm-501-disk-0.qcow2"]);
      assert.match(await h.exec(`qemu-img info --output=json /dev/${VG}/vm-501-disk-0.qcow2`), /"backing-filename": "snap_vm-501-disk-0_before-tests.qcow2"/);
      assert.deepStrictEqual(await operation("preview"), [], "a second preview has nothing to do");
      await operation("destroy");
      assert.strictEqual((await h.exec("vgs --noheadings -o vg_name")).split("\n").some((l) => l.trim() === VG), false, "the VG is gone");
    });
  }
});
