import { HostSession } from "../resource";
import { requireTool } from "../ssh";
import { buildReport } from "./build";
import { InspectReport } from "./model";
import { readHost } from "./read";

export { InspectReport } from "./model";
export { renderReport } from "./render";

/**
 * A host's VM storage, read in two round trips on one connection: the preflight every host gets (versions, tools),
 * then one read of everything (read.ts). Changes nothing on the host.
 */
export async function inspectHost(host: HostSession, opts: { vg?: string } = {}): Promise<InspectReport> {
  const caps = await host.capabilities();
  requireTool(caps, "lvm");
  const reading = await readHost(host, { vg: opts.vg, qemuImg: caps.tools["qemu-img"] });
  if (opts.vg !== undefined && !reading.lvm.vgs.some((vg) => vg.name === opts.vg)) {
    throw new Error(`volume group ${opts.vg} does not exist on ${host.target} (inspect without --vg lists them all)`);
  }
  return buildReport(host.target, caps, reading);
}
