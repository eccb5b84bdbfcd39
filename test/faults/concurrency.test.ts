import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { mustSucceed, stopwatch, testEngine } from "../support/engine";
import { installWrapper, removeWrappers, rootConnectionArgs, scrubDisks } from "../support/guest";
import { useTestHost } from "../support/hooks";
import { upInOtherProcess } from "../support/otherProcess";
import {
  CONCURRENT_EXPORT as EXPORT, CONCURRENT_VG as VG, qcow2Disk as qcow2, qcow2Stack, rawDisk as raw,
  SIXTEEN_EXPORT, SIXTEEN_VG, sixteenLvs, sixteenQcow2, sixteenRaw, sixteenStack,
} from "./concurrencyStacks";

const LOG = "/run/pulumi-lvm-concurrency";
const TOOLS = ["lvcreate", "lvremove", "lvrename", "lvchange"];

/**
 * A VG on `pvs` whose metadata changes are watched: a wrapper around the LVM tools that change it checks, as each runs,
 * that the VG's lock is held. `checkClean` then asserts that none ran outside it, and that vgck finds the metadata clean.
 */
function lockCheckedVg(vg: string, disks: (h: TestHost) => string[], extraCleanup = "") {
  let h: TestHost;
  let pvs: string[];
  const lvNames = async () => (await h.exec(`lvs --noheadings -o lv_name ${vg}`)).split("\n").map((l) => l.trim()).filter(Boolean);
  const checkClean = async () => {
    assert.strictEqual((await h.exec(`vgck ${vg} 2>&1 && echo clean`)).trim().split("\n").pop(), "clean", "vgck finds the VG's metadata clean");
    assert.strictEqual((await h.exec(`cat ${LOG}/unlocked 2>/dev/null || true`)).trim(), "", "no LVM change ran outside the VG's lock");
    assert.ok(Number((await h.exec(`wc -l < ${LOG}/calls`)).trim()) > 0, "the wrappers saw the changes");
  };
  const setUp = async () => {
    h = await useTestHost();
    pvs = disks(h);
    await scrubDisks(h, pvs, [vg]);
    const wrappers = TOOLS.map((tool) => installWrapper(tool, `#!/bin/sh
case " $* " in *" ${vg} "*|*" ${vg}/"*) ;; *) exec /usr/sbin/${tool} "$@" ;; esac
case "${tool} $*" in lvchange*" --activate "*|lvchange*" -ay "*) exec /usr/sbin/${tool} "$@" ;; esac # activation changes no metadata
echo "${tool} $*" >> ${LOG}/calls
if flock -n /run/lock/pulumi-lvm/${vg}.lock true; then echo "${tool} $*" >> ${LOG}/unlocked; fi
exec /usr/sbin/${tool} "$@"
`)).join("\n");
    await h.exec(`vgcreate -y ${vg} ${pvs.join(" ")} >/dev/null && rm -rf ${LOG} ${extraCleanup} && mkdir -p ${LOG} /run/lock/pulumi-lvm\n${wrappers}`);
    return h;
  };
  const tearDown = async () => {
    if (h) {
      await h.exec(`${removeWrappers(TOOLS)}; rm -rf ${LOG} ${extraCleanup}`);
      await scrubDisks(h, pvs, [vg]);
    }
    await closeAll();
  };
  return { setUp, tearDown, lvNames, checkClean };
}

/**
 * Two stacks working on one VG at once, as two `pulumi up` would: one in this process, the other in a process of its
 * own, so two plugin processes, each with its own SSH connection and its resources in flight together: 29 resources
 * in all. Everything must succeed, no change to the VG's metadata may run outside its lock, and the VG's metadata and
 * every qcow2 image must be clean afterwards.
 */
describe("two stacks on one VG at once (e2e)", function () {
  let h: TestHost;
  const a = testEngine("concurrent-a").engine;
  const otherState = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-other-")), "state.json");
  const other = (op: "up" | "destroy") => upInOtherProcess({
    module: path.join(__dirname, "concurrencyStacks.js"), program: "rawStack", args: rootConnectionArgs(h), stateFile: otherState, op,
  });
  const { timings, timed } = stopwatch();
  const vg = lockCheckedVg(VG, (host) => [host.disks[2], host.disks[3]], `${EXPORT}*`);
  const { lvNames, checkClean } = vg;

  before(async () => { h = await vg.setUp(); });
  after(async () => {
    await vg.tearDown();
    process.stderr.write(`      [concurrency timings] ${timings.join("; ")}\n`);
  });

  it("both stacks' ups at once: every disk, snapshot and the export made, each change under the lock, the VG and images clean", async () => {
    const [ra, rb] = await timed("two ups at once (29 resources)", () => Promise.all([a.up(qcow2Stack(rootConnectionArgs(h))), other("up")]));
    mustSucceed(ra);
    mustSucceed(rb);
    const names = await lvNames();
    for (let i = 0; i < 8; i++) assert.ok(names.includes(qcow2(i)) && names.includes(`snap_vm-90${i}-disk-0_golden.qcow2`), qcow2(i));
    for (let i = 0; i < 6; i++) assert.ok(names.includes(raw(i)) && names.includes(`snap_${raw(i)}_golden`), raw(i));
    assert.strictEqual(names.length, 28, `only the declared LVs (no temporary snapshot): ${names.join(" ")}`);
    const checks = await h.exec(Array.from({ length: 8 }, (_, i) =>
      `qemu-img check -q /dev/${VG}/${qcow2(i)} && qemu-img info -U --output=json /dev/${VG}/${qcow2(i)} | grep -c '"backing-filename": "snap_vm-90${i}-disk-0_golden.qcow2"'`).join(" && "));
    assert.deepStrictEqual(checks.trim().split("\n"), Array(8).fill("1"), "every overlay is clean and backed by its own snapshot");
    assert.strictEqual((await h.exec(`sha256sum < ${EXPORT} | cut -c1-64`)).trim(), (await h.exec(`sha256sum < /dev/${VG}/${raw(0)} | cut -c1-64`)).trim());
    await checkClean();
  });

  it("both stacks destroyed at once: the VG empty and clean", async () => {
    const [ra, rb] = await timed("two destroys at once", () => Promise.all([a.destroy(), other("destroy")]));
    mustSucceed(ra);
    mustSucceed(rb);
    assert.deepStrictEqual(await lvNames(), []);
    await checkClean();
  });
});

/**
 * One engine, one plugin, one SSH connection, one VG: 16 resources in flight at once (disks, chain and thick
 * snapshots, an export, on disks made by a first up), then a destroy of all 22, dependents first and in parallel.
 */
describe("16 resources in flight at once on one VG, one engine (e2e)", function () {
  let h: TestHost;
  const { engine } = testEngine("sixteen");
  const { timings, timed } = stopwatch();
  const vg = lockCheckedVg(SIXTEEN_VG, (host) => [host.disks[2], host.disks[3]], `${SIXTEEN_EXPORT}*`);
  const { lvNames, checkClean } = vg;

  before(async () => { h = await vg.setUp(); });
  after(async () => {
    await vg.tearDown();
    process.stderr.write(`      [16 in flight timings] ${timings.join("; ")}\n`);
  });

  it("an up with 16 creates in flight: all made, each change under the lock, the VG and every image clean", async () => {
    mustSucceed(await timed("up: 6 disks at once", () => engine.up(sixteenStack(rootConnectionArgs(h), false))));
    const r = mustSucceed(await timed("up: 16 more at once", () => engine.up(sixteenStack(rootConnectionArgs(h), true))));
    assert.strictEqual(r.steps.filter((s) => s.op === "create").length, 16);
    assert.ok(r.maxInFlight >= 16, `16 creates in flight at once (saw ${r.maxInFlight})`);
    const names = await lvNames();
    for (const lv of sixteenLvs()) assert.ok(names.includes(lv), `${lv} in ${names.join(" ")}`);
    assert.strictEqual(names.length, sixteenLvs().length, `only the declared LVs (no temporary snapshot): ${names.join(" ")}`);
    const checks = await h.exec(Array.from({ length: 4 }, (_, i) => `qemu-img check -q /dev/${SIXTEEN_VG}/${sixteenQcow2(i)} && ` +
      `qemu-img info -U --output=json /dev/${SIXTEEN_VG}/${sixteenQcow2(i)} | grep -c '"backing-filename": "snap_${sixteenQcow2(i).replace(/\.qcow2$/, "")}_golden.qcow2"'`).join(" && "));
    assert.deepStrictEqual(checks.trim().split("\n"), Array(4).fill("1"), "every overlay is clean and backed by its own snapshot");
    assert.strictEqual((await h.exec(`sha256sum < ${SIXTEEN_EXPORT} | cut -c1-64`)).trim(), (await h.exec(`sha256sum < /dev/${SIXTEEN_VG}/${sixteenRaw(0)} | cut -c1-64`)).trim());
    await checkClean();
  });

  it("a destroy of all 22, in parallel: the VG empty and clean", async () => {
    const r = mustSucceed(await timed("destroy: 22", () => engine.destroy()));
    assert.strictEqual(r.steps.filter((s) => s.op === "delete").length, 22);
    assert.ok(r.maxInFlight >= 16, `the 6 snapshots, the export and the 9 disks nothing depends on deleted at once (saw ${r.maxInFlight} in flight)`);
    assert.deepStrictEqual(await lvNames(), []);
    await checkClean();
  });
});
