// Progress of long host commands: the shell side (`__progress`, run by the local sh on recorded outputs of qemu-img,
// pvmove, dd and blkdiscard) and the client side (ProgressLines, and the SSH exec passing marks on as they arrive).
import * as assert from "assert";
import { existsSync, readdirSync } from "fs";
import { EventEmitter } from "events";
import { PassThrough } from "stream";
import { Client } from "ssh2";
import { HostCommandError, MARK, ProgressFormat, ProgressLines, Script, sh } from "../../provider/command";
import { setProgressSink } from "../../provider/progress";
import { execScript } from "../../provider/ssh/exec";
import { LocalShell } from "../support/localShell";

/** A stand-in for a long command: prints each of `records` on stdout (or stderr), `pause` seconds apart. */
const replaying = (records: string[], { pause = 0, stream = "stdout", fail }: { pause?: number; stream?: "stdout" | "stderr"; fail?: string } = {}) =>
  ["sh", "-c", `for r in "$@"; do printf '%b' "$r"${stream === "stderr" ? " >&2" : ""}; sleep ${pause}; done` +
    (fail ? `; printf '%s\\n' '${fail}' >&2; exit 3` : ""), "replay", ...records];

/** qemu-img -p's records: `    (12.00/100%)` ended by a carriage return, from 0 to 100 in `steps`, then a newline. */
const qemuImgRecords = (steps: number) =>
  [...Array.from({ length: steps + 1 }, (_, i) => `    (${(100 * i / steps).toFixed(2)}/100%)\\r`), "\\n"];

/** What `__progress_read last` makes of a command's recorded output: the percentage it would show. */
async function lastPercent(format: ProgressFormat, total: number, output: string): Promise<string> {
  const script = new Script("read progress").captureCode("last", sh`__pformat=$format __ptotal=$total
printf '%b' "$output" | __progress_read last`, { format, total: String(total), output });
  return (await new LocalShell().run(script)).sections.last;
}

describe("__progress: a long command's progress, read from its own output", function () {
  this.timeout(60_000); // commands of a few seconds, on a machine that may be busy
  let lines: string[];
  beforeEach(() => { lines = []; setProgressSink((l) => lines.push(l)); });
  afterEach(() => setProgressSink(undefined));
  const leftovers = () => existsSync("/dev/shm") ? readdirSync("/dev/shm").filter((f) => f.startsWith("pulumi-lvm-progress.")) : [];

  it("reads each format's latest figure as a whole percentage", async () => {
    assert.strictEqual(await lastPercent("qemu-img", 0, "    (0.00/100%)\\r    (12.50/100%)\\r    (37.51/100%)\\r"), "37");
    assert.strictEqual(await lastPercent("qemu-img", 0, "    (100.00/100%)\\r\\nImage committed.\\n"), "100");
    assert.strictEqual(await lastPercent("pvmove", 0, "  /dev/vdb: Moved: 0.00%\\n  /dev/vdb: Moved: 23.53%\\n"), "23");
    assert.strictEqual(await lastPercent("dd", 400 * 2 ** 20,
      "104857600 bytes (105 MB, 100 MiB) copied, 1 s, 105 MB/s\\r209715200 bytes (210 MB, 200 MiB) copied, 2 s, 105 MB/s\\r"), "50");
    assert.strictEqual(await lastPercent("blkdiscard", 256 * 2 ** 20,
      "/dev/data/d: Zero-filled 67108864 bytes from the offset 0\\n/dev/data/d: Zero-filled 134217728 bytes from the offset 67108864\\n"), "75");
    assert.strictEqual(await lastPercent("qemu-img", 0, "qemu-img: Could not open 'x': No such file\\n"), "", "no figure in an error");
  });

  it("prints `<text> N%` marks while the command runs, passed on as progress and kept out of the output", async () => {
    const script = new Script("import").runWithProgress("long", replaying(qemuImgRecords(40), { pause: 0.15 }),
      { text: "VmDisk data/vm-1-disk-0: importing /srv/a b.qcow2", format: "qemu-img" }).run("after", ["echo", "next step ran"]);
    const r = await new LocalShell().run(script);
    assert.ok(lines.length >= 1, "a 6 s command shows its progress at least once");
    const figures = lines.map((l) => {
      const m = /^VmDisk data\/vm-1-disk-0: importing \/srv\/a b\.qcow2 (\d+)%$/.exec(l);
      assert.ok(m, l);
      return Number(m[1]);
    });
    assert.deepStrictEqual(figures, [...figures].sort((a, b) => a - b), "the figures grow");
    assert.ok(new Set(figures).size === figures.length, `each line tells something new: ${figures}`);
    assert.ok(!r.stderr.includes("/100%") && !r.stderr.includes(MARK.progress), r.stderr);
    assert.match(r.stderr, /next step ran/, "the script goes on after it");
    assert.deepStrictEqual(leftovers(), []);
  });

  it("keeps the command's failure: its exit status and its own stderr are the step's error, without progress", async () => {
    const script = new Script("import").runWithProgress("qemu-img convert",
      replaying(qemuImgRecords(20), { pause: 0.15, fail: "qemu-img: error while writing at byte 0: No space left on device" }),
      { text: "VmDisk data/d: importing /x", format: "qemu-img" }).run("after", ["echo", "must not run"]);
    await assert.rejects(new LocalShell().run(script), (e: HostCommandError) => {
      assert.strictEqual(e.step, "qemu-img convert");
      assert.strictEqual(e.exitCode, 3);
      assert.match(e.message, /step "qemu-img convert" failed \(exit 3\): qemu-img: error while writing at byte 0: No space left on device$/);
      assert.ok(!e.message.includes("must not run") && !e.message.includes("100%"), e.message);
      return true;
    });
    assert.ok(lines.length >= 1, lines.join("\n"));
    assert.deepStrictEqual(leftovers(), []);
  });

  it("reads a count of bytes against the total, from stderr as dd writes it (status=progress)", async () => {
    const MiB = 2 ** 20;
    const records = [1, 2, 3, 4].map((n) => `${n * 64 * MiB} bytes (${n * 67} MB, ${n * 64} MiB) copied, ${n} s, 67 MB/s\\r`);
    const script = new Script("wipe").runWithProgress("zero", replaying([...records, "\\n4+0 records in\\n4+0 records out\\n"], { pause: 1, stream: "stderr" }),
      { text: "VmDisk data/d: writing zeros over the disk", format: "dd", totalBytes: 256 * MiB });
    const r = await new LocalShell().run(script);
    assert.ok(lines.length >= 1 && lines.every((l) => /^VmDisk data\/d: writing zeros over the disk (25|50|75|100)%$/.test(l)), lines.join("\n"));
    assert.match(r.stderr, /4\+0 records out/, "what is not progress is kept");
  });
});

describe("ProgressLines: progress marks split from a script's stderr as it arrives", () => {
  const split = (...chunks: string[]) => {
    const reported: string[] = [];
    let passed = "";
    const p = new ProgressLines((l) => reported.push(l), (t) => (passed += t));
    const seen: number[] = [];
    for (const c of chunks) { p.write(Buffer.from(c)); seen.push(reported.length); }
    p.end();
    return { reported, passed, seen };
  };

  it("reports a mark once its line is whole, however the chunks cut it, and passes the rest unchanged", () => {
    const { reported, passed, seen } = split(`${MARK.step}import\nwarn`, `ing: x\n::pulumi-lvm:pro`, `gress VmDisk a: importing 40%\n${MARK.progress}B 1`, `0%\ntail`);
    assert.deepStrictEqual(reported, ["VmDisk a: importing 40%", "B 10%"]);
    assert.deepStrictEqual(seen, [0, 0, 1, 2], "each as soon as its newline came");
    assert.strictEqual(passed, `${MARK.step}import\nwarning: x\ntail`);
  });

  it("takes a mark only at the start of a line, and keeps a character cut between chunks whole", () => {
    const euro = Buffer.from("€ costs\n");
    const p = { reported: [] as string[], passed: "" };
    const lines = new ProgressLines((l) => p.reported.push(l), (t) => (p.passed += t));
    lines.write(Buffer.from(`say ${MARK.progress}x\n`));
    lines.write(euro.subarray(0, 1));
    lines.write(euro.subarray(1));
    lines.end();
    assert.deepStrictEqual(p.reported, []);
    assert.strictEqual(p.passed, `say ${MARK.progress}x\n€ costs\n`);
  });
});

describe("ssh exec: progress marks", () => {
  class FakeChannel extends EventEmitter {
    readonly stderr = new PassThrough();
    end(): void { /* the script */ }
    signal(): void { /* none */ }
    close(): void { /* none */ }
  }
  afterEach(() => setProgressSink(undefined));

  it("passes marks on while the script runs, and leaves them out of a failure's error", async () => {
    const lines: string[] = [];
    setProgressSink((l) => lines.push(l));
    const channel = new FakeChannel();
    const client = { exec: (_: string, cb: (err: undefined, c: FakeChannel) => void) => cb(undefined, channel) } as unknown as Client;
    const script = new Script("import disk").run("qemu-img convert", ["qemu-img", "convert"]);
    const running = execScript(client, "root@h:22", "sh -s", script, 60, () => undefined);
    channel.stderr.write(`${MARK.step}qemu-img convert\n${MARK.progress}VmDisk vg/d: importing /x 10%\n`);
    await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(lines, ["VmDisk vg/d: importing /x 10%"], "before the script ends");
    channel.stderr.write(`${MARK.progress}VmDisk vg/d: importing /x 20%\nqemu-img: error while writing\n`);
    await new Promise((r) => setImmediate(r));
    channel.emit("exit", 1);
    channel.emit("close");
    const raw = await running;
    assert.deepStrictEqual(lines, ["VmDisk vg/d: importing /x 10%", "VmDisk vg/d: importing /x 20%"]);
    assert.strictEqual(raw.stderr, `${MARK.step}qemu-img convert\nqemu-img: error while writing\n`);
  });
});
