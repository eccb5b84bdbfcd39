// Which plugin serves a resource, as the engine decides it: a type's package (`lvm` of `lvm:index:VmDisk`) names the
// provider plugin; dynamic resources (`pulumi-nodejs:dynamic/...`) go to the dynamic-provider plugin. Each plugin is
// started on first use, one per operation. Provider plugins other than the dynamic one accept secrets (the Node
// server's Configure says so), so the inputs their schema marks secret reach them as secrets, as a program using
// the generated SDK sends them.
import { DiffAnswer, Plugin, Target } from "./plugin";
import { Props, secret } from "./values";

const DYNAMIC = "pulumi-nodejs";
export const packageOf = (type: string) => (type.startsWith(`${DYNAMIC}:`) ? DYNAMIC : type.split(":")[0]);

interface Served { plugin: Plugin; secretInputs: Map<string, string[]> }

export class Plugins {
  private readonly started = new Map<string, Promise<Served>>();
  /** The plugins started so far, for the figures read before they close. */
  private readonly live: Plugin[] = [];
  constructor(private readonly start: (pkg: string) => Promise<Plugin>) {}

  /** The plugin of this type's package (started now if it is not yet), with the inputs its schema marks secret. */
  private served(type: string): Promise<Served> {
    const pkg = packageOf(type);
    let s = this.started.get(pkg);
    if (!s) {
      s = (async () => {
        const plugin = await this.start(pkg);
        this.live.push(plugin);
        if (pkg === DYNAMIC) return { plugin, secretInputs: new Map() };
        const schema = JSON.parse(await plugin.getSchema()) as { resources: Record<string, { inputProperties: Record<string, { secret?: boolean }> }> };
        const secretInputs = new Map(Object.entries(schema.resources).map(([tok, r]) =>
          [tok, Object.keys(r.inputProperties).filter((k) => r.inputProperties[k].secret)]));
        return { plugin, secretInputs };
      })();
      this.started.set(pkg, s);
    }
    return s;
  }

  /** Starts the dynamic-provider plugin now (while a program runs), as before plugins were routed. */
  warmUp(): void { this.served(`${DYNAMIC}:dynamic`).catch(() => undefined); }

  private async call<R>(t: Target, fn: (p: Plugin, seal: (p: Props) => Props) => Promise<R>): Promise<R> {
    const { plugin, secretInputs } = await this.served(t.type);
    const keys = secretInputs.get(t.type) ?? [];
    const seal = (props: Props) => Object.fromEntries(Object.entries(props).map(([k, v]) => [k, keys.includes(k) ? secret(v) : v]));
    return fn(plugin, seal);
  }

  check(t: Target, olds: Props, news: Props) { return this.call(t, (p, s) => p.check(t, s(olds), s(news))); }
  diff(t: Target, id: string, oldOutputs: Props, oldInputs: Props, news: Props): Promise<DiffAnswer> {
    return this.call(t, (p, s) => p.diff(t, id, s(oldOutputs), s(oldInputs), s(news)));
  }
  create(t: Target, props: Props) { return this.call(t, (p, s) => p.create(t, s(props))); }
  read(t: Target, id: string, props: Props, inputs: Props) { return this.call(t, (p, s) => p.read(t, id, s(props), s(inputs))); }
  update(t: Target, id: string, olds: Props, news: Props, oldInputs: Props) {
    return this.call(t, (p, s) => p.update(t, id, s(olds), s(news), s(oldInputs)));
  }
  delete(t: Target, id: string, props: Props, oldInputs: Props) { return this.call(t, (p, s) => p.delete(t, id, s(props), s(oldInputs))); }

  /** How long the dynamic-provider plugin took to start, when this operation started it. */
  get startMs(): number | undefined { return this.startTimes.get(DYNAMIC); }
  readonly startTimes = new Map<string, number>();

  /** The largest peak resident memory of the plugins started, in bytes, if it can be read. */
  peakRss(): number | undefined {
    const peaks = this.live.map((p) => p.peakRss()).filter((b): b is number => b !== undefined);
    return peaks.length ? Math.max(...peaks) : undefined;
  }
  /** The most Create, Read, Update and Delete calls one plugin had in flight at once. */
  get maxInFlight(): number { return Math.max(0, ...this.live.map((p) => p.maxInFlight)); }

  async close(): Promise<void> {
    for (const [pkg, s] of this.started) {
      const served = await s.catch(() => undefined);
      if (served) this.startTimes.set(pkg, served.plugin.startMs);
      await served?.plugin.close();
    }
  }
}
