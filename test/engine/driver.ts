// A small engine for Pulumi dynamic resources: runs a program in this process (monitor.ts), sends each
// resource to the real dynamic-provider plugin (plugin.ts), or to the provider plugin of its package (plugins.ts),
// keeps state in a file (state.ts), and prints
// what it did (plan.ts). It follows the Pulumi engine's step generator for preview, up, refresh, destroy.
import { InitError, Plugin, Target } from "./plugin";
import { packageOf, Plugins } from "./plugins";
import { packageConfig, startSourcePlugin } from "./sourcePlugin";
import { Program, Registration, runProgram, RunOptions } from "./monitor";
import { Failure, failureLine, headerLine, Operation, providerLine, shortType, Step, stepLine, summaryLine } from "./plan";
import { ResourceState, StackState, StateFile } from "./state";
import { changedKeys, markSecrets, Props, reveal, revealProps } from "./values";

export type { Program } from "./monitor";
export type { Step, Failure } from "./plan";
export type ConfigValue = string | { secret: string };

export interface EngineOptions {
  /** Directory of the program: the plugin's working directory, and the modules re-loaded on every run. */
  programDir: string;
  stateFile: string;
  project: string;
  stack: string;
  /** Stack config, `"<namespace>:<key>"` → value; `{ secret }` values are secret config. */
  config?: Record<string, ConfigValue>;
  /** Where the plan and plugin output go (default: console.log). */
  log?: (line: string) => void;
  /** Provider plugins by package name: their folders, as Pulumi.yaml's `packages` (`pulumi package add`) records them. */
  packages?: Record<string, string>;
}

export interface Result {
  ok: boolean;
  steps: Step[];
  /** Stack outputs as wire values: secrets stay wrapped, unknowns are the sentinel string (preview). */
  outputs: Props;
  failures: Failure[];
  /** Bytes of the serialized provider, per resource type, as stored in every resource's inputs and outputs. */
  providerBytes: Record<string, number>;
  /** How long the plugin took to start and print its port, when this operation needed it. */
  pluginStartMs?: number;
  /** The most Create, Read, Update and Delete calls that were in progress at once. */
  maxInFlight: number;
  /** The plugin process's peak resident memory, in bytes, when it ran and it could be read. */
  pluginPeakRss?: number;
}

/** An error that names the resource(s) it concerns; anything else thrown is reported by message. */
class StepError extends Error {
  constructor(readonly failures: Failure[]) { super(failures.map((f) => `${f.name}: ${f.property ? f.property + ": " : ""}${f.reason}`).join("; ")); }
}

/** Whether `r` depends on `urn` in a way that orders deletes: a dependency, its parent, or its deletedWith target. */
const refersTo = (r: ResourceState, urn: string) => r.dependencies.includes(urn) || r.parent === urn || r.deletedWith === urn;
/** A delete not started because another failed first. */
const SKIPPED = new Error("skipped after an earlier failure");
/** Waits for every promise and returns the reasons of those that failed. */
const failuresOf = async (all: Promise<unknown>[]) =>
  (await Promise.allSettled(all)).flatMap((x) => (x.status === "rejected" ? [x.reason as unknown] : []));

const targetOf = (r: { urn: string; type: string; name: string }): Target => ({ urn: r.urn, type: r.type, name: r.name });
const who = (r: { urn: string; type: string; name: string }) => ({ urn: r.urn, type: shortType(r.type), name: r.name });
const protectedError = (r: ResourceState, action: string) => new StepError([{ ...who(r), reason:
  `unable to ${action} resource "${r.urn}" as it is marked for protection; remove \`protect\` in the program and run up first` }]);

/** One operation: its steps and failures, printed as they happen, and a plugin started on first use. */
class Run {
  steps: Step[] = [];
  failures: Failure[] = [];
  providerBytes: Record<string, number> = {};
  private started?: Promise<Plugins>;
  constructor(private readonly engine: Engine, readonly operation: Operation) {}

  private finished = false;
  plugin(): Promise<Plugins> {
    if (this.finished) return Promise.reject(new Error(`the ${this.operation} has ended`));
    return (this.started ??= this.engine.startPlugin());
  }
  step(r: { urn: string; type: string; name: string; inputs?: Props }, s: Omit<Step, "urn" | "type" | "name">) {
    const step = { ...who(r), ...s };
    this.steps.push(step);
    if (s.op !== "same") this.engine.log(stepLine(step)); // like the CLI, unchanged resources only count in the summary
    const code = r.inputs && reveal(r.inputs.__provider);
    if (typeof code === "string") this.providerBytes[step.type] = Buffer.byteLength(code);
  }
  fail(e: unknown) {
    const failures = e instanceof StepError ? e.failures
      : [{ reason: (e as { details?: string }).details || (e as Error).message || String(e) }];
    this.failures.push(...failures);
  }
  async finish(outputs: Props): Promise<Result> {
    this.finished = true;
    const plugin = this.started && (await this.started.catch(() => undefined));
    const pluginPeakRss = plugin?.peakRss();
    await plugin?.close();
    for (const f of this.failures) this.engine.log(failureLine(f));
    if (Object.keys(this.providerBytes).length) this.engine.log(providerLine(this.providerBytes));
    this.engine.log(summaryLine(this.operation, this.steps) + (this.failures.length ? `  — the ${this.operation} FAILED` : ""));
    return { ok: this.failures.length === 0, steps: this.steps, outputs, failures: this.failures, providerBytes: this.providerBytes,
      pluginStartMs: plugin?.startMs, maxInFlight: plugin?.maxInFlight ?? 0, pluginPeakRss };
  }
}

export class Engine {
  private readonly state: StateFile;
  readonly log: (line: string) => void;
  /** The stack config; change it between operations as `pulumi config set` would. */
  readonly config: Record<string, ConfigValue>;
  constructor(private readonly o: EngineOptions) {
    this.state = new StateFile(o.stateFile);
    this.config = { ...o.config };
    this.log = o.log ?? ((l) => console.log(l));
  }

  /** Check and Diff only: shows what `up` would do. Never calls Create, Update, Delete or Read. */
  preview(program: Program): Promise<Result> { return this.deploy(program, true); }
  up(program: Program): Promise<Result> { return this.deploy(program, false); }
  /** The state as stored (secrets decrypted but still wrapped), for tests and demos. */
  readState(): StackState { return this.state.load(); }

  /** Reads every resource in the state, all at once; drops the ones that are gone and records drifted outputs. */
  async refresh(): Promise<Result> {
    const run = this.begin("refresh");
    const st = this.state.load();
    const reads = [...st.resources].map(async (r) => {
      const read = await (await run.plugin()).read(targetOf(r), r.id, revealProps(r.outputs), revealProps(r.inputs));
      if (!read.id) {
        st.resources.splice(st.resources.indexOf(r), 1);
        run.step(r, { op: "read", changedFields: [], gone: true });
      } else {
        const drifted = changedKeys(r.outputs, read.outputs);
        const driftedInputs = drifted.filter((k) => k in r.inputs);
        r.id = read.id;
        r.outputs = markSecrets(markSecrets(read.outputs, r.inputs, r.additionalSecretOutputs), r.outputs);
        if (read.inputs) r.inputs = markSecrets(read.inputs, r.inputs);
        run.step(r, { op: "read", changedFields: drifted, driftedInputs });
      }
      this.state.save(st);
    });
    for (const e of await failuresOf(reads)) run.fail(e);
    return run.finish(st.outputs);
  }

  /**
   * `pulumi import --file` (each entry TYPE NAME ID): a Read with the ID alone, then a Check of the inputs it returned
   * against themselves (a failure is the provider's bug, which the engine only warns of: here it fails the import).
   * The resource joins the state with those inputs, as the code `pulumi import` generates would register it.
   */
  async import(resources: { type: string; name: string; id: string }[]): Promise<Result> {
    const run = this.begin("import");
    const st = this.state.load();
    try {
      for (const { type, name, id } of resources) {
        const t = { urn: `urn:pulumi:${this.o.stack}::${this.o.project}::${type}::${name}`, type, name };
        const plugin = await run.plugin();
        const read = await plugin.read(t, id, {}, {});
        if (!read.id) throw new StepError([{ ...who(t), reason: `resource '${id}' does not exist` }]);
        if (!read.inputs) throw new StepError([{ ...who(t), reason: "provider does not support importing resources" }]);
        const checked = await plugin.check(t, read.inputs, read.inputs);
        if (checked.failures.length) throw new StepError(checked.failures.map((f) => ({ ...who(t), ...f })));
        const r: ResourceState = { ...t, id: read.id, inputs: read.inputs, outputs: read.outputs, parent: "", dependencies: [],
          protect: false, retainOnDelete: false, additionalSecretOutputs: [] };
        st.resources.push(r);
        this.state.save(st);
        run.step(r, { op: "import", changedFields: [] });
      }
    } catch (e) { run.fail(e); }
    return run.finish(st.outputs);
  }

  /** Deletes everything, dependents before what they depend on, honouring `protect`, `retainOnDelete`, `deletedWith`. */
  async destroy(): Promise<Result> {
    const run = this.begin("destroy");
    const st = this.state.load();
    try {
      await this.removeAll(run, st.resources, false, (r) => {
        st.resources.splice(st.resources.indexOf(r), 1);
        this.state.save(st);
      });
      this.state.save({ resources: st.resources, outputs: {} });
    } catch (e) { run.fail(e); }
    return run.finish({});
  }

  /**
   * Deletes `doomed` (entries of the state, in its order) as the engine's delete steps do: each after every doomed
   * resource that depends on it (dependencies, parent, deletedWith), independent ones at once. A resource whose
   * `deletedWith` target is doomed too is only dropped from the state: deleting the target removes it. Nothing starts
   * after a failure (the deletes in flight finish), and nothing is deleted if a doomed resource is protected.
   * `removed` runs once per resource, when it is gone (or, in a preview, would be).
   */
  private async removeAll(run: Run, doomed: ResourceState[], preview: boolean, removed: (r: ResourceState) => void,
    quiet: (r: ResourceState) => boolean = () => false): Promise<void> {
    for (const r of doomed) if (r.protect && !r.delete) throw protectedError(r, "delete");
    const urns = new Set(doomed.map((r) => r.urn));
    const gone = new Map<ResourceState, Promise<void>>();
    let failed = false;
    // A dependent always comes later in the state, so walking it backwards meets dependents first.
    for (const r of [...doomed].reverse()) {
      const dependents = doomed.filter((x) => x !== r && refersTo(x, r.urn)).map((x) => gone.get(x)!);
      gone.set(r, Promise.all(dependents).catch(() => { throw SKIPPED; }).then(async () => {
        if (failed) throw SKIPPED;
        const withTarget = r.deletedWith !== undefined && urns.has(r.deletedWith);
        try {
          if (!preview && !withTarget) await this.remove(run, r);
        } catch (e) {
          failed = true;
          throw e instanceof StepError ? e : new StepError([{ ...who(r), reason: (e as { details?: string }).details || (e as Error).message }]);
        }
        removed(r);
        if (!quiet(r)) run.step(r, { op: "delete", changedFields: [], retained: r.retainOnDelete || undefined, deletedWith: withTarget || undefined });
      }));
    }
    const errors = (await failuresOf([...gone.values()])).filter((e) => e !== SKIPPED);
    if (errors.length) throw new StepError(errors.flatMap((e) => (e as StepError).failures));
  }

  private async deploy(program: Program, preview: boolean): Promise<Result> {
    const run = this.begin(preview ? "preview" : "update");
    // Start the dynamic-provider plugin while the program runs (errors surface at first use); provider plugins start on first use.
    if (!this.o.packages) run.plugin().then((p) => p.warmUp()).catch(() => undefined);
    const prev = this.state.load();
    const olds = new Map(prev.resources.filter((r) => !r.delete).map((r) => [r.urn, r]));
    const news: ResourceState[] = []; // registered by this run, in registration (hence dependency) order
    const done = new Set<ResourceState>(); // old entries superseded or deleted by this run
    const replacedNow = new Set<ResourceState>(); // old copies of this run's create-before-delete replacements
    const seen = new Set<string>();
    // Until the program ends, old entries not yet registered keep their place after the new ones.
    const save = (outputs = prev.outputs) => {
      if (!preview) this.state.save({ resources: [...news, ...prev.resources.filter((r) => !done.has(r))], outputs });
    };

    const register = async (reg: Registration): Promise<{ id: string; outputs: Props }> => {
      if (seen.has(reg.urn)) throw new StepError([{ ...who(reg), reason: `Duplicate resource URN '${reg.urn}'` }]);
      seen.add(reg.urn);
      if (!reg.custom) return { id: "", outputs: {} }; // components (and the stack) are not kept in state
      if (!reg.type.startsWith("pulumi-nodejs:dynamic") && !this.o.packages?.[packageOf(reg.type)]) {
        throw new StepError([{ ...who(reg), reason: "only dynamic provider resources and the packages given are supported by the engine driver" }]);
      }
      try {
        return await this.registerOne(run, reg, preview, olds.get(reg.urn), {
          add: (r, old) => { if (r) news.push(r); if (old) done.add(old); save(); },
          replacedLater: (old) => { old.delete = true; replacedNow.add(old); save(); },
        });
      } catch (e) {
        if (e instanceof StepError) throw e;
        throw new StepError([{ ...who(reg), reason: (e as { details?: string }).details || (e as Error).message }]);
      }
    };

    let outputs = prev.outputs;
    try {
      outputs = await runProgram(this.runOptions(preview), program, register);
      // Resources the program no longer registers, and old copies of replacements, go last.
      await this.removeAll(run, prev.resources.filter((x) => !done.has(x)), preview, (r) => { done.add(r); save(); }, (r) => replacedNow.has(r));
      save(outputs);
    } catch (e) { run.fail(e); }
    return run.finish(outputs);
  }

  /** Check, then Diff against the old state, then create / update / replace, as the engine's step generator. */
  private async registerOne(run: Run, reg: Registration, preview: boolean, old: ResourceState | undefined, st: {
    /** Puts `r` in the new state and drops `old` from it. */
    add(r: ResourceState | undefined, old?: ResourceState): void;
    /** Keeps `old` in the state, marked for deletion at the end of the run. */
    replacedLater(old: ResourceState): void;
  }): Promise<{ id: string; outputs: Props }> {
    const plugin = await run.plugin();
    const t = targetOf(reg);
    const goal = { ...reg.inputs };
    for (const k of reg.ignoreChanges) if (old && k in old.inputs) goal[k] = old.inputs[k];

    // The provider sees plain values; the engine re-marks as secret what was secret in the goal.
    const check = async (olds: Props) => {
      const res = await plugin.check(t, revealProps(olds), revealProps(goal));
      if (res.failures.length) throw new StepError(res.failures.map((f) => ({ ...who(reg), ...f })));
      return markSecrets(res.inputs, goal);
    };
    let inputs = await check(old ? old.inputs : {});
    const entry = (id: string, outputs: Props, initErrors?: string[]): ResourceState => ({
      urn: reg.urn, type: reg.type, name: reg.name, id, inputs, outputs: markSecrets(outputs, inputs, reg.additionalSecretOutputs),
      parent: reg.parent, dependencies: reg.dependencies, protect: reg.protect, retainOnDelete: reg.retainOnDelete,
      ...(reg.deletedWith ? { deletedWith: reg.deletedWith } : {}),
      additionalSecretOutputs: reg.additionalSecretOutputs, ...(initErrors ? { initErrors } : {}),
    });
    // Create or Update. If it fails after the object came to exist (InitError), the object stays in state.
    const apply = async (call: () => Promise<{ id: string; outputs: Props }>, superseded?: ResourceState) => {
      try {
        const { id, outputs } = await call();
        return entry(id, outputs);
      } catch (e) {
        if (e instanceof InitError) st.add(entry(e.id, e.outputs, e.reasons.length ? e.reasons : [e.message]), superseded);
        throw e;
      }
    };

    if (!old) {
      if (preview) {
        run.step(reg, { op: "create", changedFields: [] });
        return { id: "", outputs: inputs }; // unknown id; outputs that are not inputs are unknown too
      }
      const r = await apply(() => plugin.create(t, revealProps(inputs)));
      st.add(r);
      run.step(r, { op: "create", changedFields: [] });
      return r;
    }

    const diff = await plugin.diff(t, old.id, revealProps(old.outputs), revealProps(old.inputs), revealProps(inputs));
    const changedFields = changedKeys(old.inputs, inputs);
    let changes = diff.changes;
    let replaceFields = diff.replaces;
    if (changes === "unknown") {
      // The engine diffs the inputs itself. Only then does it know the changed keys, so only then can
      // `replaceOnChanges` apply (a dynamic provider's Diff never lists changed keys).
      changes = changedFields.length ? "some" : "none";
      replaceFields = [...new Set([...replaceFields, ...changedFields.filter((k) => reg.replaceOnChanges.includes(k))])];
    }
    if (changes === "none" && old.initErrors?.length) changes = "some"; // try again to finish initializing

    if (changes === "none") {
      const r = { ...entry(old.id, {}), outputs: old.outputs }; // new inputs, old outputs
      st.add(r, old);
      run.step(r, { op: "same", changedFields: [] });
      return r;
    }

    if (!replaceFields.length) {
      if (preview) {
        st.add(undefined, old);
        run.step(reg, { op: "update", changedFields });
        return { id: old.id, outputs: inputs };
      }
      const update = async () => ({ id: old.id, outputs: await plugin.update(t, old.id, revealProps(old.outputs), revealProps(inputs), revealProps(old.inputs)) });
      const r = await apply(update, old);
      st.add(r, old);
      run.step(r, { op: "update", changedFields });
      return r;
    }

    if (old.protect && reg.protect) throw protectedError(old, "replace");
    inputs = await check({}); // a replacement starts from no old inputs, so defaults are computed afresh
    const deleteBeforeReplace = reg.deleteBeforeReplace ?? diff.deleteBeforeReplace;
    const step = { op: "replace" as const, changedFields, replaceFields, deleteBeforeReplace };
    if (preview) {
      st.add(undefined, old);
      run.step(reg, step);
      return { id: "", outputs: inputs };
    }
    if (deleteBeforeReplace) {
      await this.remove(run, old);
      st.add(undefined, old);
    }
    const r = await apply(() => plugin.create(t, revealProps(inputs)));
    st.add(r);
    if (!deleteBeforeReplace) st.replacedLater(old);
    run.step(r, step);
    return r;
  }

  private async remove(run: Run, r: ResourceState): Promise<void> {
    if (r.retainOnDelete) return;
    await (await run.plugin()).delete(targetOf(r), r.id, revealProps(r.outputs), revealProps(r.inputs));
  }

  private begin(operation: Operation): Run {
    this.log(headerLine(operation, this.o.project, this.o.stack));
    return new Run(this, operation);
  }

  private runOptions(preview: boolean): RunOptions {
    const entries = Object.entries(this.config);
    const config = Object.fromEntries(entries.map(([k, v]) => [k, typeof v === "string" ? v : v.secret]));
    const secretKeys = entries.filter(([, v]) => typeof v !== "string").map(([k]) => k);
    return { programDir: this.o.programDir, project: this.o.project, stack: this.o.stack, preview, config, secretKeys };
  }

  /** @internal The plugins of one operation, each started on first use, as the engine does. */
  async startPlugin(): Promise<Plugins> {
    return new Plugins((pkg) => (pkg === "pulumi-nodejs" ? this.startDynamicPlugin() : this.startProviderPlugin(pkg)));
  }

  /** A provider plugin gets its namespace's config, in PULUMI_CONFIG and in Configure (which the Node server ignores). */
  private async startProviderPlugin(pkg: string): Promise<Plugin> {
    const config = packageConfig(pkg, this.runOptions(false).config);
    const plugin = await startSourcePlugin(this.o.packages![pkg], this.o.programDir,
      { PULUMI_PROJECT: this.o.project, PULUMI_CONFIG: JSON.stringify(config) }, this.log);
    await plugin.configure(config).catch(async (e) => { await plugin.close(); throw e; });
    return plugin;
  }

  /** The dynamic-provider plugin, configured with the whole stack config. */
  private async startDynamicPlugin(): Promise<Plugin> {
    const { config, secretKeys } = this.runOptions(false);
    const plugin = await Plugin.start(this.o.programDir, {
      PULUMI_NODEJS_PROJECT: this.o.project, PULUMI_NODEJS_STACK: this.o.stack,
      PULUMI_CONFIG: JSON.stringify(config), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
    }, this.log);
    await plugin.configure(config).catch(async (e) => { await plugin.close(); throw e; });
    return plugin;
  }
}
