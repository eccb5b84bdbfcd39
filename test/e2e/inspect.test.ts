import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fingerprint, parsePublicKeyLine } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";
import { acceptedLogins, countScripts, scriptsStarted, stopCountingScripts } from "../support/sshTraffic";

const MiB = 1024 * 1024;
const CLI = path.resolve(__dirname, "..", "..", "provider", "cli.js");

/**
 * `pulumi-lvm inspect` as a user runs it (the built command, in its own process) against the real guest, checked
 * there with lvs, qemu-img and sshd's own log. The guest gets what the issue describes: a VG with a raw disk and a
 * thick snapshot, a qcow2 disk with a three-snapshot Proxmox chain, and an unrelated LV; and thin storage: a small thin
 * pool with ThinPool's guards, a thin raw disk in it and two thin snapshots of that disk, taken as the provider takes
 * them (read-only, activation-skip). All made with plain LVM and qemu-img commands.
 */
describe("pulumi-lvm inspect (e2e)", function () {
  const VG = "inspectvg";
  const RAW = "vm-601-disk-0";
  const QCOW2 = "vm-602-disk-0.qcow2";
  const snapLv = (id: string) => `snap_vm-602-disk-0_${id}.qcow2`;
  const POOL = "pool0";
  const THIN = "vm-701-disk-0";
  /** The pid of a process holding the raw disk open (so LVM defers a merge). */
  const HOLDER = "/run/inspect-e2e-holder";
  let h: TestHost;
  let pvs: string[];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "inspect-e2e-"));
  const keyFile = path.join(tmp, "client_key");

  /** Runs the command; resolves with its exit code and output (it never rejects on a non-zero exit). */
  const inspect = (args: string[], opts: { hostKey?: boolean } = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const connection = [`root@${h.host}:${h.port}`, "-i", keyFile, ...(opts.hostKey === false ? [] : ["--host-key", h.hostKey])];
      execFile(process.execPath, [CLI, "inspect", ...connection, ...args], { env: { ...process.env, NO_COLOR: "1", SSH_AUTH_SOCK: "" } },
        (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code) : 0, stdout, stderr }));
    });
  const onHost = (command: string) => h.exec(command).then((s) => s.trim());
  const logins = () => acceptedLogins(h);
  const execs = () => scriptsStarted(h);
  /** The VG's block of the tree: from its line to the blank line after it. */
  const vgBlock = (stdout: string) => stdout.slice(stdout.indexOf(`VG ${VG} `)).split("\n\n")[0];

  before(async () => {
    h = await useTestHost();
    fs.writeFileSync(keyFile, h.privateKey, { mode: 0o600 });
    pvs = [h.disks[0], h.disks[1]];
    await scrubDisks(h, pvs, [VG]);
    await h.exec(`set -e
vgcreate -qy ${VG} ${pvs.join(" ")} >/dev/null
lvcreate -qy -Wy -L 64M -n ${RAW} --addtag pulumi-lvm/format=raw --addtag web ${VG} >/dev/null
lvcreate -qy -s -L 8M -n snap_${RAW}_golden --addtag pulumi-lvm/snapshot=golden ${VG}/${RAW} >/dev/null
lvcreate -qy -Wy -L 36M -n ${QCOW2} --addtag pulumi-lvm/format=qcow2 ${VG} >/dev/null
udevadm settle
qemu-img create -q -f qcow2 -o cluster_size=131072,extended_l2=on,preallocation=metadata /dev/${VG}/${QCOW2} 32M
for s in s1 s2 s3; do
  lvrename -q ${VG} ${QCOW2} snap_vm-602-disk-0_$s.qcow2 >/dev/null
  lvcreate -qy -Wy -L 36M -n ${QCOW2} --addtag pulumi-lvm/format=qcow2 ${VG} >/dev/null
  udevadm settle
  qemu-img create -q -f qcow2 -b snap_vm-602-disk-0_$s.qcow2 -F qcow2 -o cluster_size=131072,extended_l2=on,preallocation=metadata /dev/${VG}/${QCOW2} 32M
done
lvcreate -qy -Wy -L 16M -n scratch ${VG} >/dev/null
dd if=/dev/urandom of=/dev/${VG}/${RAW} bs=1M count=2 oflag=direct status=none
lvcreate -qy --type thin-pool -L 64M --poolmetadatasize 4M -n ${POOL} --addtag pulumi-lvm/thin-refuse-above=90 --addtag pulumi-lvm/thin-max-over-commit=5 ${VG} >/dev/null
lvcreate -qy -V 96M --thinpool ${VG}/${POOL} -n ${THIN} --addtag pulumi-lvm/format=raw ${VG} >/dev/null
dd if=/dev/urandom of=/dev/${VG}/${THIN} bs=1M count=8 oflag=direct status=none
for s in s1 s2; do
  lvcreate -qy --snapshot --permission r --setactivationskip y -n snap_${THIN}_$s --addtag pulumi-lvm/snapshot=$s -- ${VG}/${THIN} >/dev/null
done`);
    await countScripts(h);
  });
  after(async () => {
    if (h) {
      await stopCountingScripts(h);
      await h.exec(`if [ -f ${HOLDER} ]; then kill "$(cat ${HOLDER})" || true; rm -f ${HOLDER}; fi`);
      await scrubDisks(h, pvs, [VG]);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("draws the VG: the pool, the raw disk with its thick snapshot, the chain newest first, the thin disk with its thin snapshots, the unrelated LV apart; one connection, two execs", async () => {
    const [loginsBefore, execsBefore] = [await logins(), await execs()];
    const r = await inspect(["--vg", VG]);
    const [loginsAfter, execsAfter] = [await logins(), await execs()];
    assert.strictEqual(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`^root@127\\.0\\.0\\.1:${h.port}  \\(test-host\\)  LVM 2\\.\\d+\\.\\d+  qemu-img \\d+\\.\\d+\\.\\d+\\n`));
    const lines = vgBlock(r.stdout).split("\n");
    const expected = [
      /^VG inspectvg {2}7\.99 GiB, 7\.\d+ GiB free {2}\[█?░+\] \d+(\.\d+)?% used$/,
      /^├─ PV \/dev\/vdb {2}4 GiB, 3\.\d+ GiB free$/,
      /^├─ PV \/dev\/vdc {2}4 GiB, 3\.99 GiB free$/,
      /^├─ pool0 {2}thin pool, 64 MiB \(metadata 4 MiB\)$/,
      /^│ {2}├─ data \[█░{9}\] 12\.5% {2}metadata \[█?░+\] \d+(\.\d)?%$/,
      /^│ {2}├─ 3 thin LVs, 288 MiB virtual: 4\.5x over-commit$/,
      /^│ {2}└─ limits: refuse new thin LVs above 90% full or 5x over-commit$/,
      /^├─ vm-601-disk-0 {2}raw, 64 MiB {2}active {2}tags: web$/,
      /^│ {2}└─ golden \(thick\) {2}8 MiB {2}\[█*░*\] \d+(\.\d+)?% {2}snap_vm-601-disk-0_golden$/,
      /^├─ vm-602-disk-0\.qcow2 {2}qcow2, 32 MiB \(LV 36 MiB\) {2}active$/,
      /^│ {2}├─ s3 \(chain\) {2}LV 36 MiB {2}snap_vm-602-disk-0_s3\.qcow2$/,
      /^│ {2}├─ s2 \(chain\) {2}LV 36 MiB {2}snap_vm-602-disk-0_s2\.qcow2$/,
      /^│ {2}└─ s1 \(chain\) {2}LV 36 MiB {2}snap_vm-602-disk-0_s1\.qcow2$/,
      /^├─ vm-701-disk-0 {2}raw, 96 MiB {2}thin in pool0, 8\.3% allocated {2}active$/,
      /^│ {2}├─ s1 \(thin\) {2}96 MiB {2}inactive {2}activation-skip {2}snap_vm-701-disk-0_s1$/,
      /^│ {2}└─ s2 \(thin\) {2}96 MiB {2}inactive {2}activation-skip {2}snap_vm-701-disk-0_s2$/,
      /^└─ other LVs \(not VM disks\)$/,
      /^ {3}└─ scratch {2}16 MiB {2}-wi-a----- {2}active$/,
    ];
    assert.strictEqual(lines.length, expected.length, lines.join("\n"));
    lines.forEach((line, i) => assert.match(line, expected[i]));
    assert.match(r.stdout, /\nNo warnings\.\n$/);
    assert.ok(r.stdout.split("\n").every((l) => [...l].length <= 80), "fits 80 columns");
    assert.strictEqual(loginsAfter - loginsBefore, 1, "sshd accepted one login");
    assert.strictEqual(execsAfter - execsBefore, 2, "two scripts: the preflight and the read");
  });

  it("--json parses and matches lvs, vgs, qemu-img info and qemu-img measure on the host", async () => {
    const r = await inspect(["--json"]);
    const model = JSON.parse(r.stdout);
    assert.strictEqual(r.code, model.warnings.length > 0 ? 1 : 0, r.stderr);
    const vg = model.volumeGroups.find((v: { name: string }) => v.name === VG);
    assert.ok(vg, `no ${VG} in ${model.volumeGroups.map((v: { name: string }) => v.name)}`);

    const [vgRow] = JSON.parse(await onHost(`vgs --reportformat json --units b --nosuffix -o vg_size,vg_free ${VG}`)).report[0].vg;
    assert.deepStrictEqual([vg.sizeBytes, vg.freeBytes], [Number(vgRow.vg_size), Number(vgRow.vg_free)]);
    const lvRows: Array<Record<string, string>> = JSON.parse(await onHost(`lvs --reportformat json --units b --nosuffix ` +
      `-o lv_name,lv_size,lv_attr,lv_tags,snap_percent,pool_lv,data_percent,metadata_percent,lv_metadata_size ${VG}`)).report[0].lv;
    // Every LV of the VG appears exactly once in the model, with LVM's own size, attributes and fill.
    type Shown = { lvName: string; sizeBytes: number; attr?: string; usedPercent?: number; allocatedPercent?: number; dataPercent?: number };
    const seen = new Map<string, Shown>();
    const add = (lv: Shown) => {
      assert.ok(!seen.has(lv.lvName), `${lv.lvName} shown twice`);
      seen.set(lv.lvName, lv);
    };
    vg.thinPools.forEach(add);
    for (const lv of [...vg.disks, ...vg.otherLvs]) {
      add(lv);
      lv.thickSnapshots.forEach(add);
      lv.thinSnapshots.forEach(add);
      (lv.chain ?? []).forEach(add);
    }
    assert.deepStrictEqual([...seen.keys()].sort(), lvRows.map((l) => l.lv_name).sort());
    for (const row of lvRows) {
      const lv = seen.get(row.lv_name)!;
      assert.strictEqual(lv.sizeBytes, Number(row.lv_size), row.lv_name);
      if (lv.attr !== undefined) assert.strictEqual(lv.attr, row.lv_attr, row.lv_name);
      const fill = row.lv_attr.startsWith("s") ? lv.usedPercent : row.lv_attr.startsWith("t") ? lv.dataPercent : lv.allocatedPercent;
      assert.strictEqual(fill, row.data_percent ? Number(row.data_percent) : undefined, row.lv_name);
    }
    const poolRow = lvRows.find((l) => l.lv_name === POOL)!;
    assert.deepStrictEqual(vg.thinPools.map((p: Record<string, unknown>) => [p.lvName, p.metadataSizeBytes, p.metadataPercent, p.thinLvCount,
      p.virtualSizeBytes, p.refuseAbovePercent, p.maxOverCommit]),
    [[POOL, Number(poolRow.lv_metadata_size), Number(poolRow.metadata_percent), 3, 3 * 96 * MiB, 90, 5]]);
    const thin = vg.disks.find((d: { lvName: string }) => d.lvName === THIN);
    assert.deepStrictEqual([thin.thinPool, thin.thinSnapshots.map((s: { name: string; activationSkip: boolean }) => [s.name, s.activationSkip])],
      [POOL, [["s1", true], ["s2", true]]]);
    const raw = vg.disks.find((d: { lvName: string }) => d.lvName === RAW);
    assert.deepStrictEqual([raw.format, raw.tags, raw.thickSnapshots[0].name, raw.thickSnapshots[0].valid],
      ["raw", ["pulumi-lvm/format=raw", "web"], "golden", true]);

    const chain: Array<Record<string, unknown>> = JSON.parse(await onHost(`qemu-img info --output=json -U --backing-chain /dev/${VG}/${QCOW2}`));
    const disk = vg.disks.find((d: { lvName: string }) => d.lvName === QCOW2);
    assert.deepStrictEqual([QCOW2, ...disk.chain.map((s: { lvName: string }) => s.lvName)], chain.map((i) => String(i.filename).slice(`/dev/${VG}/`.length)));
    assert.deepStrictEqual(disk.chain.map((s: { name: string }) => s.name), ["s3", "s2", "s1"]);
    assert.deepStrictEqual([disk.virtualSizeBytes, ...disk.chain.map((s: { virtualSizeBytes: number }) => s.virtualSizeBytes)], chain.map((i) => i["virtual-size"]));
    assert.strictEqual(disk.image.backingFile, chain[0]["backing-filename"]);
    const measure = JSON.parse(await onHost(`qemu-img measure --output=json --size ${32 * MiB} -O qcow2 -o cluster_size=131072,extended_l2=on`));
    assert.strictEqual(disk.fullyAllocatedBytes, measure["fully-allocated"]);
    assert.deepStrictEqual(vg.otherLvs.map((l: { lvName: string }) => l.lvName), ["scratch"]);
    assert.deepStrictEqual(model.warnings.filter((w: { subject: string }) => w.subject.startsWith(VG)), []);
  });

  it("overfilling the thick snapshot turns it INVALID, with a warning saying what to do, and exit code 1", async () => {
    await h.exec(`dd if=/dev/urandom of=/dev/${VG}/${RAW} bs=1M count=16 oflag=direct status=none`);
    assert.match(await onHost(`lvs --noheadings -o lv_attr ${VG}/snap_${RAW}_golden`), /^s...I/, "LVM invalidated it");
    const r = await inspect(["--vg", VG]);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.match(vgBlock(r.stdout), /\n│ {2}└─ golden \(thick\) {2}8 MiB {2}\[██████████\] INVALID {2}snap_vm-601-disk-0_golden\n/);
    const warnings = r.stdout.slice(r.stdout.indexOf("\n1 warning:\n"));
    assert.match(warnings, /^\n1 warning:\n! inspectvg\/snap_vm-601-disk-0_golden: the thick snapshot "golden" of\n {2}vm-601-disk-0 is INVALID/);
    assert.match(warnings, /→ remove it \(lvremove inspectvg\/snap_vm-601-disk-0_golden\)/);
  });

  it("a deferred merge, a broken chain and a leftover export snapshot: each shown in place, each with its warning", async () => {
    await h.exec(`set -e
lvcreate -qy -s -L 8M -n snap_${RAW}_pre --addtag pulumi-lvm/snapshot=pre ${VG}/${RAW} >/dev/null
nohup sleep 600 < /dev/${VG}/${RAW} >/dev/null 2>&1 &
echo $! > ${HOLDER}
sleep 1
lvconvert --merge ${VG}/snap_${RAW}_pre >/dev/null 2>&1
lvremove -qy ${VG}/${snapLv("s1")} >/dev/null
lvcreate -qy -s -L 8M -n snap_${QCOW2}_pulumi-lvm-export-0badf00d --addtag pulumi-lvm/temporary ${VG}/${QCOW2} >/dev/null`);
    assert.strictEqual(await onHost(`lvs --noheadings -o lv_name ${VG}/snap_${RAW}_pre 2>&1 | tr -d ' '`), "[snap_vm-601-disk-0_pre]",
      "the merge was deferred (the disk is open)");
    assert.ok(!(await onHost(`lvs --noheadings -o lv_name ${VG}`)).includes("snap_vm-601-disk-0_pre"), "plain lvs hides it");
    const r = await inspect(["--vg", VG, "--json"]);
    assert.strictEqual(r.code, 1, r.stderr);
    const model = JSON.parse(r.stdout);
    assert.deepStrictEqual(model.warnings.map((w: { kind: string; subject: string }) => `${w.kind} ${w.subject}`).sort(), [
      `broken-chain ${VG}/${QCOW2}`,
      `leftover-temporary-snapshot ${VG}/snap_${QCOW2}_pulumi-lvm-export-0badf00d`,
      `merge-pending ${VG}/snap_${RAW}_pre`,
      `snapshot-invalid ${VG}/snap_${RAW}_golden`,
    ]);
    const [vg] = model.volumeGroups;
    const raw = vg.disks.find((d: { lvName: string }) => d.lvName === RAW);
    assert.deepStrictEqual(raw.thickSnapshots.map((s: { name: string; merging: boolean }) => [s.name, s.merging]), [["golden", false], ["pre", true]]);
    const disk = vg.disks.find((d: { lvName: string }) => d.lvName === QCOW2);
    assert.deepStrictEqual([disk.chainProblem.kind, disk.chainProblem.lv], ["missing-link", snapLv("s1")]);
    assert.match(disk.chainProblem.detail, /Could not open '\/dev\/inspectvg\/snap_vm-602-disk-0_s1\.qcow2'/, "qemu-img's own words");
    assert.deepStrictEqual(disk.chain.map((s: { name: string; inChain: boolean }) => [s.name, s.inChain]), [["s2", false], ["s3", false]]);
    assert.deepStrictEqual(disk.thickSnapshots.map((s: { temporary: string }) => s.temporary), ["leftover"]);
    const text = await inspect(["--vg", VG]);
    assert.match(text.stdout, /\n│ {2}├─ golden \(thick\) {2}8 MiB {2}\[█+\] INVALID {2}snap_vm-601-disk-0_golden\n│ {2}└─ pre \(thick\) {2}8 MiB {2}\[░+\] [\d.]+% {2}MERGING {2}snap_vm-601-disk-0_pre\n/);
    assert.match(text.stdout, /\n│ {2}├─ chain: broken: it reads through snap_vm-602-disk-0_s1\.qcow2, which does\n/);
  });

  it("a thin pool filled above 80% (data written into its thin disk): its bar, a warning saying how to grow it, and exit code 1", async () => {
    // 48 MiB more into the 96 MiB disk: the 64 MiB pool holds 56 MiB then (87.5%), short of full (where LVM would hold every write).
    await h.exec(`dd if=/dev/urandom of=/dev/${VG}/${THIN} bs=1M seek=8 count=48 oflag=direct status=none`);
    const data = Number(await onHost(`lvs --noheadings -o data_percent ${VG}/${POOL} | tr -d ' '`));
    assert.ok(data > 80 && data < 95, `the pool is ${data}% full`);
    const r = await inspect(["--vg", VG]);
    assert.strictEqual(r.code, 1, r.stderr);
    const cells = Math.round(data / 10);
    const shown = `\\[█{${cells}}░{${10 - cells}}\\] ${Number(data.toFixed(1))}%`.replace(".", "\\.");
    assert.match(vgBlock(r.stdout), new RegExp(`\\n├─ pool0 {2}thin pool, 64 MiB \\(metadata 4 MiB\\)\\n│ {2}├─ data ${shown} {2}metadata `));
    assert.match(r.stdout, new RegExp(`\\n! inspectvg/pool0: thin pool pool0 is ${String(data).replace(".", "\\.")}% full \\(data\\): at 100% writes`));
    assert.match(r.stdout, /\n {2}→ grow it: raise the ThinPool's size and run pulumi up, or lvextend -L \+<size>\n {4}inspectvg\/pool0 \(/);
    assert.ok(r.stdout.split("\n").every((l) => [...l].length <= 80), "fits 80 columns");
    const json = JSON.parse((await inspect(["--vg", VG, "--json"])).stdout);
    assert.strictEqual(json.volumeGroups[0].thinPools[0].dataPercent, data);
    assert.deepStrictEqual(json.warnings.filter((w: { kind: string }) => w.kind.startsWith("thin-pool")).map((w: { kind: string; subject: string }) => `${w.kind} ${w.subject}`),
      [`thin-pool-filling ${VG}/${POOL}`]);
  });

  it("an unknown host key fails before any command, printing the fingerprint to pin; pinned, it works", async () => {
    const empty = path.join(tmp, "known_hosts");
    fs.writeFileSync(empty, "");
    const [loginsBefore, execsBefore] = [await logins(), await execs()];
    const r = await inspect(["--known-hosts", empty, "--vg", VG], { hostKey: false });
    assert.deepStrictEqual([await logins(), await execs()], [loginsBefore, execsBefore], "no login, no command");
    assert.strictEqual(r.code, 2);
    assert.strictEqual(r.stdout, "");
    const expected = fingerprint(parsePublicKeyLine(h.hostKey)!.blob);
    assert.match(r.stderr, /unknown host key: the host presented ssh-ed25519 key SHA256:/);
    assert.ok(r.stderr.includes(`run again with --host-key ${expected}`), r.stderr);
    const pinned = await inspect(["--known-hosts", empty, "--vg", VG, "--host-key", expected], { hostKey: false });
    assert.strictEqual(pinned.code, 1, pinned.stderr);
    assert.match(pinned.stdout, /^VG inspectvg /m);
  });
});
