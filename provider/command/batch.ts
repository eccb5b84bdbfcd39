import { CommandRunner } from "./runner";
import { Script } from "./script";

/**
 * Batches reads per host: every caller that asks the same host before the request is sent (the same turn of the
 * event loop, e.g. a refresh of many resources) shares one round trip. `build` adds what all of them asked for
 * to one script. A caller that asks later gets a new read, so nothing is served from before a change it made.
 */
export function batchedReads<T>(operation: string, build: (script: Script, requests: T[]) => Script) {
  const pending = new WeakMap<CommandRunner, { requests: T[]; sections: Promise<Record<string, string>> }>();
  return (host: CommandRunner, request?: T): Promise<Record<string, string>> => {
    let batch = pending.get(host);
    if (!batch) {
      const requests: T[] = [];
      const sections = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        pending.delete(host);
        return host.run(build(new Script(operation), requests)).then((r) => r.sections);
      });
      batch = { requests, sections };
      pending.set(host, batch);
    }
    if (request !== undefined) batch.requests.push(request);
    return batch.sections;
  };
}
