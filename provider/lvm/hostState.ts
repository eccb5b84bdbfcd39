import { CommandRunner, Script } from "../command";
import { LvRow, parseLvs, parsePvs, parseVgs, PvRow, reportArgv, VgRow } from "./report";

/** Everything LVM knows on one host: every VG, PV and LV. */
export interface HostLvm {
  vgs: VgRow[];
  pvs: PvRow[];
  lvs: LvRow[];
}

/** Adds the three report captures to a script (so a mutating script can return fresh state in the same trip). */
export function captureHostLvm(script: Script): Script {
  return script.capture("vgs", reportArgv("vg")).capture("pvs", reportArgv("pv")).capture("lvs", reportArgv("lv"));
}

export function parseHostLvm(sections: Record<string, string>): HostLvm {
  return { vgs: parseVgs(sections.vgs), pvs: parsePvs(sections.pvs), lvs: parseLvs(sections.lvs) };
}

/**
 * Reads a host's whole LVM state, batched: every caller that asks for the same host before the request is sent
 * (the same turn of the event loop, e.g. a refresh of many resources) shares one round trip. A caller that
 * asks later gets a new read, so nothing is served from before a change it made.
 */
const pending = new WeakMap<CommandRunner, Promise<HostLvm>>();

export function readHostLvm(host: CommandRunner): Promise<HostLvm> {
  let read = pending.get(host);
  if (!read) {
    read = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      pending.delete(host);
      return host.run(captureHostLvm(new Script("read LVM state"))).then((r) => parseHostLvm(r.sections));
    });
    pending.set(host, read);
  }
  return read;
}
