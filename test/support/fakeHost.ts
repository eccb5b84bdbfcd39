// A fake host for unit tests: records the scripts a kind gives it and answers them with canned sections shaped like
// the guest's real tool output.
import * as assert from "assert";
import { quote, quoteArgv, Script, ScriptResult } from "../../provider/command";
import { HostSession } from "../../provider/resource";
import { Capabilities } from "../../provider/ssh";

const MiB = 1024 * 1024;
export const EXTENT = 4 * MiB;
export interface FakeLv {
  name: string; size: number; attr?: string; tags?: string[]; origin?: string;
  /** Thin LVs: the pool; thin pools and LVs: data_percent; thin pools: metadata_percent and size. */
  pool?: string; dataPercent?: number; metadataPercent?: number; metadataSize?: number;
}

/** The sections captureHostLvm returns, shaped like the guest's real `vgs/pvs/lvs --reportformat json` output. */
export function lvmSections(vg: { name: string; free: number } | undefined, lvs: FakeLv[] = []): Record<string, string> {
  const report = (kind: string, rows: object[]) => JSON.stringify({ report: [{ [kind]: rows }] });
  return {
    vgs: report("vg", vg ? [{ vg_name: vg.name, vg_uuid: "KbbxL2", vg_size: "8581545984", vg_free: String(vg.free),
      vg_extent_size: String(EXTENT), lv_count: String(lvs.length), pv_count: "2", vg_tags: "", vg_mda_size: "1044480" }] : []),
    pvs: report("pv", []),
    lvs: report("lv", lvs.map((lv) => ({ lv_name: lv.name, vg_name: vg?.name ?? "data", lv_uuid: `uuid-${lv.name}`,
      lv_size: String(lv.size), lv_attr: lv.attr ?? "-wi-a-----", lv_tags: (lv.tags ?? []).join(","), origin: lv.origin ?? "",
      snap_percent: "", lv_path: `/dev/${vg?.name ?? "data"}/${lv.name}`, pool_lv: lv.pool ?? "",
      data_percent: lv.dataPercent?.toFixed(2) ?? "", metadata_percent: lv.metadataPercent?.toFixed(2) ?? "",
      lv_metadata_size: lv.metadataSize !== undefined ? String(lv.metadataSize) : "" }))),
  };
}

export const qcow2Info = (size: number, clusterSize = 131072, extendedL2 = true) => JSON.stringify({
  "virtual-size": size, "filename": "/dev/data/x", "cluster-size": clusterSize, "format": "qcow2", "actual-size": 0,
  "format-specific": { type: "qcow2", data: { "compat": "1.1", "corrupt": false, "extended-l2": extendedL2 } }, "dirty-flag": false,
});
export const MEASURE_32MIB = JSON.stringify({ "required": 655360, "fully-allocated": 34209792 });
export const MEASURE_64MIB = JSON.stringify({ "required": 655360, "fully-allocated": 67764224 });
/** An answer to one script: its sections, or an error it fails with. */
export type FakeAnswer = Record<string, string> | Error;

/** A HostSession that records the scripts it is given and answers them in order. */
export class FakeHost implements HostSession {
  readonly target = "root@10.0.0.5:22";
  readonly scripts: Script[] = [];
  constructor(private readonly answers: FakeAnswer[], private readonly caps: Partial<Capabilities> = {}) {}
  async capabilities(): Promise<Capabilities> {
    const tools = { "lvm": true, "qemu-img": true, "flock": true, "blkid": true, "wipefs": true, "blkdiscard": true, "udevadm": true };
    return { target: this.target, uid: 0, sudo: false, tools, qemuImgVersion: "7.2.22", qcow2ExtendedL2: true, ...this.caps };
  }
  async run(script: Script): Promise<ScriptResult> {
    this.scripts.push(script);
    const answer = this.answers.shift();
    if (!answer) throw new Error(`unexpected script: ${script.operation}`);
    if (answer instanceof Error) throw answer;
    return { sections: withMeasures(script, answer), stderr: "" };
  }
  /** The text of the n-th script it was given. */
  text(n: number) { return this.scripts[n].text(); }
}

/**
 * A canned `measure` answers every qemu-img measure the script asks for: batched measures (qemu/measure.ts) are
 * sections named by their arguments, which the tests need not spell out.
 */
function withMeasures(script: Script, answer: Record<string, string>): Record<string, string> {
  if (answer.measure === undefined) return answer;
  const asked = [...script.text().matchAll(/^__section '(measure [^']*)'$/gm)].map((m) => m[1]);
  return { ...Object.fromEntries(asked.map((section) => [section, answer.measure])), ...answer };
}

export const runs = (text: string, argv: string[]) => text.includes(quoteArgv(argv));
export const stepAt = (text: string, step: string) => {
  const at = text.indexOf(`__step ${quote(step)}`);
  assert.ok(at >= 0, `no step "${step}" in:\n${text}`);
  return at;
};

