import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Engine, Result } from "./engine/driver";
import { attachTestHost } from "./host/attach";
import { startTestHost, TestHost } from "./host/testHost";
import { diskSignatures } from "./support/guest";

/**
 * `npm run demo`: runs examples/basic, a real Pulumi program, against a disposable local test host through
 * Pulumi's own dynamic-provider plugin: preview, up, up again with a snapshot of the qcow2 disk (config
 * `snapshot`), preview again (expect no changes), refresh (expect no drift), up without the snapshot (expect it
 * deleted), destroy (expect blank disks). Shows the plan and the host's LVM state at every step, and after `up` and
 * the snapshot the host as `pulumi-lvm inspect` draws it.
 */
const REPO = path.resolve(__dirname, "..", "..");
const PROGRAM_DIR = path.join(REPO, "dist", "examples", "basic");
const QCOW2_DISK = "vm-401-disk-1.qcow2";
const SNAPSHOT_LV = "snap_vm-401-disk-1_before-upgrade.qcow2";
const CLI = path.join(REPO, "dist", "provider", "cli.js");

async function main(): Promise<number> {
  const started = Date.now();
  const attach = process.env.PULUMI_LVM_TEST_HOST;
  const host = attach
    ? attachTestHost(JSON.parse(fs.readFileSync(attach, "utf8")))
    : await startTestHost({ log: (l) => console.log(`  ${l}`) });
  const problems: string[] = [];
  try {
    const devices = host.disks.slice(0, 2);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-demo-"));
    const engine = new Engine({
      programDir: PROGRAM_DIR,
      stateFile: path.join(workDir, "state.json"),
      project: "basic",
      stack: "demo",
      config: {
        "basic:host": host.host,
        "basic:port": String(host.port),
        "basic:privateKey": { secret: host.privateKey },
        "basic:hostKey": host.hostKey,
        "basic:devices": JSON.stringify(devices),
      },
      log: (line) => console.log(`  ${line}`),
    });
    const program = () => require(path.join(PROGRAM_DIR, "index.js"));
    const expect = (ok: boolean, problem: string) => { if (!ok) problems.push(problem); };
    const changes = (r: Result) => r.steps.filter((s) => s.op !== "same");

    await showHost(host, "Before: the host's LVM state", devices);

    section("pulumi preview — what `up` would do (nothing changes on the host)");
    const preview = await engine.preview(program);
    expect(preview.ok, "the first preview failed");
    await showHost(host, "After preview: unchanged", devices);

    section("pulumi up — create it");
    const up = await engine.up(program);
    expect(up.ok, "up failed");
    await showHost(host, "After up", devices);
    const lvs = await host.exec("lvs --noheadings -o lv_name demo");
    expect(/vm-401-disk-0\b/.test(lvs) && /vm-401-disk-1\.qcow2/.test(lvs), `up did not create both disks: ${lvs}`);
    const info = await host.exec("qemu-img info --output=json /dev/demo/vm-401-disk-1.qcow2");
    console.log(`\n--- qemu-img info /dev/demo/vm-401-disk-1.qcow2 (on the host)\n${info.replace(/^/gm, "    ").trimEnd()}`);
    const inspected = await showInspect(host, "After up, as pulumi-lvm inspect draws it");
    expect(inspected.code === 0 && /├─ vm-401-disk-0 {2}raw, 256 MiB/.test(inspected.stdout) && /vm-401-disk-1\.qcow2 {2}qcow2, 512 MiB/.test(inspected.stdout),
      `inspect after up did not show both disks with no warnings (exit ${inspected.code}):\n${inspected.stdout}${inspected.stderr}`);

    section("pulumi config set snapshot before-upgrade; pulumi up — snapshot the qcow2 disk (Proxmox VE 9 volume chain)");
    engine.config["basic:snapshot"] = "before-upgrade";
    const snap = await engine.up(program);
    expect(snap.ok && changes(snap).map((s) => `${s.op} ${s.name}`).join() === "create vm-401-disk-1-snapshot",
      `the snapshot up did not create just the snapshot: ${JSON.stringify(changes(snap))}`);
    await showHost(host, "After the snapshot: the disk's LV renamed to the snapshot's name, a new overlay under the disk's name", devices);
    await showChain(host);
    const chained = await showInspect(host, "After the snapshot, as pulumi-lvm inspect draws it");
    expect(chained.code === 0 && /└─ before-upgrade \(chain\) {2}LV \d+ MiB\s+snap_vm-401-disk-1_before-upgrade\.qcow2/.test(chained.stdout),
      `inspect after the snapshot did not show it in the disk's chain (exit ${chained.code}):\n${chained.stdout}${chained.stderr}`);
    const snapLvs = await lvNames(host);
    expect(snapLvs.includes(SNAPSHOT_LV) && snapLvs.includes(QCOW2_DISK), `the snapshot's LV and the disk's overlay are not both there: ${snapLvs}`);
    const chain = await readChain(host);
    expect(chain.length === 2 && chain[0]["backing-filename"] === SNAPSHOT_LV,
      `the disk is not an overlay backed by ${SNAPSHOT_LV} (relative name): ${JSON.stringify(chain.map((i) => i["backing-filename"]))}`);
    expect(JSON.stringify(snap.outputs.snapshotLvNames) === JSON.stringify([SNAPSHOT_LV]),
      `stack output snapshotLvNames is ${JSON.stringify(snap.outputs.snapshotLvNames)}`);

    section("pulumi preview — again: the host matches the program, so no changes");
    const again = await engine.preview(program);
    expect(again.ok && changes(again).length === 0, `the second preview wanted changes: ${JSON.stringify(changes(again))}`);

    section("pulumi refresh — read the real state back: no drift");
    const refresh = await engine.refresh();
    // Drift is the host no longer matching what the program asks for (an input field, or a resource gone). Computed
    // outputs such as the VG's free space, or the disk's LV uuid (its LV is the new overlay now), move when the
    // storage changes: refresh updates them, that is not drift.
    const drift = refresh.steps.filter((s) => s.gone || (s.driftedInputs?.length ?? 0) > 0);
    expect(refresh.ok && drift.length === 0, `refresh found drift: ${JSON.stringify(drift)}`);

    section("pulumi config rm snapshot; pulumi up — delete the snapshot (the overlay is committed into it, it takes the disk's name back)");
    delete engine.config["basic:snapshot"];
    const unsnap = await engine.up(program);
    expect(unsnap.ok && changes(unsnap).map((s) => `${s.op} ${s.name}`).join() === "delete vm-401-disk-1-snapshot",
      `the up without the snapshot did not delete just the snapshot: ${JSON.stringify(changes(unsnap))}`);
    await showHost(host, "After deleting the snapshot: the disk is one LV again", devices);
    await showChain(host);
    const unsnapLvs = await lvNames(host);
    expect(!unsnapLvs.includes(SNAPSHOT_LV) && unsnapLvs.includes(QCOW2_DISK), `the snapshot's LV is still there, or the disk is gone: ${unsnapLvs}`);
    expect(JSON.stringify(unsnap.outputs.snapshotLvNames) === "[]", `stack output snapshotLvNames is ${JSON.stringify(unsnap.outputs.snapshotLvNames)}`);
    const single = await readChain(host);
    expect(single.length === 1 && single[0]["backing-filename"] === undefined,
      `the disk is not a single image again: ${JSON.stringify(single.map((i) => i["backing-filename"]))}`);

    section("pulumi destroy — remove it all");
    const destroy = await engine.destroy();
    expect(destroy.ok, "destroy failed");
    await showHost(host, "After destroy: the disks are blank again", devices);
    const sigs = await diskSignatures(host, devices);
    expect(Object.values(sigs).every((s) => s === ""), `disks are not blank after destroy: ${JSON.stringify(sigs)}`);
    fs.rmSync(workDir, { recursive: true, force: true });
  } finally {
    await host.stop();
  }
  console.log(`\nDemo took ${((Date.now() - started) / 1000).toFixed(0)} s (host boot ${host.bootSeconds.toFixed(0)} s).`);
  if (problems.length) {
    console.log(`\nDEMO FAILED:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  console.log("Demo passed: preview changed nothing, up created, inspect drew the host, a snapshot was taken and inspect showed it " +
    "in the disk's chain, the second preview and refresh were clean, the snapshot was deleted leaving a single-image disk, destroy left blank disks.");
  return 0;
}

function section(title: string): void {
  console.log(`\n=== ${title}`);
}

async function showHost(host: TestHost, title: string, devices: string[]): Promise<void> {
  const out = await host.exec(
    "echo '$ vgs'; vgs -o vg_name,pv_count,lv_count,vg_size,vg_free,vg_tags 2>&1; " +
    "echo '$ lvs'; lvs -o lv_name,vg_name,lv_size,lv_attr 2>&1; " +
    `echo '$ pvs ${devices.join(" ")}'; pvs ${devices.join(" ")} 2>&1 || true`);
  console.log(`\n--- ${title} (on the host)`);
  console.log(out.replace(/^/gm, "    ").trimEnd());
}

/** Runs the built `pulumi-lvm inspect` against the host, as a user would (`npx pulumi-lvm inspect ...`), and prints it. */
async function showInspect(host: TestHost, title: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ["inspect", `root@${host.host}:${host.port}`, "-i", path.join(host.image, "client_key"), "--host-key", host.hostKey, "--vg", "demo"];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, SSH_AUTH_SOCK: "" } },
      (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code) : 0, stdout, stderr }));
  });
  console.log(`\n--- ${title} (exit ${r.code})\n    $ npx pulumi-lvm inspect root@${host.host}:${host.port} -i client_key --host-key "ssh-ed25519 ..." --vg demo`);
  console.log(`${r.stdout}${r.stderr}`.replace(/^/gm, "    ").trimEnd());
  return r;
}

async function lvNames(host: TestHost): Promise<string[]> {
  return (await host.exec("lvs --noheadings -o lv_name demo")).split("\n").map((l) => l.trim()).filter(Boolean);
}

/** The qcow2 disk's backing chain as qemu-img prints it for people. */
async function showChain(host: TestHost): Promise<void> {
  const out = await host.exec(`qemu-img info --backing-chain --output=human /dev/demo/${QCOW2_DISK}`);
  console.log(`\n--- qemu-img info --backing-chain /dev/demo/${QCOW2_DISK} (on the host)`);
  console.log(out.replace(/^/gm, "    ").trimEnd());
}

/** The same chain as data: one entry per image, the disk first. */
async function readChain(host: TestHost): Promise<Record<string, unknown>[]> {
  return JSON.parse(await host.exec(`qemu-img info --backing-chain --output=json /dev/demo/${QCOW2_DISK}`));
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
