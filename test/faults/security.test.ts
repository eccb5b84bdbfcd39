import * as assert from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { DiskExport, Rollback, Snapshot, ThinPool, VmDisk } from "../../sdk";
import { ConnectionArgs } from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { isSecret } from "../engine/values";
import { mustSucceed, stopwatch, testEngine } from "../support/engine";
import { contentSha256, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";
import { countScripts, scriptsStarted, sshdJournal, stopCountingScripts } from "../support/sshTraffic";

/**
 * Security through Pulumi's plugin against the guest: a host key that changes while a plugin holds a connection
 * stops the next operation before any command; an ordinary user through sudo (with a password) runs every kind of
 * operation; and neither the password nor the private key shows in any error, plugin output, state or stack output.
 */
describe("security: host keys, sudo, secrets (e2e)", function () {
  const VG = "secure";
  const QCOW2 = "vm-952-disk-0.qcow2";
  const EXPORT = "/root/secure-export.raw";
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  let h: TestHost;
  let pvs: string[];
  const { timings, timed } = stopwatch();
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  /** Every place a secret could leak to in one stack: the engine's lines (the plugin's stderr among them), failures, the state file, outputs. */
  const assertNoSecrets = (what: { lines: string[]; stateFile: string }, failures: string[], secrets: string[]) => {
    const texts = { "plugin and engine output": what.lines.join("\n"), errors: failures.join("\n"), "state file": fs.existsSync(what.stateFile) ? fs.readFileSync(what.stateFile, "utf8") : "" };
    for (const [where, text] of Object.entries(texts)) {
      for (const s of secrets) assert.ok(!text.includes(s), `a secret shows in the ${where}`);
    }
  };
  const keyBody = () => h.privateKey.split("\n").filter((l) => l && !l.startsWith("-----")).join("\n");

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[2], h.disks[3]];
    await scrubDisks(h, pvs, [VG]);
    await h.exec(`vgcreate -y ${VG} ${pvs.join(" ")} >/dev/null; rm -f ${EXPORT}*`);
  });
  after(async () => {
    if (h) {
      await h.exec("if [ -d /root/hostkeys ]; then cp -a /root/hostkeys/. /etc/ssh/ && rm -rf /root/hostkeys && systemctl restart ssh; fi");
      await stopCountingScripts(h);
      await scrubDisks(h, pvs, [VG]);
      await h.exec(`rm -f ${EXPORT}*`);
    }
    await closeAll();
    process.stderr.write(`      [security timings] ${timings.join("; ")}\n`);
  });

  it("a host key changed mid-run, after the plugin's connection drops: the next operation refuses before any command", async () => {
    const e = testEngine("hostkey");
    const connection = rootConnectionArgs(h);
    let changedAt = 0;
    const program = async () => {
      const first = new VmDisk("first", { connection, volumeGroup: VG, name: "vm-941-disk-0", size: "32MiB" });
      if (!pulumi.runtime.isDryRun() && changedAt === 0) {
        await new Promise((resolve) => first.id.apply(resolve));
        // The plugin's pooled connection is up. Change the guest's host keys (sshd keeps its open connections),
        // then cut every connection but the test's own, and count what reaches the guest from now on.
        await h.exec(`mkdir -p /root/hostkeys && cp -a /etc/ssh/ssh_host_* /root/hostkeys/
me=$$; while [ "$(cut -d' ' -f4 /proc/$me/stat)" != "$(systemctl show -p MainPID --value ssh)" ]; do me=$(cut -d' ' -f4 /proc/$me/stat); done
others=$(pgrep -P "$(systemctl show -p MainPID --value ssh)" | grep -vx "$me" || true)
[ -n "$others" ] || { echo "no plugin connection to cut" >&2; exit 1; }
rm -f /etc/ssh/ssh_host_ed25519_key* /etc/ssh/ssh_host_ecdsa_key*
ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && ssh-keygen -q -t ecdsa -N '' -f /etc/ssh/ssh_host_ecdsa_key
systemctl restart ssh
for p in $others; do pkill -9 -P "$p" || true; kill -9 "$p" || true; done`);
        await countScripts(h);
        changedAt = (await sshdJournal(h)).length;
      }
      new VmDisk("second", { connection, volumeGroup: VG, name: "vm-941-disk-1", size: "32MiB" }, { dependsOn: [first] });
    };
    const r = await timed("up with the host key changed mid-run", () => e.engine.up(program));
    const started = await scriptsStarted(h);
    const journal = (await sshdJournal(h)).slice(changedAt);
    await stopCountingScripts(h);
    assert.strictEqual(r.ok, false);
    const reason = r.failures.map((f) => f.reason).join("\n");
    assert.match(reason, /HOST KEY MISMATCH: .*possible man-in-the-middle.*Nothing was sent/s);
    assert.strictEqual(started, 0, "no script started on the guest after the key changed");
    assert.deepStrictEqual(journal.filter((l) => /^Accepted /.test(l)), [], "sshd accepted no login");
    assert.deepStrictEqual(await lvNames(), ["vm-941-disk-0"], "only the disk made before the change");

    await h.exec("cp -a /root/hostkeys/. /etc/ssh/ && rm -rf /root/hostkeys && systemctl restart ssh");
    mustSucceed(await e.engine.destroy());
    assert.deepStrictEqual(await lvNames(), [], "with the key back, the next run works");
  });

  it("a wrong password through the plugin: the error names the user and methods, never the password; no command ran", async () => {
    const e = testEngine("badpassword");
    const wrong = "not-the-password-4711";
    const connection: ConnectionArgs = { host: h.host, port: h.port, hostKey: h.hostKey, user: "tester", password: wrong, sudo: true };
    await countScripts(h);
    const r = await e.engine.up(() => { new VmDisk("d", { connection, volumeGroup: VG, name: "vm-942-disk-0", size: "32MiB" }); });
    const started = await scriptsStarted(h);
    await stopCountingScripts(h);
    assert.strictEqual(r.ok, false);
    const failures = r.failures.map((f) => f.reason);
    assert.match(failures.join("\n"), /authentication failed for tester@127\.0\.0\.1:\d+ \(tried: password/);
    assertNoSecrets(e, failures, [wrong]);
    assert.strictEqual(started, 0);
  });

  it("tester through sudo with a password: a pool, a qcow2 disk, a chain snapshot, a rollback and an export, one refused disk, destroy; no secret anywhere", async () => {
    // The kinds test/e2e/volumeGroup.test.ts does not already run through sudo, each once.
    const e = testEngine("sudo");
    const connection: ConnectionArgs = { host: h.host, port: h.port, hostKey: h.hostKey, user: "tester", password: h.testerPassword, sudo: true };
    const secrets = [h.testerPassword, keyBody().slice(0, 60)];
    let huge = false;
    const program = () => {
      const volumeGroup = VG;
      new ThinPool("pool", { connection, volumeGroup, name: "pool", size: "32MiB" });
      const disk = new VmDisk("qcow2", { connection, volumeGroup, name: QCOW2, size: "32MiB", format: "qcow2" });
      if (huge) new VmDisk("huge", { connection, volumeGroup, name: "vm-954-disk-0", size: "64GiB" });
      const s1 = new Snapshot("s1", { connection, volumeGroup, disk: QCOW2, name: "s1" }, { dependsOn: [disk] });
      new Rollback("rollback", { connection, volumeGroup, disk: QCOW2, snapshot: "s1" }, { dependsOn: [s1] });
      new DiskExport("export", { connection, volumeGroup, disk: QCOW2, snapshot: "s1", path: EXPORT }, { dependsOn: [s1] });
      return { connection: disk.connection, path: disk.path };
    };
    const sudoScripts = async () => Number((await h.exec("journalctl -q --no-pager -t sudo | grep -c 'tester : .*COMMAND=/usr/bin/sh -s' || true")).trim());
    const sudoBefore = await sudoScripts();
    const r = mustSucceed(await timed("up as tester (sudo)", () => e.engine.up(program)));
    assert.deepStrictEqual(await lvNames(), ["pool", "snap_vm-952-disk-0_s1.qcow2", QCOW2]);
    const s1 = await contentSha256(h, dev("snap_vm-952-disk-0_s1.qcow2"), "qcow2");
    assert.strictEqual(await contentSha256(h, dev(QCOW2), "qcow2"), s1, "the disk reads as the snapshot after the rollback");
    assert.strictEqual(e.engine.readState().resources.find((x) => x.name === "export")!.outputs.sha256, s1, "the export holds the snapshot");
    assert.ok(isSecret(r.outputs.connection), "a stack output of the connection is secret");
    assert.ok(e.lines.some((l) => l.includes(`[plugin] DiskExport ${EXPORT}: copying`)), "the plugin's stderr is among the lines checked");

    huge = true;
    const refused = await timed("a refused create as tester", () => e.engine.up(program));
    huge = false;
    assert.strictEqual(refused.ok, false);
    const failures = refused.failures.map((f) => f.reason);
    assert.match(failures.join("\n"), /not enough free space in volume group secure: disk vm-954-disk-0 needs 64 GiB/);
    assertNoSecrets(e, failures, secrets);

    mustSucceed(await timed("destroy as tester", () => e.engine.destroy()));
    assert.deepStrictEqual(await lvNames(), []);
    assert.strictEqual((await h.exec(`ls ${EXPORT}* 2>/dev/null || true`)).trim(), "");
    assertNoSecrets(e, [], secrets);
    assert.ok(await sudoScripts() - sudoBefore >= 8, "every operation ran through sudo as tester");
  });
});
