import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { convergenceProblems, Declared, Seen } from "../support/convergence";
import { cutProblem, earlierCuts, STEP_COMMANDS, stepCountProblem } from "../support/faults";

/**
 * The fault suite's own judgement (test/faults/steps.test.ts, test/support/convergence.ts, test/support/faults.ts),
 * without a host: each check must refuse a host or a run that is not what the suite claims.
 */
describe("fault suite: what counts as converged", () => {
  const A = "a".repeat(64);
  const B = "b".repeat(64);
  const CLEAN = "No errors were found on the image.\nImage end offset: 393216\n";
  /** A host converged on `declared`: what each VG holds, read as it must, every qcow2 image clean, nothing to preview. */
  const convergedOn = (declared: Declared): Seen => ({
    lvs: Object.entries(declared).flatMap(([vg, lvs]) => Object.keys(lvs).map((name) => ({ vg, name, tags: [] as string[] }))),
    vgs: Object.keys(declared).map((name) => ({ name, tags: [] })),
    sums: Object.fromEntries(Object.entries(declared).flatMap(([vg, lvs]) =>
      Object.entries(lvs).filter(([, s]) => s !== null).map(([lv, s]) => [`${vg}/${lv}`, s as string]))),
    checks: Object.fromEntries(Object.entries(declared).flatMap(([vg, lvs]) =>
      Object.keys(lvs).filter((lv) => lv.endsWith(".qcow2")).map((lv) => [`${vg}/${lv}`, CLEAN]))),
    preview: [],
    pending: [],
  });
  const chain: Declared = { faults: { "vm-601-disk-0.qcow2": A, "snap_vm-601-disk-0_s1.qcow2": B } };

  it("accepts a host that holds exactly what was declared", () => {
    assert.deepStrictEqual(convergenceProblems(chain, convergedOn(chain)), []);
    const pool: Declared = { faults: { pool: null, "vm-603-disk-0": A } };
    const seen = convergedOn(pool);
    seen.lvs.push({ vg: "faults", name: "[pool_tdata]", tags: [] }, { vg: "faults", name: "[pool_tmeta]", tags: [] },
      { vg: "faults", name: "[lvol0_pmspare]", tags: [] });
    seen.lvs[0].tags.push("pulumi-lvm/thin-refuse-above=95");
    assert.deepStrictEqual(convergenceProblems(pool, seen), [], "a pool's hidden LVs and lasting markers are no leftovers");
  });

  it("looks at every VG the operation touched: an LV left in the VG a device was removed from", () => {
    const declared: Declared = { "faults-moving": { data: A } };
    const seen = convergedOn(declared);
    seen.lvs.push({ vg: "faults-moving", name: "lvol0", tags: [] }, { vg: "faults-moving", name: "[pvmove0]", tags: [] });
    assert.deepStrictEqual(convergenceProblems(declared, seen), [
      'VG faults-moving holds ["data","lvol0"], declared ["data"]; left over: lvol0',
      "VG faults-moving holds the hidden LV [pvmove0], left over",
    ]);
    assert.match(convergenceProblems(declared, { ...convergedOn(declared), lvs: [] }).join("\n"), /missing: data/);
  });

  it("refuses a journal entry left on an LV or a VG, and a second preview with something to do", () => {
    const declared: Declared = { faults: { pool: null, "vm-601-disk-0.qcow2": A } };
    const seen = convergedOn(declared);
    seen.lvs[1].tags.push("pulumi-lvm/creating");
    seen.vgs[0].tags.push("pulumi-lvm/pool-creating=pool:0", "user-tag");
    seen.preview = ["update pool"];
    assert.deepStrictEqual(convergenceProblems(declared, seen), [
      "faults/vm-601-disk-0.qcow2 still carries the journal tag(s) pulumi-lvm/creating",
      "VG faults still carries the journal tag(s) pulumi-lvm/pool-creating=pool:0",
      "the second preview still has something to do: update pool",
    ]);
    assert.match(convergenceProblems(declared, { ...convergedOn(declared), preview: { failed: "boom" } }).join(), /second preview failed: boom/);
    assert.deepStrictEqual(convergenceProblems(declared, { ...seen, preview: [], pending: ["s1"] }), [],
      "a journal entry the state reports as pending is no leftover");
  });

  it("checks every image of a chain with qemu-img check, and what every disk and snapshot reads", () => {
    const seen = convergedOn(chain);
    seen.checks["faults/snap_vm-601-disk-0_s1.qcow2"] = "Leaked cluster 7 refcount=1 reference=0\nERROR cluster 9 refcount=0 reference=1\n1 errors were found on the image.\n";
    seen.sums["faults/snap_vm-601-disk-0_s1.qcow2"] = A;
    assert.deepStrictEqual(convergenceProblems(chain, seen), [
      `faults/snap_vm-601-disk-0_s1.qcow2 reads as ${A}, must read as ${B}`,
      "qemu-img check faults/snap_vm-601-disk-0_s1.qcow2: Leaked cluster 7 refcount=1 reference=0 / ERROR cluster 9 refcount=0 reference=1 / 1 errors were found on the image.",
    ]);
    const unchecked = convergedOn(chain);
    delete unchecked.checks["faults/snap_vm-601-disk-0_s1.qcow2"];
    delete unchecked.sums["faults/vm-601-disk-0.qcow2"];
    assert.deepStrictEqual(convergenceProblems(chain, unchecked), [
      "faults/vm-601-disk-0.qcow2 reads nothing (not read), must read as " + A,
      "faults/snap_vm-601-disk-0_s1.qcow2 was not checked with qemu-img check",
    ]);
  });
});

describe("fault suite: power cuts are what they say", () => {
  it("a cut asked mid-way that came after the command ended is refused", () => {
    assert.strictEqual(cutProblem({ delay: 0.3 }, "mid-way"), undefined);
    assert.strictEqual(cutProblem({ written: 512 * 1024 }, "ended"), "the command was frozen ended, not mid-way");
    assert.strictEqual(cutProblem("ended", "ended"), undefined);
    assert.strictEqual(cutProblem("ended", "mid-way"), "the command was frozen mid-way, not ended");
  });

  it("a late freeze is tried again earlier, a bounded number of times", () => {
    assert.deepStrictEqual(earlierCuts({ delay: 0.3 }), [0.3, 0.15, 0.075, 0.037, 0.019].map((delay) => ({ delay })));
    assert.deepStrictEqual(earlierCuts({ written: 512 * 1024 }), [512, 256, 128, 64].map((k) => ({ written: k * 1024 })));
    assert.deepStrictEqual(earlierCuts("ended"), ["ended"]);
  });
});

describe("fault suite: which commands are steps", () => {
  const REPO = path.resolve(__dirname, "..", "..", "..");
  const sources = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [fs.readFileSync(path.join(dir, e.name), "utf8")] : []);
  const provider = sources(path.join(REPO, "provider")).join("\n");
  const wrapped = new Set(STEP_COMMANDS.map((s) => s.command));

  /** Whether the wrapper of `command` counts a call with `args`, by its own predicate, in a real sh. */
  const isStep = (command: string, args: string[]) => {
    const step = STEP_COMMANDS.find((s) => s.command === command)?.step ?? "return 0";
    try { execFileSync("sh", ["-c", `is_step() {\n${step}\n}\nis_step "$@"`, "sh", ...args]); return true; } catch { return false; }
  };

  it("wraps every LVM command the provider runs that changes metadata; the others only read", () => {
    const READS = ["lvs", "vgs", "pvs", "lvm", "lvmreport", "lvmconfig", "lvdisplay", "vgdisplay", "pvdisplay", "lvscan", "vgscan", "pvscan", "vgck",
      "lvmthin", "lvol", "pve"]; // the last three are words (LVM's, and a tag in an example), not commands
    const named = [...new Set(provider.match(/\b(lv|vg|pv)[a-z]+\b/g))];
    assert.deepStrictEqual(named.filter((c) => !wrapped.has(c) && !READS.includes(c)), [], "LVM commands the provider names that are not wrapped");
  });

  it("wraps every other tool the provider runs on a device or an image", () => {
    const tools = ["wipefs", "blkdiscard", "dd", "qemu-img", "sfdisk", "sgdisk", "parted", "truncate", "fallocate", "dmsetup", "blockdev"];
    const READS = ["dmsetup", "blockdev"]; // dmsetup info, blockdev --getsize64
    const named = tools.filter((t) => new RegExp(`(^|[\\s"'\`(])${t}\\b`).test(provider));
    assert.deepStrictEqual(named.filter((c) => !wrapped.has(c) && !READS.includes(c)), [], "tools the provider names that are not wrapped");
    for (const read of READS) {
      // Where a script runs it (an argv, or a command substitution), with what it does first.
      const uses = provider.match(new RegExp(`(\\["|\\$\\()${read}"?,? "?[a-z0-9-]+`, "g")) ?? [];
      assert.ok(uses.length > 0 && uses.every((u) => /info$|--getsize64$/.test(u)), `${read} only reads: ${uses.join(", ")}`);
    }
  });

  it("counts the calls that change something, and passes the reads through", () => {
    const steps: Array<[string, string[], boolean]> = [
      ["wipefs", ["--all", "--quiet", "--", "/dev/vdb"], true],
      ["wipefs", ["-a", "-q", "/dev/vdb"], true],
      ["wipefs", ["-qa", "/dev/vdb"], true],
      ["wipefs", ["--noheadings", "--output", "TYPE", "--", "/dev/vdb"], false],
      ["dd", ["if=/dev/zero", "of=/dev/faults/vm-602-disk-0", "bs=1M", "oflag=direct"], true],
      ["dd", ["if=/dev/faults/vm-602-disk-0", "of=/root/x", "bs=1M"], false],
      ["blkdiscard", ["--zeroout", "/dev/faults/vm-602-disk-0"], true],
      ["qemu-img", ["create", "-q", "-f", "qcow2", "/dev/faults/x", "32M"], true],
      ["qemu-img", ["create", "-f", "qcow2", "-o", "help"], false],
      ["qemu-img", ["commit", "-q", "-f", "qcow2", "/dev/faults/x"], true],
      ["qemu-img", ["rebase", "-q", "-b", "/dev/faults/y", "/dev/faults/x"], true],
      ["qemu-img", ["resize", "-q", "/dev/faults/x", "64M"], true],
      ["qemu-img", ["convert", "-n", "-O", "qcow2", "/var/tmp/a", "/dev/faults/x"], true],
      ["qemu-img", ["snapshot", "-l", "/dev/faults/x"], false],
      ["qemu-img", ["info", "--output=json", "/dev/faults/x"], false],
      ["qemu-img", ["check", "-U", "/dev/faults/x"], false],
      ["qemu-img", ["measure", "--output=json", "--size", "1", "-O", "qcow2"], false],
      ["lvchange", ["-ay", "faults/x"], true],
      ["pvremove", ["--yes", "--", "/dev/vdb"], true],
    ];
    assert.deepStrictEqual(steps.filter(([c, args, want]) => isStep(c, args) !== want).map(([c, args, want]) => `${c} ${args.join(" ")}: ${want ? "a step" : "a read"}`), []);
  });

  it("an operation that loses or gains a step fails until its scenario says the new number", () => {
    const calls = ["1 vgchange --addtag pulumi-lvm/pool-creating=pool:0 -- faults", "2 lvcreate --yes --type thin-pool -L 134217728b -n pool faults",
      "3 vgchange --deltag pulumi-lvm/pool-creating=pool:0 -- faults"];
    assert.strictEqual(stepCountProblem(3, calls), undefined);
    assert.match(stepCountProblem(2, calls) ?? "", /^counted 3 steps where the scenario declares 2; if the operation changed on purpose, update the scenario/);
    assert.match(stepCountProblem(4, calls) ?? "", /^counted 3 steps where the scenario declares 4/);
  });
});
