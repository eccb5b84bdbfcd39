import { CommandRunner } from "./runner";
import { Script } from "./script";

/**
 * Batches reads per host: every read asked of a host before its batch is sent shares one round trip, one script
 * holding what each asked for — whatever the kind of read (LVM's reports, qemu-img's, each a `batchedReads`).
 * A batch is sent once the turn of the event loop that opened it has passed and the host's previous batch has
 * come back: a refresh's requests reach the plugin over many turns, and those that arrive while one batch is on
 * the wire gather in the next. A caller never gets a read that started before it asked, so nothing is served
 * from before a change it made. The reads must not fail on one resource's account (they report what they find),
 * since a failed batch fails every caller in it.
 */
export function batchedReads<T>(operation: string, build: (script: Script, requests: T[]) => Script) {
  const kind: Kind = { operation, build: build as Kind["build"] };
  return (host: CommandRunner, request?: T): Promise<Record<string, string>> => {
    const batch = openBatch(host);
    let requests = batch.parts.get(kind);
    if (!requests) batch.parts.set(kind, (requests = []));
    if (request !== undefined) requests.push(request);
    return batch.sections;
  };
}

interface Kind { operation: string; build: (script: Script, requests: unknown[]) => Script }
interface Batch { parts: Map<Kind, unknown[]>; sections: Promise<Record<string, string>> }
interface HostBatches { open?: Batch; last?: Promise<unknown> }

const batches = new WeakMap<CommandRunner, HostBatches>();

function openBatch(host: CommandRunner): Batch {
  let state = batches.get(host);
  if (!state) batches.set(host, (state = {}));
  if (state.open) return state.open;
  const s = state;
  const parts = new Map<Kind, unknown[]>();
  const previous = (s.last ?? Promise.resolve()).catch(() => undefined);
  const nextTurn = new Promise<void>((resolve) => setImmediate(resolve));
  const sections = Promise.all([previous, nextTurn]).then(() => {
    s.open = undefined;
    const kinds = [...parts.keys()];
    const script = new Script(kinds.map((k) => k.operation).join(", "));
    for (const k of kinds) k.build(script, parts.get(k)!);
    return host.run(script).then((r) => r.sections);
  });
  s.open = { parts, sections };
  s.last = sections;
  return s.open;
}
