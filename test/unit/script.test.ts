import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HostCommandError, quote, Script, sh } from "../../provider/command";
import { HOSTILE_STRINGS } from "../support/hostile";
import { LocalShell } from "../support/localShell";

const shell = new LocalShell();

describe("command scripts (run by a real local sh)", () => {
  it("passes every hostile string through as one literal argument", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "quote-"));
    const script = new Script("echo");
    HOSTILE_STRINGS.forEach((s, i) => script.capture(`s${i}`, ["printf", "%s", s]));
    script.captureCode("vars", sh`printf '%s' "$value"`, { value: HOSTILE_STRINGS.join("|") });
    const out = await shell.run(script);
    HOSTILE_STRINGS.forEach((s, i) => assert.strictEqual(out.sections[`s${i}`], s.replace(/\n$/, "")));
    assert.strictEqual(out.sections.vars, HOSTILE_STRINGS.join("|"));
    for (let n = 1; n <= 9; n++) assert.ok(!fs.existsSync(`/tmp/pwned-${n}`), `pwned-${n} was created`);
    fs.rmSync(dir, { recursive: true });
  });

  it("refuses NUL bytes and interpolation into constant code", () => {
    assert.throws(() => quote("a\0b"), /NUL/);
    const value = "x" as never;
    assert.throws(() => sh`echo ${value}`, /constant code only/);
  });

  it("names the failing step and its stderr, and stops there", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "steps-"));
    const script = new Script("make things")
      .run("first", ["touch", path.join(dir, "a")])
      .run("second", ["ls", path.join(dir, "missing")])
      .run("third", ["touch", path.join(dir, "c")]);
    await assert.rejects(shell.run(script), (e: HostCommandError) => {
      assert.strictEqual(e.step, "second");
      assert.strictEqual(e.kind, "failed");
      assert.match(e.message, /local: make things: step "second" failed \(exit 2\): .*missing/);
      return true;
    });
    assert.ok(fs.existsSync(path.join(dir, "a")));
    assert.ok(!fs.existsSync(path.join(dir, "c")));
  });

  it("undoes completed steps newest first when a later step fails, and not on success", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "undo-"));
    const log = path.join(dir, "log");
    const build = (fail: boolean) => {
      const s = new Script("multi")
        .run("one", ["touch", path.join(dir, "one")]).undo(["sh", "-c", 'echo undo-one >> "$0"', log])
        .run("two", ["touch", path.join(dir, "two")]).undo(["sh", "-c", 'echo undo-two >> "$0"', log]);
      return fail ? s.code("check", sh`__fail "no room left"`) : s;
    };
    await shell.run(build(false));
    assert.ok(!fs.existsSync(log));
    await assert.rejects(shell.run(build(true)), (e: HostCommandError) => e.kind === "refused" && /no room left/.test(e.message)
      && /earlier steps were undone on the host: nothing of it is left there/.test(e.message));
    assert.deepStrictEqual(fs.readFileSync(log, "utf8").trim().split("\n"), ["undo-two", "undo-one"]);
  });

  it("a failure past the point of no return runs no undo and says the next run finishes the work; one before any change says neither", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "journal-"));
    const kept = path.join(dir, "kept");
    const script = new Script("swap")
      .run("make", ["touch", kept]).undo(["rm", "-f", kept])
      .forgetUndos()
      .run("then fail", ["false"]);
    await assert.rejects(shell.run(script), (e: HostCommandError) =>
      /step "then fail" failed \(exit 1\)/.test(e.message) && /journal, LV tags, records where the operation stopped: the next pulumi up finishes it/.test(e.message)
      && !/undone/.test(e.message));
    assert.ok(fs.existsSync(kept), "no undo ran");
    await assert.rejects(shell.run(new Script("check").run("fail at once", ["false"])), (e: HostCommandError) =>
      !/undone|journal/.test(e.message));
  });

  it("after outliveClient, a client that goes away mid-script leaves nothing behind: the undo steps run", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gone-"));
    const made = path.join(dir, "made");
    /** Runs the script as the SSH layer does, and closes its channel (stdout, stderr) once the first step is done. */
    const runThenVanish = (script: Script) => new Promise<void>((resolve) => {
      const child = spawn("sh", ["-s"], { stdio: ["pipe", "pipe", "pipe"] });
      const watch = setInterval(() => {
        if (!fs.existsSync(made)) return;
        clearInterval(watch);
        child.stdout.destroy();
        child.stderr.destroy();
      }, 20);
      child.on("close", () => resolve());
      child.stdin.end(script.text());
    });
    const build = (outlive: boolean) => {
      const s = new Script("vanishing client");
      if (outlive) s.outliveClient();
      return s.run("make", ["touch", made]).undo(["rm", "-f", made]).code("wait", sh`sleep 1`).run("later", ["true"]);
    };
    await runThenVanish(build(false));
    assert.ok(fs.existsSync(made), "without it, the broken channel kills the shell before its undo");
    fs.rmSync(made);
    await runThenVanish(build(true));
    assert.ok(!fs.existsSync(made), "with it, the failed write ends the script through its undo");
    fs.rmSync(dir, { recursive: true });
  });

  it("serializes two scripts holding the same VG lock, and a timed-out wait names the holder", async () => {
    const vg = `unitlock${process.pid}`;
    const slow = (tag: string) => new Script(`slow ${tag}`).lock(vg, 10)
      .capture("t", ["sh", "-c", 'date +%s.%N; sleep 0.5; date +%s.%N']);
    const [a, b] = await Promise.all([shell.run(slow("a")), shell.run(slow("b"))]);
    const [a0, a1] = a.sections.t.split("\n").map(Number);
    const [b0, b1] = b.sections.t.split("\n").map(Number);
    assert.ok(a1 <= b0 || b1 <= a0, `intervals overlap: ${a0}-${a1} and ${b0}-${b1}`);

    const holder = shell.run(new Script("holder op").lock(vg, 10).run("hold", ["sleep", "2"]));
    await new Promise((r) => setTimeout(r, 500));
    await assert.rejects(shell.run(new Script("waiter").lock(vg, 0)), (e: HostCommandError) =>
      e.kind === "lockTimeout" && /held by: holder op \(pid \d+/.test(e.message));
    await holder;
  });

  it("refuses lock names that are not VG names", () => {
    assert.throws(() => new Script("x").lock("../etc", 1), /not a valid VG name/);
  });
});
