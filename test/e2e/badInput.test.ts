import * as assert from "assert";
import { KindName } from "../../provider";
import { closeAll } from "../../provider/ssh";
import { DiskExport, Rollback, Snapshot, ThinPool, VmDisk, VolumeGroup } from "../../sdk";
import { Result } from "../engine/driver";
import { TestHost } from "../host/testHost";
import {
  BAD_CHANGES, BAD_INPUTS, Bundle, bundles, DEVICE, DISK, FREE_DEVICE, HOST_DECIDED, inputsOf, mismatches, OTHER_DEVICE, OTHER_VG, VG,
} from "../support/badInputs";
import { changes, mustSucceed, stopwatch, testEngine } from "../support/engine";
import { diskSignatures, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";
import { countScripts, scriptsStarted, sshdJournal, stopCountingScripts } from "../support/sshTraffic";

const SDK: Record<KindName, new (name: string, args: never, opts?: object) => unknown> = { VolumeGroup, ThinPool, VmDisk, Snapshot, Rollback, DiskExport };

/**
 * The bad input corpus (test/support/badInputs.ts) the way a user meets it: programs of the SDK's classes, run by the
 * engine driver through Pulumi's real dynamic-provider plugin, against the real guest. Each bad input must fail
 * preview and up with its check failure, and the guest must show that nothing reached it: sshd logged no connection
 * at all (so no login, no command), no script ran (the provider's `sh -s`, counted by a wrapper), and LVM's state and
 * the files a hostile string would make are unchanged. An engine run stops at the first invalid resource (as Pulumi's
 * does), so the cases go in bundles, one resource of many bad fields per run.
 */
describe("Bad input through the engine (e2e)", function () {
  let h: TestHost;
  let packed: Bundle[];
  const { timings, timed } = stopwatch();
  const connection = () => rootConnectionArgs(h) as unknown as Record<string, unknown>;
  /** A resource of the SDK's class for `kind`, with inputs the SDK's types may not allow. */
  const resource = (kind: KindName, name: string, inputs: Record<string, unknown>, opts?: object) => new SDK[kind](name, inputs as never, opts);
  /** What any operation would change on the guest: PVs, VGs, LVs (sizes, tags), and files hostile strings would make. */
  const hostState = () => h.exec("pvs --noheadings --units b -o pv_name,vg_name,pv_size,pv_free; " +
    "vgs --noheadings --units b -o vg_name,vg_size,vg_free,vg_tags; lvs -a --noheadings --units b -o vg_name,lv_name,lv_size,lv_attr,lv_tags; " +
    "ls -d /tmp/pwned-* /root/badinput* 2>/dev/null; true");
  /**
   * sshd's lines after `before`, less those of TCP connections that never spoke SSH: QEMU's user networking accepts
   * the boot-time banner probes (host/testHost.ts) on the host side and may hand them to the guest's sshd seconds
   * later, which logs them as closed before identification. Any SSH client, ours included, sends its identification
   * first, so each of its attempts still shows (a login, or a close marked [preauth]).
   */
  const newConnections = (before: string[], now: string[]) => now.slice(before.length)
    .filter((l) => !/^error: kex_exchange_identification: Connection closed by remote host$/.test(l))
    .filter((l) => !/^Connection closed by \S+ port \d+$/.test(l));
  /** The guest's own record of what reached it from here on. */
  const watch = async () => {
    const [journal, scripts, state] = [await sshdJournal(h), await scriptsStarted(h), await hostState()];
    return {
      /** sshd's lines since (any connection attempt makes some) and scripts started since. */
      traffic: async () => ({ sshd: newConnections(journal, await sshdJournal(h)), scripts: (await scriptsStarted(h)) - scripts }),
      unchanged: async () => assert.strictEqual(await hostState(), state, "the guest's LVM state and files are unchanged"),
    };
  };
  /** The failures of a run that must fail, all on the one resource named `name`. */
  const failuresOf = (r: Result, name: string) => {
    assert.ok(!r.ok, `the run succeeded: ${r.steps.map((s) => `${s.op} ${s.name}`).join(", ")}`);
    assert.deepStrictEqual(r.failures.filter((f) => f.name !== name), [], `failures on ${name} only`);
    return r.failures;
  };

  before(async () => {
    h = await useTestHost();
    assert.ok([DEVICE, OTHER_DEVICE, FREE_DEVICE].every((d) => h.disks.includes(d)), `the guest's data disks are ${h.disks}`);
    await scrubDisks(h, [DEVICE, OTHER_DEVICE, FREE_DEVICE], [VG, OTHER_VG, "vdc"]);
    await h.exec("rm -f /tmp/pwned-* /root/badinput*");
    await countScripts(h);
    packed = await bundles();
  });
  after(async () => {
    await closeAll();
    if (h) {
      await stopCountingScripts(h);
      await scrubDisks(h, [DEVICE, OTHER_DEVICE, FREE_DEVICE], [VG, OTHER_VG, "vdc"]);
    }
    console.log(`      ${timings.join(", ")}`);
  });

  it(`refuses each of the ${BAD_INPUTS.length} bad inputs at preview and at up, naming its field and rule; nothing reaches the guest`, async () => {
    const { engine } = testEngine("badinput");
    const watching = await watch();
    const problems: string[] = [];
    await timed(`${packed.length} bundles, preview and up`, async () => {
      for (const [i, b] of packed.entries()) {
        const name = `bad-${b.kind}-${i}`;
        const program = () => { resource(b.kind, name, inputsOf(b.kind, b.inputs, connection(), b.connection)); };
        for (const op of ["preview", "up"] as const) {
          const found = failuresOf(await engine[op](program), name);
          const cases = b.cases.map((c) => c.what).join("; ");
          problems.push(...mismatches(found, b.expected).map((m) => `${op} ${name} (${cases}): ${m}`));
        }
      }
    });
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(await watching.traffic(), { sshd: [], scripts: 0 }, "sshd logged no connection, no script ran");
    await watching.unchanged();
    assert.deepStrictEqual(engine.readState().resources, [], "nothing in the state");
  });

  it("refuses changes an existing VG, pool and disk cannot take (a shrink, settings fixed at creation), from the state alone", async () => {
    const { engine } = testEngine("badinput-changes");
    const olds = Object.fromEntries(BAD_CHANGES.map((c) => [c.kind, c.olds]));
    const program = (change: Partial<Record<KindName, Record<string, unknown>>> = {}) => () => {
      const inputs = (kind: KindName) => inputsOf(kind, { ...olds[kind], ...change[kind] }, connection());
      const vg = resource("VolumeGroup", "vg", inputs("VolumeGroup"));
      resource("ThinPool", "pool", inputs("ThinPool"), { dependsOn: [vg] });
      resource("VmDisk", "disk", inputs("VmDisk"), { dependsOn: [vg] });
    };
    await timed("make the VG, pool and disk", async () => mustSucceed(await engine.up(program())));
    const watching = await watch();
    await timed(`${BAD_CHANGES.length} changes, preview and up`, async () => {
      for (const c of BAD_CHANGES) {
        const name = { VolumeGroup: "vg", ThinPool: "pool", VmDisk: "disk" }[c.kind as string]!;
        for (const op of ["preview", "up"] as const) {
          const found = failuresOf(await engine[op](program({ [c.kind]: c.news })), name);
          assert.deepStrictEqual(mismatches(found, c.expected), [], `${op} of ${c.what}`);
        }
      }
    });
    assert.deepStrictEqual(await watching.traffic(), { sshd: [], scripts: 0 }, "sshd logged no connection, no script ran");
    await watching.unchanged();
    assert.deepStrictEqual(changes(mustSucceed(await engine.preview(program()))), [], "the stack is as it was made");
  });

  // Counted apart from the corpus: these reach the host, as only the host knows what exists there.
  it(`decided on the host: ${HOST_DECIDED.map((c) => c.what).join("; ")}: each passes preview, and up refuses it, changing nothing`, async () => {
    await scrubDisks(h, [DEVICE, OTHER_DEVICE], [VG, OTHER_VG]);
    await h.exec(`vgcreate -qy ${VG} ${DEVICE} >/dev/null && lvcreate -qy -L 8M -n ${DISK} ${VG} >/dev/null && ` +
      `vgcreate -qy ${OTHER_VG} ${OTHER_DEVICE} >/dev/null && lvcreate -qy -L 8M -n vm-902-disk-0 ${OTHER_VG} >/dev/null`);
    const { engine } = testEngine("badinput-host");
    for (const c of HOST_DECIDED) {
      const name = `host-${c.kind}`;
      const program = () => { resource(c.kind, name, inputsOf(c.kind, c.inputs, connection())); };
      const watching = await watch();
      const preview = mustSucceed(await engine.preview(program));
      assert.deepStrictEqual(changes(preview).map((s) => `${s.op} ${s.name}`), [`create ${name}`], c.what);
      assert.deepStrictEqual(await watching.traffic(), { sshd: [], scripts: 0 }, `preview of ${c.what} reached the guest`);
      const found = failuresOf(await timed(`up: ${c.what}`, () => engine.up(program)), name);
      assert.match(found.map((f) => f.reason).join("\n"), c.refusal, c.what);
      // The same watch sees the up reach the guest: what proves nothing else did is not blind.
      const { sshd, scripts } = await watching.traffic();
      assert.ok(sshd.some((l) => l.startsWith("Accepted publickey for root")) && scripts > 0, `up of ${c.what}: ${sshd.length} sshd lines, ${scripts} scripts`);
      await watching.unchanged();
    }
    assert.deepStrictEqual(await diskSignatures(h, [FREE_DEVICE]), { [FREE_DEVICE]: "" }, "the free device stays blank");
    assert.deepStrictEqual(engine.readState().resources, []);
  });
});
