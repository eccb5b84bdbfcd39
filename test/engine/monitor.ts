// Runs a Pulumi program in this process against a resource monitor of our own (a MockMonitor subclass, so
// the SDK behaves as it does under `setMocks`), and hands every RegisterResource request, with all of its
// options, to the driver. The driver's answers become the outputs the program sees.
import * as path from "path";
import type * as mocksTypes from "@pulumi/pulumi/runtime/mocks";
import type * as settingsTypes from "@pulumi/pulumi/runtime/settings";
import type * as stackTypes from "@pulumi/pulumi/runtime/stack";
import type * as configTypes from "@pulumi/pulumi/runtime/config";
import type * as resourceTypes from "@pulumi/pulumi/proto/resource_pb";
import { pulumiModules } from "./plugin";
import { Props } from "./values";

/** Everything the engine learns from one RegisterResourceRequest. */
export interface Registration {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  inputs: Props;
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  /** The URN named by the `deletedWith` option: when it is deleted in the same operation, this one is not. */
  deletedWith?: string;
  /** undefined when the program did not set it: the provider's Diff decides. */
  deleteBeforeReplace?: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
}

export interface RunOptions {
  programDir: string;
  project: string;
  stack: string;
  preview: boolean;
  config: Record<string, string>;
  secretKeys: string[];
}

export type Program = () => unknown;
export type RegisterHandler = (r: Registration) => Promise<{ id: string; outputs: Props }>;

const STACK_TYPE = "pulumi:pulumi:Stack";

/** Like the engine's NewURN: the parent's type qualifies the child's, except for the root stack. */
function urnOf(o: RunOptions, parent: string, type: string, name: string): string {
  const parentType = parent ? parent.split("::")[2].split("$").pop()! : "";
  const qualified = parentType && parentType !== STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${o.stack}::${o.project}::${qualified}::${name}`;
}

/**
 * Runs `program` as the body of the root stack resource and returns the stack outputs it registered.
 * Registrations are handled as they arrive, all at once, as the engine does: the SDK sends one only when its
 * parent and dependencies are registered (it awaits their URNs and outputs), so a handler never runs before
 * those of what it depends on have answered. The first error (from a handler or the program) ends the run
 * and this function rejects with it, once the handlers in flight have finished. The SDK is then left
 * waiting: the failed registration and any later one never get an answer, so the abandoned program produces
 * no unhandled rejections in this process; its pending promises are simply dropped.
 */
export async function runProgram(o: RunOptions, program: Program, register: RegisterHandler): Promise<Props> {
  if (running) throw new Error("another program is running: the Pulumi runtime is process-wide, run operations one at a time");
  running = true;
  try {
    return await runOnce(o, program, register);
  } finally {
    running = false;
  }
}
let running = false;

async function runOnce(o: RunOptions, program: Program, register: RegisterHandler): Promise<Props> {
  const m = pulumiModules(o.programDir);
  const load = (mod: string) => require(require.resolve(mod, { paths: [m.pulumiDir] }));
  const mocks: typeof mocksTypes = load("@pulumi/pulumi/runtime/mocks");
  const settings: typeof settingsTypes = load("@pulumi/pulumi/runtime/settings");
  const stack: typeof stackTypes = load("@pulumi/pulumi/runtime/stack");
  const config: typeof configTypes = load("@pulumi/pulumi/runtime/config");
  const resproto: typeof resourceTypes = load("@pulumi/pulumi/proto/resource_pb");

  // Programs are modules. The ones under programDir (outside node_modules) that this run loads are
  // forgotten when it ends, so the next run executes them afresh, as a new process would. Modules loaded
  // before the run (the caller's own, even if under programDir) are left alone.
  const programRoot = path.resolve(o.programDir) + path.sep;
  const loadedBefore = new Set(Object.keys(require.cache));
  const forgetProgramModules = () => {
    for (const file of Object.keys(require.cache)) {
      const inProgram = file.startsWith(programRoot) && !file.slice(programRoot.length).split(path.sep).includes("node_modules");
      if (inProgram && !loadedBefore.has(file)) delete require.cache[file];
    }
  };

  let ended = false; // set on the first error and when the run returns: later registrations are refused
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = (e) => { ended = true; reject(e); }));
  failed.catch(() => undefined);
  const inFlight = new Set<Promise<unknown>>();
  let stackOutputs: Props = {};

  class DriverMonitor extends mocks.MockMonitor {
    override async registerResource(req: resourceTypes.RegisterResourceRequest, callback: (err: unknown, res?: unknown) => void) {
      const type = req.getType();
      const reg: Registration = {
        urn: urnOf(o, req.getParent(), type, req.getName()), type, name: req.getName(), custom: req.getCustom(), parent: req.getParent(),
        inputs: (req.getObject()?.toJavaScript() ?? {}) as Props, dependencies: req.getDependenciesList(),
        protect: req.getProtect() ?? false, retainOnDelete: req.getRetainondelete() ?? false, deletedWith: req.getDeletedwith() || undefined,
        deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
        ignoreChanges: req.getIgnorechangesList(), replaceOnChanges: req.getReplaceonchangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      };
      if (ended) return; // never answered
      const answer = register(reg);
      const settled = answer.catch(() => undefined);
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      try {
        const result = await answer;
        if (ended) return; // the run failed meanwhile: never answered, so the program goes no further
        this.resources.set(reg.urn, { urn: reg.urn, id: result.id, state: result.outputs });
        const res = new resproto.RegisterResourceResponse().setUrn(reg.urn).setId(result.id)
          .setObject(m.struct.Struct.fromJavaScript(result.outputs as Record<string, never>));
        callback(null, res);
      } catch (e) {
        fail(e as Error);
      }
    }

    override registerResourceOutputs(req: resourceTypes.RegisterResourceOutputsRequest, callback: (err: unknown, res?: unknown) => void) {
      if (req.getUrn().split("::")[2] === STACK_TYPE) stackOutputs = (req.getOutputs()?.toJavaScript() ?? {}) as Props;
      callback(null, {});
    }
  }

  const unsupported = (what: string) => () => { throw new Error(`${what} is not supported by the engine driver`); };
  const monitor = new DriverMonitor({ call: unsupported("invoke"), newResource: unsupported("read (Resource.get)") });
  settings.setMockOptions(monitor, o.project, o.stack, o.preview);
  const store: { terminated: boolean } = load("@pulumi/pulumi/runtime/state").getStore();
  store.terminated = false;
  config.setAllConfig(o.config, o.secretKeys);
  const cwd = process.cwd();
  process.chdir(o.programDir); // the language host runs programs from their directory
  // A program error is caught here, before the SDK's stack resource would turn it into rejections.
  const body = async () => {
    try { return await program(); } catch (e) { fail(e as Error); return new Promise(() => undefined); }
  };
  try {
    await Promise.race([stack.runInPulumiStack(body), failed]);
    await Promise.race([settings.disconnect(), failed]); // waits for the registrations still in flight
    return stackOutputs;
  } catch (e) {
    // As when the engine stops the monitor: the SDK then does not report the abandoned promises as
    // leaks at exit (which would also set the process's exit code to 1).
    store.terminated = true;
    throw e;
  } finally {
    ended = true;
    await Promise.all(inFlight); // the steps in progress finish before the caller stops the plugin
    process.chdir(cwd);
    forgetProgramModules();
  }
}
