// The host side of inspect's image read (INSPECT_IMAGES), run by the local /bin/sh exactly as the host runs it, with
// `lvs` and `qemu-img` replaced by fakes that answer like the guest's and log how they were called.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Script, sh } from "../../provider/command";
import { parseReading } from "../../provider/inspect/read";
import { INSPECT_IMAGES } from "../../provider/inspect/read";
import { measureArgv } from "../../provider/qemu";
import { diskFormatOf, formatTag } from "../../provider/storage/naming";
import { chainJson, proxmoxChain } from "../support/inspectFixtures";
import { LocalShell } from "../support/localShell";

/** Puts the fakes first on PATH (the script's prelude sets its own PATH; this step comes after it). */
const USE_FAKES = sh`PATH="$fakes:$PATH"`;

const FAKE_LVS = `#!/bin/sh
printf '%s\\n' "lvs $*" >> "$(dirname "$0")/calls"
cat "$(dirname "$0")/lvs.txt"
`;

/** `qemu-img info` answers from <fakes>/<vg>_<lv>.json, or fails as qemu-img does for a missing device. */
const FAKE_QEMU_IMG = `#!/bin/sh
dir=$(dirname "$0")
printf '%s\\n' "qemu-img $*" >> "$dir/calls"
case "$1" in
  info)
    for dev in "$@"; do :; done
    file="$dir/$(printf '%s' "\${dev#/dev/}" | tr / _).json"
    if [ -f "$file" ]; then cat "$file"; else echo "qemu-img: Could not open '$dev': No such file or directory" >&2; exit 1; fi ;;
  measure) printf '{\\n    "required": 655360,\\n    "fully-allocated": 34209792\\n}\\n' ;;
esac
`;

describe("inspect: the host-side image read (local shell, fake lvs and qemu-img)", () => {
  let fakes: string;
  beforeEach(() => {
    fakes = fs.mkdtempSync(path.join(os.tmpdir(), "inspect-images-"));
    fs.writeFileSync(path.join(fakes, "lvs"), FAKE_LVS, { mode: 0o755 });
    fs.writeFileSync(path.join(fakes, "qemu-img"), FAKE_QEMU_IMG, { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(fakes, { recursive: true, force: true }));

  /** `lvs --noheadings --separator '|'` rows as LVM prints them (newest first, as -O -lv_time sorts). */
  const listLvs = (rows: Array<[lv: string, attr: string, tags: string]>) =>
    fs.writeFileSync(path.join(fakes, "lvs.txt"), rows.map(([lv, attr, tags]) => `  data|${lv}|${attr}|${tags}\n`).join(""));
  const image = (lv: string, json: string) => fs.writeFileSync(path.join(fakes, `data_${lv}.json`), `${json}\n`);
  const run = async (args: string[] = []) => {
    const script = new Script("test").code("fakes", USE_FAKES, { fakes })
      .code("read the qcow2 images", INSPECT_IMAGES, { format_tag: formatTag("") }, args);
    const { sections } = await new LocalShell().run(script);
    const calls = fs.readFileSync(path.join(fakes, "calls"), "utf8").trim().split("\n");
    return { sections, calls, reading: parseReading({ hostname: "h", vgs: '{"report":[{"vg":[]}]}', pvs: '{"report":[{"pv":[]}]}', lvs: '{"report":[{"lv":[]}]}', "running exports": "", ...sections }) };
  };

  it("reads exactly the active qcow2 LVs that diskFormatOf names, never probing the others", async () => {
    const rows: Array<[string, string, string]> = [
      ["vm-1.qcow2", "-wi-a-----", ""],
      ["vm-2", "-wi-a-----", "web,pulumi-lvm/format=qcow2"],
      ["vm-3.qcow2", "-wi-a-----", "pulumi-lvm/format=raw"],
      ["vm-4", "owi-a-s---", ""],
      ["vm-5.qcow2", "-wi-------", ""],
      ["snap_vm-9.qcow2_x", "swi-a-s---", "pulumi-lvm/format=qcow2"],
      ["vm-6", "-wi-ao----", "pulumi-lvm/format=qcow2x"],
      ["vm-7.qcow2", "owi-aos---", "pulumi-lvm/format=qcow2"],
    ];
    listLvs(rows);
    for (const [lv] of rows) image(lv, chainJson([{ lv, virtualSize: 1 << 20 }], "data"));
    const { calls, reading } = await run();
    const expected = rows.filter(([lv, attr, tags]) => diskFormatOf(lv, tags.split(",").filter(Boolean)) === "qcow2"
      && attr[4] === "a" && !"sS".includes(attr[0])).map(([lv]) => `data/${lv}`);
    assert.deepStrictEqual(expected, ["data/vm-1.qcow2", "data/vm-2", "data/vm-7.qcow2"], "the rule this test checks against");
    assert.deepStrictEqual([...reading.chains.keys()], expected);
    assert.deepStrictEqual(calls.filter((c) => c.startsWith("qemu-img info")),
      expected.map((lv) => `qemu-img info --output=json -U -f qcow2 --backing-chain /dev/${lv}`));
    assert.ok(calls.every((c) => !/ -f raw| info --output=json (?!-U -f qcow2)/.test(c)), calls.join("\n"));
  });

  it("reads a chain once from its top, and measures the top with exactly measureArgv of its parsed image", async () => {
    listLvs([
      ["vm-1.qcow2", "-wi-a-----", ""],
      ["snap_vm-1_s2.qcow2", "-wi-a-----", ""],
      ["snap_vm-1_s1.qcow2", "-wi-a-----", ""],
      ["vm-2.qcow2", "-wi-a-----", ""],
    ]);
    image("vm-1.qcow2", proxmoxChain("vm-1.qcow2", ["s1", "s2"], "data"));
    image("vm-2.qcow2", chainJson([{ lv: "vm-2.qcow2", virtualSize: 3 * 2 ** 30, clusterSize: 65536, extendedL2: false }], "data"));
    const { calls, reading } = await run(["-S", "vg_name=data"]);
    assert.strictEqual(calls[0], "lvs --noheadings --separator | -o vg_name,lv_name,lv_attr,lv_tags -O -lv_time -S vg_name=data");
    assert.deepStrictEqual([...reading.chains.keys()], ["data/vm-1.qcow2", "data/vm-2.qcow2"], "the snapshots were read as part of the chain");
    const argsOf = (size: number, clusterSizeBytes: number, extendedL2: boolean) =>
      measureArgv(size, { clusterSizeBytes, extendedL2, preallocation: "metadata" }).slice(1).join(" ");
    assert.deepStrictEqual(reading.measures.get("data/vm-1.qcow2")?.args, argsOf(32 << 20, 131072, true));
    assert.deepStrictEqual(reading.measures.get("data/vm-2.qcow2")?.args, argsOf(3 * 2 ** 30, 65536, false));
    assert.match(reading.measures.get("data/vm-2.qcow2")!.output, /"fully-allocated": 34209792/);
  });

  it("prints qemu-img's error for a broken chain, and goes on with the next disk", async () => {
    listLvs([["vm-1.qcow2", "-wi-a-----", ""], ["vm-2.qcow2", "-wi-a-----", ""]]);
    image("vm-2.qcow2", chainJson([{ lv: "vm-2.qcow2" }], "data"));
    const { reading } = await run();
    assert.strictEqual(reading.chains.get("data/vm-1.qcow2"), "qemu-img: Could not open '/dev/data/vm-1.qcow2': No such file or directory");
    assert.ok(!reading.measures.has("data/vm-1.qcow2"));
    assert.ok(reading.measures.has("data/vm-2.qcow2"));
  });
});
