// The real dynamic-provider plugin of @pulumi/pulumi, started the way the engine starts it, and a typed
// client for the ResourceProvider calls the engine makes. Values in and out are plain JSON (see values.ts).
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import type * as grpcTypes from "@grpc/grpc-js";
import type * as provTypes from "@pulumi/pulumi/proto/provider_pb";
import type * as provRpcTypes from "@pulumi/pulumi/proto/provider_grpc_pb";
import type * as statusTypes from "@pulumi/pulumi/proto/status_pb";
import type * as structTypes from "google-protobuf/google/protobuf/struct_pb";
import { Props } from "./values";

export interface CheckFailure { property: string; reason: string }
export interface DiffAnswer { changes: "none" | "some" | "unknown"; replaces: string[]; deleteBeforeReplace: boolean }
export interface Target { urn: string; type: string; name: string }

/** A Create or Update that failed after the object came to exist (the provider threw `{id, properties}`). */
export class InitError extends Error {
  constructor(message: string, readonly id: string, readonly outputs: Props, readonly reasons: string[]) { super(message); }
}

/** The modules of the @pulumi/pulumi installation found from `dir`, so the program and the driver share one. */
export function pulumiModules(dir: string) {
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [dir] }));
  const load = (m: string) => require(require.resolve(m, { paths: [pulumiDir] }));
  return {
    pulumiDir,
    grpc: load("@grpc/grpc-js") as typeof grpcTypes,
    struct: load("google-protobuf/google/protobuf/struct_pb") as typeof structTypes,
    prov: load("@pulumi/pulumi/proto/provider_pb") as typeof provTypes,
    provRpc: load("@pulumi/pulumi/proto/provider_grpc_pb") as typeof provRpcTypes,
    status: load("@pulumi/pulumi/proto/status_pb") as typeof statusTypes,
  };
}

export class Plugin {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: provRpcTypes.ResourceProviderClient,
    private readonly m: ReturnType<typeof pulumiModules>,
    readonly startMs: number,
  ) {}

  /**
   * Spawns `node .../cmd/dynamic-provider/index.js <engine>` with the program directory as working directory
   * (the serialized provider resolves its `require`s from there) and the environment the engine gives it.
   * The plugin never calls the engine address back, so a placeholder is passed.
   */
  static async start(programDir: string, env: Record<string, string>, log: (line: string) => void): Promise<Plugin> {
    const m = pulumiModules(programDir);
    return Plugin.launch("dynamic-provider plugin", m, [path.join(m.pulumiDir, "cmd", "dynamic-provider", "index.js"), "127.0.0.1:0"], programDir, env, log);
  }

  /**
   * Spawns `node <args>` in `cwd` and connects to the port it prints on its first stdout line, as the engine does
   * with every plugin; later output goes to `log`. `m` is the @pulumi/pulumi whose gRPC and protobuf modules talk to it.
   */
  static async launch(what: string, m: ReturnType<typeof pulumiModules>, args: string[], cwd: string,
    env: Record<string, string>, log: (line: string) => void): Promise<Plugin> {
    const started = Date.now();
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    readline.createInterface({ input: child.stderr! }).on("line", (l) => log(`  [plugin] ${l}`));
    const stdout = readline.createInterface({ input: child.stdout! });
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not print its port within 60 s`)), 60_000);
      stdout.once("line", (l) => { clearTimeout(timer); resolve(l.trim()); });
      child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${code}`)); });
    }).catch((e) => { child.kill(); throw e; });
    stdout.on("line", (l) => log(`  [plugin] ${l}`));
    const client = new m.provRpc.ResourceProviderClient(`127.0.0.1:${port}`, m.grpc.credentials.createInsecure());
    return new Plugin(child, client, m, Date.now() - started);
  }

  /** The plugin process's peak resident memory so far, in bytes (Linux: VmHWM), if it can be read. */
  peakRss(): number | undefined {
    try {
      const kib = /^VmHWM:\s+(\d+) kB/m.exec(require("fs").readFileSync(`/proc/${this.child.pid}/status`, "utf8"));
      return kib ? Number(kib[1]) * 1024 : undefined;
    } catch { return undefined; }
  }

  async close(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill();
    await exited;
  }

  /** Create, Read, Update and Delete calls in progress now, and the most ever at once. */
  private inFlight = 0;
  maxInFlight = 0;

  private async call<Res>(method: string, req: unknown): Promise<Res> {
    const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client);
    const counted = ["create", "read", "update", "delete"].includes(method);
    if (counted) this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await new Promise((resolve, reject) => fn(req, (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))));
    } finally {
      if (counted) this.inFlight--;
    }
  }
  private toStruct = (p: Props) => this.m.struct.Struct.fromJavaScript(p as Record<string, structTypes.JavaScriptValue>);
  private fromStruct = (s: structTypes.Struct | undefined) => (s ? s.toJavaScript() : {}) as Props;
  private target<T extends { setUrn(v: string): T; setName(v: string): T; setType(v: string): T }>(req: T, t: Target): T {
    return req.setUrn(t.urn).setName(t.name).setType(t.type);
  }

  /**
   * Configure, as the engine sends it: the whole stack config (namespaced keys) to the dynamic provider; a provider
   * resource's inputs (secrets wrapped) to a provider plugin.
   */
  async configure(args: Props): Promise<void> {
    const req = new this.m.prov.ConfigureRequest().setArgs(this.toStruct(args)).setAcceptsecrets(true).setAcceptresources(true);
    await this.call("configure", req);
  }

  /** GetSchema: the package schema (JSON text) a provider plugin serves. */
  async getSchema(): Promise<string> {
    const res = await this.call<provTypes.GetSchemaResponse>("getSchema", new this.m.prov.GetSchemaRequest());
    return res.getSchema();
  }

  async check(t: Target, olds: Props, news: Props): Promise<{ inputs: Props; failures: CheckFailure[] }> {
    const req = this.target(new this.m.prov.CheckRequest(), t).setOlds(this.toStruct(olds)).setNews(this.toStruct(news));
    const res = await this.call<provTypes.CheckResponse>("check", req);
    const failures = res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
    return { inputs: this.fromStruct(res.getInputs()), failures };
  }

  async diff(t: Target, id: string, oldOutputs: Props, oldInputs: Props, news: Props): Promise<DiffAnswer> {
    const req = this.target(new this.m.prov.DiffRequest(), t).setId(id)
      .setOlds(this.toStruct(oldOutputs)).setOldInputs(this.toStruct(oldInputs)).setNews(this.toStruct(news));
    const res = await this.call<provTypes.DiffResponse>("diff", req);
    const C = this.m.prov.DiffResponse.DiffChanges;
    const changes = res.getChanges() === C.DIFF_SOME ? "some" : res.getChanges() === C.DIFF_NONE ? "none" : "unknown";
    return { changes, replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
  }

  async create(t: Target, props: Props): Promise<{ id: string; outputs: Props }> {
    const req = this.target(new this.m.prov.CreateRequest(), t).setProperties(this.toStruct(props));
    const res = await this.call<provTypes.CreateResponse>("create", req).catch((e) => { throw this.initError(e); });
    return { id: res.getId(), outputs: this.fromStruct(res.getProperties()) };
  }

  async read(t: Target, id: string, props: Props, inputs: Props): Promise<{ id: string; outputs: Props; inputs?: Props }> {
    const req = this.target(new this.m.prov.ReadRequest(), t).setId(id).setProperties(this.toStruct(props)).setInputs(this.toStruct(inputs));
    const res = await this.call<provTypes.ReadResponse>("read", req);
    return { id: res.getId(), outputs: this.fromStruct(res.getProperties()), inputs: res.getInputs() && this.fromStruct(res.getInputs()) };
  }

  async update(t: Target, id: string, olds: Props, news: Props, oldInputs: Props): Promise<Props> {
    const req = this.target(new this.m.prov.UpdateRequest(), t).setId(id)
      .setOlds(this.toStruct(olds)).setNews(this.toStruct(news)).setOldInputs(this.toStruct(oldInputs));
    const res = await this.call<provTypes.UpdateResponse>("update", req).catch((e) => { throw this.initError(e); });
    return this.fromStruct(res.getProperties());
  }

  async delete(t: Target, id: string, props: Props, oldInputs: Props): Promise<void> {
    const req = this.target(new this.m.prov.DeleteRequest(), t).setId(id).setProperties(this.toStruct(props)).setOldInputs(this.toStruct(oldInputs));
    await this.call("delete", req);
  }

  /** The plugin packs a partial create/update into `grpc-status-details-bin` (see grpcResponseFromError). */
  private initError(e: grpcTypes.ServiceError): Error {
    const bin = e.metadata?.get("grpc-status-details-bin")[0];
    if (!bin) return new Error(e.details || e.message);
    for (const any of this.m.status.Status.deserializeBinary(new Uint8Array(bin as Buffer)).getDetailsList()) {
      const f = any.unpack(this.m.prov.ErrorResourceInitFailed.deserializeBinary, "pulumirpc.ErrorResourceInitFailed");
      if (f) return new InitError(e.details || e.message, f.getId(), this.fromStruct(f.getProperties()), f.getReasonsList());
    }
    return new Error(e.details || e.message);
  }
}
