import * as assert from "assert";
import {
  DiskExport, DiskExportArgs, Rollback, RollbackArgs, Snapshot, SnapshotArgs, ThinPool, ThinPoolArgs, VmDisk, VmDiskArgs, VolumeGroup,
  VolumeGroupArgs,
} from "../../sdk";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { mustSucceed, stopwatch, testEngine } from "../support/engine";
import { arm, disarm, faultStateGone, FaultKind, installFaultWrappers, PowerCut, removeFaultWrappers, waitForCut } from "../support/faults";
import { contentSha256, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";

/**
 * A fault at every step of every multi-step operation, in turn: for each operation, the N-th host command that
 * changes something fails (or its SSH session is killed while it runs, or the host's power is cut while it runs),
 * for N = 1, 2, ... until the operation completes without reaching the fault. After each fault, the failed run's error must say what happened, and one
 * normal `pulumi up` must converge: the declared LVs and no others (nothing temporary or orphaned), every disk and
 * snapshot state checksum-identical to what it must be, and every qcow2 image clean.
 */
const CUT_EVERY_STEP = process.env.PULUMI_LVM_FAULTS === "all";
/**
 * For development: PULUMI_LVM_FAULT_KINDS=power (say) runs only those kinds; without `fail`, one attempt with no fault
 * counts the steps.
 */
const ONLY_KINDS = process.env.PULUMI_LVM_FAULT_KINDS?.split(",");

describe("faults at every step (e2e)", function () {
  const VG = "faults";
  const QCOW2 = "vm-601-disk-0.qcow2";
  const RAW = "vm-602-disk-0";
  const THIN = "vm-603-disk-0";
  const IMPORTED = "vm-604-disk-0.qcow2";
  const SOURCE = "/var/tmp/pulumi-lvm-faults-source.qcow2";
  const MOVING_VG = "faults-moving";
  const snapLv = (id: string) => `snap_vm-601-disk-0_${id}.qcow2`;
  const EXPORT = "/var/tmp/pulumi-lvm-faults.raw";
  const dev = (lv: string) => `/dev/${VG}/${lv}`;
  let h: TestHost;
  let pvs: string[];
  const { engine } = testEngine("faults");
  const { timings, timed } = stopwatch();
  const report: string[] = [];

  type Args<T> = Omit<T, "connection" | "volumeGroup">;
  interface Stack {
    vgs?: Record<string, Args<VolumeGroupArgs>>;
    pools?: Record<string, Args<ThinPoolArgs>>;
    disks?: Record<string, Args<VmDiskArgs>>;
    snapshots?: Array<[string, Args<SnapshotArgs>]>;
    rollbacks?: Array<[string, Args<RollbackArgs>]>;
    exports?: Array<[string, Args<DiskExportArgs>]>;
  }
  const programOf = (s: Stack) => () => {
    const connection = rootConnectionArgs(h);
    for (const [name, args] of Object.entries(s.vgs ?? {})) new VolumeGroup(name, { connection, ...args });
    const pools = Object.fromEntries(Object.entries(s.pools ?? {})
      .map(([name, args]) => [args.name as string, new ThinPool(name, { connection, volumeGroup: VG, ...args })]));
    const disks = Object.entries(s.disks ?? {}).map(([name, args]) => new VmDisk(name, { connection, volumeGroup: VG, ...args,
      ...(pools[args.thinPool as string] ? { thinPool: pools[args.thinPool as string].name } : {}) }));
    const snaps: Snapshot[] = [];
    for (const [name, args] of s.snapshots ?? []) {
      snaps.push(new Snapshot(name, { connection, volumeGroup: VG, ...args }, { dependsOn: snaps.length ? [snaps[snaps.length - 1]] : disks }));
    }
    for (const [name, args] of s.rollbacks ?? []) new Rollback(name, { connection, volumeGroup: VG, ...args }, { dependsOn: [...disks, ...snaps] });
    for (const [name, args] of s.exports ?? []) new DiskExport(name, { connection, volumeGroup: VG, ...args }, { dependsOn: [...disks, ...snaps] });
  };
  const failure = (r: { failures: { reason: string }[] }) => r.failures.map((f) => f.reason).join("\n");
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${VG}`)).split("\n").map((l) => l.trim()).filter(Boolean).sort();
  const sum = async (lv: string) => {
    if (lv.startsWith(`snap_${THIN}_`)) await h.exec(`lvchange -ay -K ${VG}/${lv}`); // thin snapshots skip activation
    return contentSha256(h, dev(lv), lv.endsWith(".qcow2") ? "qcow2" : "raw");
  };
  const write = (lv: string, pattern: string, offset: string) => lv.endsWith(".qcow2")
    ? h.exec(`qemu-io -f qcow2 -c 'write -P ${pattern} ${offset} 1M' ${dev(lv)} >/dev/null`)
    : h.exec(`qemu-io -f raw -c 'write -P ${pattern} ${offset} 1M' ${dev(lv)} >/dev/null`);
  const clean = async (lv: string) => assert.match(await h.exec(`qemu-img check -U ${dev(lv)} 2>&1`), /No errors were found/, `${lv} is clean`);

  const qcow2 = { qcow2: { name: QCOW2, size: "32MiB", format: "qcow2" as const } };
  const raw = { raw: { name: RAW, size: "32MiB" } };
  const pool = { pool: { name: "pool", size: "128MiB" } };
  const thin = { thin: { name: THIN, size: "32MiB", thinPool: "pool" } };

  /**
   * One multi-step operation: `before` is the stack it starts from (restored before every attempt), `after` the
   * stack that makes it happen, `prepare` runs on the host before each attempt, `expect` checks the converged host.
   */
  interface Operation {
    name: string;
    before: Stack;
    after: (attempt: number) => Stack;
    prepare?: () => Promise<void>;
    lvs: string[];
    expect: () => Promise<void>;
    kinds: FaultKind[];
    /**
     * Where the CI run cuts the power (a boot costs 30 s or more): the first step matching each, frozen at `cut`
     * (by default POWER_DELAY). PULUMI_LVM_FAULTS=all cuts at every step instead, each frozen after POWER_DELAY.
     */
    power?: Array<{ step: RegExp; cut?: PowerCut }>;
  }

  /** When a step's command is frozen for the power cut, by default: mid-way through most LVM commands here. */
  const POWER_DELAY: PowerCut = { delay: 0.3 };
  /** A copy (qemu-img commit, rebase, convert) is cut once it has written this much: in the middle of its data. */
  const MID_COPY: PowerCut = { written: 512 * 1024 };
  /**
   * A create's last step left to end before the power goes: the disk or snapshot is whole on the host, and the client
   * never hears so (the create is unconfirmed: provider/glue/unconfirmed.ts); the next up must take it.
   */
  const ENDED: PowerCut = { delay: 5 };

  /**
   * The first kind's attempts run until one completes without reaching its fault, which gives the operation's number
   * of steps; later kinds fault exactly those steps. A cut at step N leaves the host as a failure at step N+1 does
   * (step N runs; the script's next write to the closed channel fails it, and its undo or journal takes over), so by
   * default (the CI run) connections are cut only at each operation's last step, which no failure stands for;
   * PULUMI_LVM_FAULTS=all (npm run test:faults:all) cuts at every step.
   */
  async function everyStep(op: Operation) {
    let steps: number | undefined;
    let allCalls: string[] = [];
    const kinds = op.kinds.filter((k) => !ONLY_KINDS || ONLY_KINDS.includes(k));
    if (kinds[0] !== op.kinds[0]) {
      mustSucceed(await engine.up(programOf(op.before)));
      await op.prepare?.();
      await arm(h, 1_000_000, "fail");
      mustSucceed(await engine.up(programOf(op.after(0))));
      allCalls = await disarm(h);
      steps = allCalls.length;
    }
    for (const kind of kinds) {
      if (kind === "power") {
        await powerCuts(op, allCalls.map((c) => c.replace(/^\d+ /, "")));
        continue;
      }
      const first = kind === "drop" && !CUT_EVERY_STEP && steps !== undefined ? steps : 1;
      for (let at = first; steps === undefined || at <= steps; at++) {
        mustSucceed(await engine.up(programOf(op.before)));
        await op.prepare?.();
        await arm(h, at, kind);
        const faulted = await engine.up(programOf(op.after(at)));
        const calls = await disarm(h);
        if (calls.length < at) {
          mustSucceed(faulted);
          steps = at - 1;
          allCalls = calls;
          break;
        }
        const step = calls[at - 1].replace(/^\d+ /, "");
        const retried = calls.slice(at).some((c) => c.replace(/^\d+ /, "") === step);
        if (faulted.ok) {
          // A step the operation retries (an export's worker retries removing its temporary snapshot) may succeed.
          assert.ok(kind === "fail" && retried, `${op.name}: a ${kind} at step ${at} (${step}) must fail the run`);
          assert.deepStrictEqual(await lvNames(), [...op.lvs].sort(), `${op.name}: LVs after a retried ${kind} at step ${at} (${step})`);
          await op.expect();
          report.push(`${op.name}: ${kind} at step ${at} (${step.slice(0, 80)}): retried by the operation, which succeeded`);
          continue;
        }
        const said = failure(faulted);
        if (kind === "fail") assert.match(said, /injected failure/, `${op.name} step ${at}: the error shows the command's own failure`);
        const converged = await engine.up(programOf(op.after(at)));
        assert.ok(converged.ok, `${op.name}: after a ${kind} at step ${at} (${step}), the next up fails:\n${failure(converged)}`);
        assert.deepStrictEqual(await lvNames(), [...op.lvs].sort(), `${op.name}: LVs after a ${kind} at step ${at} (${step})`);
        await op.expect();
        const left = /\((the operation's earlier steps were undone|the host's journal)[^)]*\)/.exec(said)?.[0] ?? "";
        report.push(`${op.name}: ${kind} at step ${at} (${step.slice(0, 80)}): "${said.split("\n")[0].slice(0, 140)}" ${left} -> next up converged`);
      }
      report.push(first === 1
        ? `${op.name}: ${steps} steps, each ${kind === "fail" ? "failed" : "cut off"} in turn`
        : `${op.name}: cut off at its last step (${steps})`);
    }
  }

  /**
   * Power cuts at the steps `calls` (an attempt's every counted command, in order): the step's command is frozen
   * mid-way, the guest's power is cut and it boots again; then one normal up must converge as after any other fault.
   * What that leaves is a real power loss's: qemu is killed, so what the guest kernel had not yet written out (its
   * page cache: a qemu-img convert's unflushed output, say) is lost, while what it had written reached the data disks'
   * files (cache=unsafe only skips the host's flushes, and the host stays up); LVM's metadata, written direct and
   * flushed, holds each LVM step whole or not at all; a qemu-img command cut mid-way leaves an image as consistent as
   * qcow2's ordered metadata writes make it. /run is empty after the boot: the VG lock folder, export jobs, and the
   * fault state, so the wrappers pass every command through (checked), and LVs the boot did not activate stay inactive.
   */
  async function powerCuts(op: Operation, calls: string[]) {
    assert.ok(calls.length > 0, `${op.name}: the steps are known before the power is cut`);
    const cuts = CUT_EVERY_STEP
      ? calls.map((c, i) => ({ at: i + 1, cut: /^qemu-img (commit|rebase|convert)/.test(c) ? MID_COPY : POWER_DELAY }))
      : (op.power ?? []).map(({ step, cut }) => {
        const i = calls.findIndex((c) => step.test(c));
        assert.ok(i >= 0, `${op.name}: no step matches ${step} in:\n${calls.join("\n")}`);
        return { at: i + 1, cut: cut ?? POWER_DELAY };
      });
    for (const { at, cut: when } of cuts) {
      mustSucceed(await engine.up(programOf(op.before)));
      await op.prepare?.();
      await arm(h, at, "power", when);
      const running = engine.up(programOf(op.after(at)));
      const cut = await waitForCut(h, running);
      assert.ok(cut, `${op.name}: the run ended before step ${at} (${calls[at - 1]}), where the power was to go`);
      const step = cut.calls[at - 1].replace(/^\d+ /, "");
      const boot = await h.powerCycle();
      const faulted = await running;
      assert.ok(!faulted.ok, `${op.name}: a power cut at step ${at} (${step}) must fail the run`);
      assert.ok(await faultStateGone(h), "the boot emptied /run, so the wrappers are disarmed");
      const converged = await engine.up(programOf(op.after(at)));
      assert.ok(converged.ok, `${op.name}: after a power cut at step ${at} (${step}), the next up fails:\n${failure(converged)}`);
      assert.deepStrictEqual(await lvNames(), [...op.lvs].sort(), `${op.name}: LVs after a power cut at step ${at} (${step})`);
      await op.expect();
      report.push(`${op.name}: power cut at step ${at} (${step.slice(0, 80)}), the command ${cut.state} ${"written" in when ? `once it wrote ${when.written} bytes` : `after ${when.delay} s`}, boot ${boot.toFixed(0)} s: ` +
        `"${failure(faulted).split("\n")[0].slice(0, 100)}" -> next up converged`);
    }
  }

  const content: Record<string, string> = {};

  before(async () => {
    h = await useTestHost();
    pvs = [h.disks[2], h.disks[3]];
    await scrubDisks(h, pvs, [VG]);
    await h.exec(`vgcreate -y ${VG} ${pvs.join(" ")} >/dev/null; rm -f ${EXPORT} ${EXPORT}.pulumi-lvm.json`);
    await installFaultWrappers(h);
  });
  after(async () => {
    if (h) {
      await removeFaultWrappers(h);
      await scrubDisks(h, pvs, [VG]);
      await h.exec(`rm -f ${EXPORT}*`);
    }
    await closeAll();
    console.log(`      [faults] ${report.length} faults injected:\n        ${report.join("\n        ")}`);
    console.log(`      [faults timings] ${timings.join("; ")}`);
  });

  it("qcow2 disk create: every step failed and cut off in turn, then converged", async () => {
    await timed("qcow2 create", () => everyStep({
      name: "qcow2 disk create", before: {}, after: () => ({ disks: qcow2 }), lvs: [QCOW2], kinds: ["fail", "drop", "power"],
      expect: async () => {
        await clean(QCOW2);
        assert.strictEqual(JSON.parse(await h.exec(`qemu-img info --output=json ${dev(QCOW2)}`))["virtual-size"], 32 * 1024 * 1024);
      },
    }));
  });

  it("thin pool create: its one step failed and cut off, then converged: the pool made, or adopted as it was made", async () => {
    await timed("thin pool create", () => everyStep({
      name: "thin pool create", before: {}, after: () => ({ pools: pool }), lvs: ["pool"], kinds: ["fail", "drop", "power"],
      expect: async () => {
        const [segtype, size] = (await h.exec(`lvs --noheadings --units b --nosuffix -o segtype,lv_size ${VG}/pool`)).trim().split(/\s+/);
        assert.deepStrictEqual([segtype, Number(size)], ["thin-pool", 128 * 1024 * 1024]);
      },
    }));
  });

  it("chain snapshot create: every step failed and cut off in turn; the disk and the snapshot read the same state", async () => {
    mustSucceed(await engine.up(programOf({ disks: qcow2 })));
    await write(QCOW2, "0x11", "0");
    content.s1 = await sum(QCOW2);
    await timed("chain snapshot create", () => everyStep({
      name: "chain snapshot create", before: { disks: qcow2 }, after: () => ({ disks: qcow2, snapshots: [["s1", { disk: QCOW2, name: "s1" }]] }),
      lvs: [QCOW2, snapLv("s1")], kinds: ["fail", "drop", "power"],
      power: [{ step: /^qemu-img create/ }, { step: /^lvchange --deltag pulumi-lvm\/snapshotting=/, cut: ENDED }],
      expect: async () => {
        assert.deepStrictEqual([await sum(QCOW2), await sum(snapLv("s1"))], [content.s1, content.s1]);
        await clean(QCOW2);
      },
    }));
  });

  it("chain snapshot delete by rebase and by commit: every step in turn; never a half-merged chain", async () => {
    const s1: [string, Args<SnapshotArgs>] = ["s1", { disk: QCOW2, name: "s1" }];
    const s2: [string, Args<SnapshotArgs>] = ["s2", { disk: QCOW2, name: "s2" }];
    mustSucceed(await engine.up(programOf({ disks: qcow2, snapshots: [s1] })));
    await write(QCOW2, "0x22", "1M");
    content.s2 = await sum(QCOW2);
    mustSucceed(await engine.up(programOf({ disks: qcow2, snapshots: [s1, s2] })));
    await write(QCOW2, "0x33", "2M");
    content.disk = await sum(QCOW2);
    await timed("delete by rebase", () => everyStep({
      name: "chain snapshot delete (rebase)", before: { disks: qcow2, snapshots: [s1, s2] }, after: () => ({ disks: qcow2, snapshots: [s1] }),
      lvs: [QCOW2, snapLv("s1")], kinds: ["fail", "drop", "power"],
      expect: async () => {
        assert.deepStrictEqual([await sum(QCOW2), await sum(snapLv("s1"))], [content.disk, content.s1]);
        await clean(QCOW2);
      },
    }));
    await timed("delete by commit", () => everyStep({
      name: "chain snapshot delete (commit)", before: { disks: qcow2, snapshots: [s1] }, after: () => ({ disks: qcow2 }),
      lvs: [QCOW2], kinds: ["fail", "drop", "power"], power: [{ step: /^qemu-img commit/, cut: MID_COPY }],
      expect: async () => {
        assert.strictEqual(await sum(QCOW2), content.disk);
        await clean(QCOW2);
      },
    }));
  });

  it("rollback, chain and thick: every step in turn; the disk ends golden and the snapshot intact", async () => {
    const golden: [string, Args<SnapshotArgs>] = ["golden", { disk: QCOW2, name: "golden" }];
    mustSucceed(await engine.up(programOf({ disks: qcow2, snapshots: [golden] })));
    content.golden = await sum(QCOW2);
    await timed("chain rollback", () => everyStep({
      name: "rollback (chain)", before: { disks: qcow2, snapshots: [golden] },
      after: (at) => ({ disks: qcow2, snapshots: [golden], rollbacks: [["restore", { disk: QCOW2, snapshot: "golden", triggers: [at] }]] }),
      prepare: () => write(QCOW2, "0x44", "3M").then(() => undefined),
      lvs: [QCOW2, snapLv("golden")], kinds: ["fail", "drop", "power"],
      expect: async () => {
        assert.deepStrictEqual([await sum(QCOW2), await sum(snapLv("golden"))], [content.golden, content.golden]);
        await clean(QCOW2);
      },
    }));
    mustSucceed(await engine.up(programOf({ disks: raw })));
    await write(RAW, "0x55", "0");
    content.raw = await sum(RAW);
    const thick: [string, Args<SnapshotArgs>] = ["thick", { disk: RAW, name: "golden", size: "8MiB" }];
    await timed("thick rollback", () => everyStep({
      name: "rollback (thick)", before: { disks: raw, snapshots: [thick] },
      after: (at) => ({ disks: raw, snapshots: [thick], rollbacks: [["restore", { disk: RAW, snapshot: "golden", triggers: [at] }]] }),
      prepare: () => write(RAW, "0x66", "1M").then(() => undefined),
      lvs: [RAW, `snap_${RAW}_golden`], kinds: ["fail", "drop", "power"],
      // The re-take's lvcreate cut mid-way leaves the snapshot's LV plain and unattached (LVM's first commit of two).
      power: [{ step: /^lvconvert --merge/ }, { step: /^lvcreate --yes --snapshot/ }],
      expect: async () => {
        assert.deepStrictEqual([await sum(RAW), await sum(`snap_${RAW}_golden`)], [content.raw, content.raw]);
        assert.match(await h.exec(`lvs --noheadings -o lv_attr ${VG}/snap_${RAW}_golden`), /^\s*s/, "a valid thick snapshot again");
      },
    }));
  });

  it("thick snapshot create: its one step failed, cut off, and powered off mid-lvcreate; the snapshot holds the disk's state", async () => {
    mustSucceed(await engine.up(programOf({ disks: raw })));
    await write(RAW, "0x77", "2M");
    const want = await sum(RAW);
    const snap = `snap_${RAW}_taken`;
    await timed("thick snapshot create", () => everyStep({
      name: "thick snapshot create", before: { disks: raw }, after: () => ({ disks: raw, snapshots: [["taken", { disk: RAW, name: "taken", size: "8MiB" }]] }),
      lvs: [RAW, snap], kinds: ["fail", "drop", "power"],
      // Mid-lvcreate, a power loss can leave the snapshot's LV plain and unattached (LVM commits it twice).
      power: [{ step: /^lvcreate --yes --snapshot/ }],
      expect: async () => {
        assert.strictEqual((await h.exec(`lvs --noheadings -o origin ${VG}/${snap}`)).trim(), RAW, "a snapshot of the disk");
        assert.deepStrictEqual([await sum(RAW), await sum(snap)], [want, want]);
      },
    }));
    mustSucceed(await engine.up(programOf({})));
  });

  it("thin rollback to the older of two snapshots: every step in turn; the disk ends golden and both snapshots intact", async () => {
    const golden: [string, Args<SnapshotArgs>] = ["golden", { disk: THIN, name: "golden" }];
    const later: [string, Args<SnapshotArgs>] = ["later", { disk: THIN, name: "later" }];
    mustSucceed(await engine.up(programOf({ pools: pool, disks: thin })));
    await write(THIN, "0x77", "0");
    content.thinGolden = await sum(THIN);
    mustSucceed(await engine.up(programOf({ pools: pool, disks: thin, snapshots: [golden] })));
    await write(THIN, "0x78", "1M");
    content.thinLater = await sum(THIN);
    const before = { pools: pool, disks: thin, snapshots: [golden, later] };
    await timed("thin rollback", () => everyStep({
      name: "rollback (thin)", before,
      after: (at) => ({ ...before, rollbacks: [["restore", { disk: THIN, snapshot: "golden", triggers: [at] }]] }),
      prepare: () => write(THIN, "0x79", "2M").then(() => undefined),
      lvs: ["pool", THIN, `snap_${THIN}_golden`, `snap_${THIN}_later`], kinds: ["fail", "drop", "power"],
      expect: async () => {
        assert.deepStrictEqual([await sum(THIN), await sum(`snap_${THIN}_golden`), await sum(`snap_${THIN}_later`)],
          [content.thinGolden, content.thinGolden, content.thinLater]);
      },
    }));
  });

  it("qcow2 disk create from a source image: every step in turn; the disk holds the image's content", async () => {
    await h.exec(`qemu-img create -q -f qcow2 ${SOURCE} 24M && qemu-io -f qcow2 -c 'write -P 0x5a 1M 3M' ${SOURCE} >/dev/null`);
    const image = await contentSha256(h, SOURCE, "qcow2");
    const imported = { imported: { name: IMPORTED, size: "32MiB", format: "qcow2" as const, source: { path: SOURCE } } };
    await timed("qcow2 import", () => everyStep({
      name: "qcow2 disk create from a source", before: {}, after: () => ({ disks: imported }), lvs: [IMPORTED], kinds: ["fail", "drop", "power"],
      expect: async () => {
        await clean(IMPORTED);
        // The import keeps the image's content; the disk's 32 MiB past the image's 24 MiB read as zeroes.
        assert.strictEqual(await h.exec(`qemu-img compare -U -f qcow2 -F qcow2 ${SOURCE} ${dev(IMPORTED)} >/dev/null && echo same`), "same\n");
        assert.strictEqual(await contentSha256(h, SOURCE, "qcow2"), image);
      },
    }));
    await h.exec(`rm -f ${SOURCE}`);
  });

  it("VG device removal (pvmove): every step in turn; the data moved intact, the device out of the VG and clear", async () => {
    const [keep, remove] = [h.disks[4], h.disks[5]];
    await scrubDisks(h, [keep, remove], [MOVING_VG]);
    const both = { vgs: { moving: { name: MOVING_VG, devices: [keep, remove], forceDestroy: true } } };
    const one = { vgs: { moving: { name: MOVING_VG, devices: [keep], forceDestroy: true } } };
    mustSucceed(await engine.up(programOf(both)));
    // An LV outside the stack, on the device to remove: the removal must move it, byte for byte.
    await h.exec(`lvcreate -qq -y -n data -L 16m ${MOVING_VG} ${remove} && dd if=/dev/urandom of=/dev/${MOVING_VG}/data bs=1M count=16 oflag=direct status=none`);
    const data = (await h.exec(`sha256sum < /dev/${MOVING_VG}/data`)).slice(0, 64);
    await timed("VG device removal", () => everyStep({
      name: "VG device removal", before: both, after: () => one, lvs: [], kinds: ["fail", "drop", "power"], power: [{ step: /^pvmove/, cut: { delay: 1 } }],
      // Put the LV back on the device to remove, so every attempt has extents to move.
      prepare: () => h.exec(`lvs --noheadings -o devices ${MOVING_VG}/data | grep -q ${remove} || pvmove -i0 -n data ${keep} ${remove} >/dev/null`).then(() => undefined),
      expect: async () => {
        assert.strictEqual((await h.exec(`sha256sum < /dev/${MOVING_VG}/data`)).slice(0, 64), data, "the moved LV keeps its content");
        assert.strictEqual((await h.exec(`pvs --noheadings -o pv_name,vg_name | tr -s ' ' | grep -c ' ${MOVING_VG}$'`)).trim(), "1");
        assert.strictEqual((await h.exec(`pvs ${remove} >/dev/null 2>&1 && echo pv || echo clear`)).trim(), "clear");
      },
    }));
    mustSucceed(await engine.up(programOf({})));
    await scrubDisks(h, [keep, remove], [MOVING_VG]);
  });

  it("export through a temporary snapshot: every step failed in turn; no partial file, no temporary LV, then exported", async () => {
    mustSucceed(await engine.up(programOf({ disks: raw })));
    const want = await sum(RAW);
    await timed("export", () => everyStep({
      name: "export (temporary snapshot)", before: { disks: raw }, after: () => ({ disks: raw, exports: [["out", { disk: RAW, path: EXPORT }]] }),
      lvs: [RAW], kinds: ["fail", "power"],
      expect: async () => {
        assert.strictEqual((await h.exec(`sha256sum < ${EXPORT} | cut -c1-64`)).trim(), want);
        assert.strictEqual((await h.exec(`ls /var/tmp | grep pulumi-lvm-partial || true`)).trim(), "");
      },
    }));
  });
});
