// The engine driver (test/engine) against the real dynamic-provider plugin, with a toy provider whose
// resources are files (test/engine/fixtures/files). Each operation starts one plugin process (~0.6 s).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Engine, Result } from "../engine/driver";
import { isSecret, UNKNOWN } from "../engine/values";

const programDir = path.join(__dirname, "..", "engine", "fixtures", "files");
const indexProgram = () => require(path.join(programDir, "index.js"));
/** Loaded inside each program run: the driver re-loads the program's modules every time, like a new process. */
const fixture = (): typeof import("../engine/fixtures/files/provider") => require(path.join(programDir, "provider.js"));
const TOKEN = "tok-3f9a1c-plaintext";

interface Op { op: string; file: string; content?: string; changed?: string[]; tokenBytes?: number }

function stack(root: string, name: string) {
  const dir = path.join(root, name);
  const filesDir = path.join(dir, "files");
  fs.mkdirSync(filesDir, { recursive: true });
  const logFile = path.join(dir, "ops.log");
  const lines: string[] = [];
  const engine = new Engine({
    programDir, stateFile: path.join(dir, "state.json"), project: "files", stack: name, log: (l) => lines.push(l),
    config: { "files:dir": filesDir, "files:logFile": logFile, "files:token": { secret: TOKEN } },
  });
  let seen = 0;
  /** Provider calls since the last time this was called. */
  const newOps = (): Op[] => {
    const all = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
    return all.slice(seen, (seen = all.length));
  };
  const file = (n: string) => path.join(filesDir, n);
  const inline = (files: Array<{ name: string; fileName?: string; content?: string; label?: string; failAfterCreate?: boolean; opts?: object }>) => () => {
    const { File } = fixture();
    for (const f of files) {
      new File(f.name, { dir: filesDir, logFile, fileName: f.fileName ?? `${f.name}.txt`, content: f.content ?? f.name,
        label: f.label, failAfterCreate: f.failAfterCreate }, f.opts);
    }
  };
  return { engine, filesDir, file, newOps, lines, inline };
}

const ops = (list: Op[], ...kinds: string[]) => list.filter((o) => kinds.includes(o.op)).map((o) => `${o.op} ${o.file}`);
const summary = (r: Result, lines: string[]) => { assert.ok(r.ok, JSON.stringify(r.failures)); return lines[lines.length - 1]; };

describe("engine driver", function () {
  this.timeout(60_000);
  let root: string;
  before(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), "engine-driver-")); });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  describe("a program with a dependency (fixtures/files/index.ts)", () => {
    let s: ReturnType<typeof stack>;
    before(() => { s = stack(root, "main"); });

    it("preview plans the creates, passes unknowns to the dependant's check, and changes nothing", async () => {
      const r = await s.engine.preview(indexProgram);
      assert.strictEqual(summary(r, s.lines), "Resources: 2 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged");
      assert.deepStrictEqual(r.steps.map((x) => `${x.op} ${x.type} ${x.name}`), ["create files:File first", "create files:File second"]);
      assert.ok(s.lines.includes("  + create    files:File             first"), s.lines.join("\n"));
      const calls = s.newOps();
      assert.deepStrictEqual(ops(calls, "create", "update", "delete", "read"), []);
      // Configure received the stack config, secret config as a plain value.
      assert.deepStrictEqual(calls.filter((o) => o.op === "configure"), [{ op: "configure", file: "", content: s.filesDir, tokenBytes: TOKEN.length }]);
      assert.strictEqual(calls.find((o) => o.op === "check" && o.file === "second.txt")!.content, UNKNOWN);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), []);
      assert.ok(!fs.existsSync(path.join(root, "main", "state.json")));
      assert.strictEqual(r.outputs.firstPath, UNKNOWN);
    });

    it("up creates in dependency order, feeds real outputs to the dependant, and saves state and stack outputs", async () => {
      const r = await s.engine.up(indexProgram);
      assert.strictEqual(summary(r, s.lines), "Resources: 2 created, 0 updated, 0 replaced, 0 deleted, 0 unchanged");
      assert.deepStrictEqual(ops(s.newOps(), "create"), ["create first.txt", "create second.txt"]);
      assert.strictEqual(fs.readFileSync(s.file("second.txt"), "utf8"), `next to ${s.file("first.txt")}\ntoken=${TOKEN}`);
      assert.strictEqual(r.outputs.firstPath, s.file("first.txt"));
      assert.ok(isSecret(r.outputs.secondDigest), "additionalSecretOutputs makes the exported digest secret");
      const st = s.engine.readState();
      assert.deepStrictEqual(st.resources.map((x) => x.name), ["first", "second"]);
      assert.deepStrictEqual(st.resources[1].dependencies, [st.resources[0].urn]);
      assert.ok(r.pluginStartMs! > 0 && r.pluginStartMs! < 10_000);
    });

    it("keeps secrets out of the state file: secret inputs, outputs with the same key, additionalSecretOutputs", () => {
      const text = fs.readFileSync(path.join(root, "main", "state.json"), "utf8");
      assert.ok(!text.includes(TOKEN), "token in plaintext");
      assert.ok(text.includes('"ciphertext": "v1:'));
      assert.strictEqual(fs.statSync(path.join(root, "main", "state.json.key")).mode & 0o777, 0o600);
      const second = s.engine.readState().resources[1];
      assert.deepStrictEqual(second.inputs.token, { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: TOKEN });
      assert.ok(isSecret(second.outputs.token) && isSecret(second.outputs.digest) && !isSecret(second.outputs.path));
    });

    it("reports the size of the serialized provider", async () => {
      const st = s.engine.readState();
      const bytes = Buffer.byteLength(st.resources[0].outputs.__provider as string);
      assert.ok(bytes > 500 && bytes < 64 * 1024, `${bytes} bytes`);
      assert.ok(s.lines.some((l) => /^Serialized __provider per resource .*files:File \d+\.\d kB$/.test(l)));
      process.stderr.write(`      [engine] fixture __provider: ${bytes} bytes per resource (x2 in state: inputs and outputs)\n`);
    });

    it("a second preview shows no changes", async () => {
      const r = await s.engine.preview(indexProgram);
      assert.strictEqual(summary(r, s.lines), "Resources: 0 to create, 0 to update, 0 to replace, 0 to delete, 2 unchanged");
      assert.deepStrictEqual(ops(s.newOps(), "create", "update", "delete", "read"), []);
    });

    it("a changed field is an update in place; the dependant whose inputs did not change stays the same", async () => {
      s.engine.config["files:firstContent"] = "uno";
      const p = await s.engine.preview(indexProgram);
      // As in a real preview, an updated resource's outputs that are not inputs (path) are unknown, so the
      // dependant built from first.path shows as a possible update; up then finds it unchanged.
      assert.deepStrictEqual(p.steps.map((x) => [x.op, x.name, x.changedFields]), [["update", "first", ["content"]], ["update", "second", ["content"]]]);
      assert.strictEqual(s.newOps().find((o) => o.op === "check" && o.file === "second.txt")!.content, UNKNOWN);
      assert.ok(s.lines.includes("  ~ update    files:File             first  [content]"));
      const r = await s.engine.up(indexProgram);
      assert.strictEqual(summary(r, s.lines), "Resources: 0 created, 1 updated, 0 replaced, 0 deleted, 1 unchanged");
      assert.deepStrictEqual(ops(s.newOps(), "create", "update", "delete"), ["update first.txt"]);
      assert.strictEqual(fs.readFileSync(s.file("first.txt"), "utf8"), "uno");
    });

    it("a replace-forcing field replaces: create the new one, update dependants, delete the old one last", async () => {
      s.engine.config["files:firstName"] = "renamed.txt";
      const p = await s.engine.preview(indexProgram);
      assert.deepStrictEqual(p.steps.map((x) => [x.op, x.name]), [["replace", "first"], ["update", "second"]]);
      assert.deepStrictEqual(p.steps[0].replaceFields, ["fileName"]);
      assert.ok(s.lines.includes("  +- replace  files:File             first  [fileName] (create before delete)"));
      s.newOps();
      const r = await s.engine.up(indexProgram);
      assert.strictEqual(summary(r, s.lines), "Resources: 0 created, 1 updated, 1 replaced, 0 deleted, 0 unchanged");
      assert.deepStrictEqual(ops(s.newOps(), "create", "update", "delete"), ["create renamed.txt", "update second.txt", "delete first.txt"]);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir).sort(), ["renamed.txt", "second.txt"]);
      assert.deepStrictEqual(s.engine.readState().resources.map((x) => [x.name, x.id]), [["first", s.file("renamed.txt")], ["second", s.file("second.txt")]]);
    });

    it("refresh reports a file edited behind its back as drifted and a deleted one as gone", async () => {
      fs.writeFileSync(s.file("second.txt"), "edited by hand");
      fs.rmSync(s.file("renamed.txt"));
      const r = await s.engine.refresh();
      assert.strictEqual(summary(r, s.lines), "Resources: 1 drifted, 1 gone, 0 with refreshed outputs, 0 in sync");
      assert.deepStrictEqual(r.steps.map((x) => [x.name, x.gone ?? false, x.changedFields]), [["first", true, []], ["second", false, ["content", "digest"]]]);
      // content is an input (drift); digest is only an output, refreshed along with it.
      assert.deepStrictEqual(r.steps[1].driftedInputs, ["content"]);
      assert.match(s.lines.join("\n"), /> read .* second {2}drifted \[content\], outputs refreshed \[digest\]/);
      assert.deepStrictEqual(ops(s.newOps(), "create", "update", "delete"), []);
      const st = s.engine.readState();
      assert.deepStrictEqual(st.resources.map((x) => x.name), ["second"]);
      assert.strictEqual(st.resources[0].outputs.content, "edited by hand");
    });

    it("up after refresh recreates what is gone and repairs the drift", async () => {
      const r = await s.engine.up(indexProgram);
      // Diff receives the old *outputs*, which refresh updated to the edited content, so second is updated back.
      assert.deepStrictEqual(r.steps.map((x) => [x.op, x.name, x.changedFields]), [["create", "first", []], ["update", "second", []]]);
      assert.deepStrictEqual(ops(s.newOps(), "create", "update", "delete"), ["create renamed.txt", "update second.txt"]);
      assert.strictEqual(fs.readFileSync(s.file("second.txt"), "utf8"), `next to ${s.file("renamed.txt")}\ntoken=${TOKEN}`);
    });

    it("destroy deletes in reverse dependency order", async () => {
      const r = await s.engine.destroy();
      assert.strictEqual(summary(r, s.lines), "Resources: 0 created, 0 updated, 0 replaced, 2 deleted, 0 unchanged");
      assert.deepStrictEqual(ops(s.newOps(), "delete"), ["delete second.txt", "delete renamed.txt"]);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), []);
      assert.deepStrictEqual(s.engine.readState(), { resources: [], outputs: {} });
    });
  });

  describe("in parallel, as the engine (delayMs makes each call wait, so overlapping calls show)", () => {
    const DELAY = 300;
    /** a ← b ← c (each names the previous one's path) and d, e on their own; d is deleted with a. */
    const graph = (s: ReturnType<typeof stack>, names = ["a", "b", "c", "d", "e"]) => () => {
      const { File } = fixture();
      const common = { dir: s.filesDir, logFile: path.join(s.filesDir, "..", "ops.log"), delayMs: DELAY };
      const made: Record<string, InstanceType<typeof File>> = {};
      const file = (name: string, content: unknown, opts?: object) =>
        names.includes(name) && (made[name] = new File(name, { ...common, fileName: `${name}.txt`, content: content as string }, opts));
      file("a", "a");
      if (made.a) file("b", made.a.path);
      if (made.b) file("c", made.b.path);
      file("d", "d", made.a ? { deletedWith: made.a } : undefined);
      file("e", "e");
    };
    /** The order of begin/end events: `+x` a call on x.txt began, `-x` it ended. */
    const timeline = (list: Op[], op: string) => list.flatMap((o) =>
      o.op === `begin-${op}` ? [`+${o.file[0]}`] : o.op === op ? [`-${o.file[0]}`] : []);
    const precedes = (t: string[], x: string, y: string) => { assert.ok(t.indexOf(x) >= 0 && t.indexOf(x) < t.indexOf(y), `${x} before ${y} in ${t.join(" ")}`); };

    let s: ReturnType<typeof stack>;
    before(() => { s = stack(root, "parallel"); });

    it("up registers a resource as soon as what it depends on is created: independent creates overlap", async () => {
      const r = await s.engine.up(graph(s));
      assert.ok(r.ok, JSON.stringify(r.failures));
      const t = timeline(s.newOps(), "create");
      for (const x of ["+a", "+e"]) precedes(t, x, "-a"); // the two roots at once
      precedes(t, "-a", "+b");
      precedes(t, "-a", "+d"); // deletedWith waits for a's URN
      precedes(t, "+b", "-d"); // b and d at once
      precedes(t, "-b", "+c");
      const st = s.engine.readState().resources;
      for (const [i, x] of st.entries()) {
        for (const dep of [...x.dependencies, x.deletedWith ?? ""].filter(Boolean)) {
          assert.ok(st.findIndex((y) => y.urn === dep) < i, `${x.name} after what it depends on: ${st.map((y) => y.name).join(" ")}`);
        }
      }
      assert.strictEqual(st.find((x) => x.name === "d")!.deletedWith, st.find((x) => x.name === "a")!.urn, "deletedWith recorded from the registration");
    });

    it("refresh reads every resource at once", async () => {
      const r = await s.engine.refresh();
      assert.ok(r.ok, JSON.stringify(r.failures));
      const t = timeline(s.newOps(), "read");
      assert.deepStrictEqual(t.slice(0, 5).sort(), ["+a", "+b", "+c", "+d", "+e"], t.join(" "));
    });

    it("deleting what the program dropped: dependents first, independent ones at once", async () => {
      const r = await s.engine.up(graph(s, ["a", "d"]));
      assert.ok(r.ok, JSON.stringify(r.failures));
      const t = timeline(s.newOps(), "delete");
      precedes(t, "+c", "+e");
      precedes(t, "+e", "-c"); // e does not wait for c
      precedes(t, "-c", "+b");
      assert.deepStrictEqual(fs.readdirSync(s.filesDir).sort(), ["a.txt", "d.txt"]);
      assert.deepStrictEqual(s.engine.readState().resources.map((x) => x.name), ["a", "d"]);
    });

    it("a resource whose deletedWith target is deleted too is only dropped; deleted alone it is deleted", async () => {
      assert.ok((await s.engine.up(graph(s, ["a", "b", "d"]))).ok);
      s.newOps();
      const r = await s.engine.destroy();
      assert.ok(r.ok, JSON.stringify(r.failures));
      assert.deepStrictEqual(r.steps.map((x) => [x.name, x.deletedWith ?? false]).sort(), [["a", false], ["b", false], ["d", true]]);
      assert.ok(s.lines.some((l) => /- delete .* d {2}\(deletedWith: removed with the resource it names\)/.test(l)), s.lines.join("\n"));
      const t = timeline(s.newOps(), "delete");
      precedes(t, "-b", "+a");
      assert.ok(!t.includes("+d"), `d was not deleted by its provider: ${t.join(" ")}`);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), ["d.txt"], "the toy provider leaves d's file: the provider was not called");
      assert.deepStrictEqual(s.engine.readState().resources, []);
      fs.rmSync(s.file("d.txt"));
      assert.ok((await s.engine.up(graph(s, ["a", "d"]))).ok);
      s.newOps();
      assert.ok((await s.engine.up(graph(s, ["a"]))).ok);
      assert.deepStrictEqual(ops(s.newOps(), "delete"), ["delete d.txt"]);
      assert.ok((await s.engine.destroy()).ok);
    });

    it("a failed delete stops what depends on it, and the state keeps every resource not deleted", async () => {
      assert.ok((await s.engine.up(graph(s, ["a", "b", "e"]))).ok);
      s.newOps();
      const blocked = ["b", "e"].map((n) => s.file(`${n}.txt`));
      for (const f of blocked) { fs.rmSync(f); fs.mkdirSync(f); } // deleting a directory fails (EISDIR)
      const r = await s.engine.destroy();
      assert.strictEqual(r.ok, false);
      assert.deepStrictEqual(r.failures.map((f) => f.name).sort(), ["b", "e"]);
      for (const f of blocked) fs.rmdirSync(f);
      assert.ok(!ops(s.newOps(), "begin-delete").includes("begin-delete a.txt"), "a waits for b, which failed");
      assert.deepStrictEqual(s.engine.readState().resources.map((x) => x.name).sort(), ["a", "b", "e"]);
      assert.ok((await s.engine.destroy()).ok);
    });
  });

  describe("options and failures (inline programs)", () => {
    it("deleteBeforeReplace deletes the old file before creating the new one", async () => {
      const s = stack(root, "dbr");
      const opts = { deleteBeforeReplace: true };
      assert.ok((await s.engine.up(s.inline([{ name: "x", fileName: "x1.txt", opts }]))).ok);
      s.newOps();
      const r = await s.engine.up(s.inline([{ name: "x", fileName: "x2.txt", opts }]));
      assert.deepStrictEqual(r.steps.map((x) => [x.op, x.deleteBeforeReplace]), [["replace", true]]);
      assert.ok(s.lines.includes("  +- replace  files:File             x  [fileName] (delete before replace)"));
      assert.deepStrictEqual(ops(s.newOps(), "create", "delete"), ["delete x1.txt", "create x2.txt"]);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), ["x2.txt"]);
    });

    it("a check failure is reported with the field and nothing runs", async () => {
      const s = stack(root, "check");
      const program = s.inline([{ name: "ok" }, { name: "bad", label: "Not Valid!" }]);
      for (const run of [() => s.engine.preview(program), () => s.engine.up(program)]) {
        const r = await run();
        assert.strictEqual(r.ok, false);
        assert.deepStrictEqual(r.failures.map((f) => [f.name, f.property, f.reason]), [["bad", "label", "must match /^[a-z0-9-]+$/"]]);
        assert.ok(s.lines.includes("  error: files:File bad: label: must match /^[a-z0-9-]+$/"), s.lines.join("\n"));
        assert.match(s.lines[s.lines.length - 1], /FAILED$/);
      }
      // up created "ok" (registered first, as the real engine would), but nothing for "bad".
      assert.deepStrictEqual(ops(s.newOps(), "create", "update", "delete"), ["create ok.txt"]);
      assert.deepStrictEqual(s.engine.readState().resources.map((x) => x.name), ["ok"]);
    });

    it("protect blocks delete and replace; unprotecting with up then allows destroy", async () => {
      const s = stack(root, "protect");
      const protect = { protect: true };
      assert.ok((await s.engine.up(s.inline([{ name: "keep", opts: protect }]))).ok);
      const d = await s.engine.destroy();
      assert.strictEqual(d.ok, false);
      assert.match(d.failures[0].reason, /unable to delete resource "urn:pulumi:protect::files::pulumi-nodejs:dynamic\/files:File::keep".*protect/);
      const gone = await s.engine.up(s.inline([]));
      assert.strictEqual(gone.ok, false);
      const replaced = await s.engine.preview(s.inline([{ name: "keep", fileName: "other.txt", opts: protect }]));
      assert.match(replaced.failures[0].reason, /unable to replace resource/);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), ["keep.txt"]);
      assert.strictEqual(s.engine.readState().resources.length, 1);
      assert.ok((await s.engine.up(s.inline([{ name: "keep" }]))).ok);
      assert.ok((await s.engine.destroy()).ok);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), []);
    });

    it("retainOnDelete drops the resource from state but leaves the file", async () => {
      const s = stack(root, "retain");
      assert.ok((await s.engine.up(s.inline([{ name: "kept", opts: { retainOnDelete: true } }, { name: "plain" }]))).ok);
      s.newOps();
      const r = await s.engine.up(s.inline([]));
      assert.deepStrictEqual(r.steps.map((x) => [x.op, x.name, x.retained ?? false]).sort(), [["delete", "kept", true], ["delete", "plain", false]]);
      assert.deepStrictEqual(ops(s.newOps(), "delete"), ["delete plain.txt"]);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), ["kept.txt"]);
      assert.deepStrictEqual(s.engine.readState().resources, []);
    });

    it("a partial create (provider throws {id, properties}) keeps the resource in state", async () => {
      const s = stack(root, "partial");
      const r = await s.engine.up(s.inline([{ name: "half", failAfterCreate: true }]));
      assert.strictEqual(r.ok, false);
      assert.match(r.failures[0].reason, /not initialized/);
      const [half] = s.engine.readState().resources;
      assert.deepStrictEqual([half.name, half.id, half.initErrors], ["half", s.file("half.txt"), ["failAfterCreate is set"]]);
      assert.ok(typeof half.outputs.__provider === "string", "the provider kept __provider, so delete works");
      assert.ok((await s.engine.destroy()).ok);
      assert.deepStrictEqual(fs.readdirSync(s.filesDir), []);
    });
  });
});
