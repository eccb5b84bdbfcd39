// The qemu-img JSON parsers (provider/qemu) on output captured from the test guest (qemu-img 7.2.22, Debian 12),
// and the batched image read.
import * as assert from "assert";
import { CommandRunner, Script, ScriptResult } from "../../provider/command";
import { measureArgv, parseImageInfo, parseMeasure, qcow2OptionString, readImageChain, readImageInfo } from "../../provider/qemu";

/** `qemu-img info --output=json -U -f qcow2` of a disk created with cluster_size=131072,extended_l2=on,preallocation=metadata. */
const INFO_QCOW2_ON_LV = `{
    "virtual-size": 67108864,
    "filename": "/dev/probe/d1.qcow2",
    "cluster-size": 131072,
    "format": "qcow2",
    "actual-size": 0,
    "format-specific": {
        "type": "qcow2",
        "data": {
            "compat": "1.1",
            "compression-type": "zlib",
            "lazy-refcounts": false,
            "refcount-bits": 16,
            "corrupt": false,
            "extended-l2": true
        }
    },
    "dirty-flag": false
}`;

/** An overlay made with `qemu-img create -f qcow2 -b src.qcow2 -F qcow2 top.qcow2`. */
const INFO_OVERLAY = `{
    "backing-filename-format": "qcow2",
    "virtual-size": 6291456,
    "filename": "top.qcow2",
    "cluster-size": 65536,
    "format": "qcow2",
    "actual-size": 200704,
    "format-specific": {
        "type": "qcow2",
        "data": {
            "compat": "1.1",
            "compression-type": "zlib",
            "lazy-refcounts": false,
            "refcount-bits": 16,
            "corrupt": false,
            "extended-l2": false
        }
    },
    "full-backing-filename": "src.qcow2",
    "backing-filename": "src.qcow2",
    "dirty-flag": false
}`;

/** A raw LV, format probed. */
const INFO_RAW_LV = `{
    "virtual-size": 8388608,
    "filename": "/dev/probe/r8",
    "format": "raw",
    "actual-size": 0,
    "dirty-flag": false
}`;

const MEASURE_32MIB = `{
    "required": 655360,
    "fully-allocated": 34209792
}`;

const NO_SUCH_FILE = "qemu-img: Could not open '/nope': Could not open '/nope': No such file or directory";

describe("qemu-img info parser", () => {
  it("reads a qcow2 image on an LV: format, virtual size, cluster size, subclusters", () => {
    assert.deepStrictEqual(parseImageInfo(INFO_QCOW2_ON_LV), {
      format: "qcow2", virtualSizeBytes: 67108864, clusterSizeBytes: 131072, extendedL2: true, corrupt: false,
    });
  });

  it("reads an overlay's backing file as recorded (relative) and its format", () => {
    assert.deepStrictEqual(parseImageInfo(INFO_OVERLAY), {
      format: "qcow2", virtualSizeBytes: 6291456, clusterSizeBytes: 65536, extendedL2: false, corrupt: false,
      backingFile: "src.qcow2", backingFormat: "qcow2",
    });
  });

  it("reads a raw device, which has no qcow2 facts", () => {
    assert.deepStrictEqual(parseImageInfo(INFO_RAW_LV), { format: "raw", virtualSizeBytes: 8388608 });
  });

  it("reports qemu-img's own message when it printed one instead of JSON", () => {
    assert.throws(() => parseImageInfo(NO_SUCH_FILE), /could not parse qemu-img info JSON output: qemu-img: Could not open '\/nope'/);
    assert.throws(() => parseImageInfo(MEASURE_32MIB), /unexpected qemu-img info JSON output/);
  });
});

describe("qemu-img measure parser", () => {
  it("reads required and fully-allocated bytes", () => {
    assert.deepStrictEqual(parseMeasure(MEASURE_32MIB), { requiredBytes: 655360, fullyAllocatedBytes: 34209792 });
  });

  it("refuses output that is not a measure", () => {
    assert.throws(() => parseMeasure("qemu-img: Invalid parameter 'bogus'"), /could not parse qemu-img measure JSON output/);
    assert.throws(() => parseMeasure(INFO_RAW_LV), /unexpected qemu-img measure JSON output/);
  });

  it("measures with the same -o string that creates the image", () => {
    const options = { clusterSizeBytes: 131072, extendedL2: true, preallocation: "metadata" as const };
    assert.strictEqual(qcow2OptionString(options), "cluster_size=131072,extended_l2=on,preallocation=metadata");
    assert.strictEqual(qcow2OptionString({ extendedL2: false, preallocation: "off" }), "extended_l2=off,preallocation=off");
    assert.deepStrictEqual(measureArgv(33554432, options),
      ["qemu-img", "measure", "--output=json", "--size", "33554432", "-O", "qcow2", "-o", "cluster_size=131072,extended_l2=on,preallocation=metadata"]);
  });
});

/** Answers each image section of a batch from a table keyed by device, as the host would. */
class ImageHost implements CommandRunner {
  readonly target = "root@fake:22";
  readonly scripts: Script[] = [];
  constructor(private readonly byDevice: Record<string, string>) {}
  async run(script: Script): Promise<ScriptResult> {
    this.scripts.push(script);
    const sections: Record<string, string> = {};
    for (const [device, text] of Object.entries(this.byDevice)) sections[`image qcow2 ${device}`] = text;
    return { sections, stderr: "" };
  }
}

/** Answers each script with the next of its canned sections. */
class SectionsHost implements CommandRunner {
  readonly target = "root@fake:22";
  readonly scripts: Script[] = [];
  constructor(private readonly answers: Record<string, string>[]) {}
  async run(script: Script): Promise<ScriptResult> {
    this.scripts.push(script);
    return { sections: this.answers.shift() ?? {}, stderr: "" };
  }
}

describe("readImageInfo", () => {
  it("reads every image asked for in the same tick in one round trip", async () => {
    const host = new ImageHost({ "/dev/vg/a.qcow2": INFO_QCOW2_ON_LV, "/dev/vg/b.qcow2": INFO_OVERLAY, "/dev/vg/gone.qcow2": "" });
    const [a, b, gone] = await Promise.all([
      readImageInfo(host, "/dev/vg/a.qcow2", "qcow2"),
      readImageInfo(host, "/dev/vg/b.qcow2", "qcow2"),
      readImageInfo(host, "/dev/vg/gone.qcow2", "qcow2"),
    ]);
    assert.strictEqual(host.scripts.length, 1);
    assert.strictEqual(a?.virtualSizeBytes, 67108864);
    assert.strictEqual(b?.backingFile, "src.qcow2");
    assert.strictEqual(gone, undefined, "no device (inactive or removed LV): undefined");
    const text = host.scripts[0].text();
    for (const device of ["/dev/vg/a.qcow2", "/dev/vg/b.qcow2", "/dev/vg/gone.qcow2"]) assert.ok(text.includes(`image='${device}'`), text);
  });

  it("fails only the caller whose image qemu-img could not read", async () => {
    const host = new ImageHost({ "/dev/vg/a.qcow2": INFO_QCOW2_ON_LV, "/dev/vg/bad.qcow2": "qemu-img: Image is not in qcow2 format" });
    const [a, bad] = await Promise.allSettled([
      readImageInfo(host, "/dev/vg/a.qcow2", "qcow2"),
      readImageInfo(host, "/dev/vg/bad.qcow2", "qcow2"),
    ]);
    assert.strictEqual(a.status, "fulfilled");
    assert.strictEqual(bad.status, "rejected");
    assert.match(String((bad as PromiseRejectedResult).reason), /Image is not in qcow2 format/);
  });

  it("reads a qcow2 disk whose chain the same batch reads once: its info is the chain's top", async () => {
    const chain = JSON.stringify([{ ...JSON.parse(INFO_QCOW2_ON_LV), filename: "/dev/vg/a.qcow2" }]);
    const host = new SectionsHost([{ "chain /dev/vg/a.qcow2": chain }]);
    const [info, read] = await Promise.all([
      readImageInfo(host, "/dev/vg/a.qcow2", "qcow2"),
      readImageChain(host, "vg", "a.qcow2", "snap_a_"),
    ]);
    assert.strictEqual(host.scripts.length, 1);
    const text = host.scripts[0].text();
    assert.ok(text.includes("--backing-chain") && !text.includes("__section 'image qcow2 /dev/vg/a.qcow2'"), text);
    assert.deepStrictEqual(info, parseImageInfo(INFO_QCOW2_ON_LV));
    assert.ok(read && "images" in read && read.images[0].filename === "/dev/vg/a.qcow2");
  });

  it("reads the image on its own where the chain it tops could not be read", async () => {
    const broken = "qemu-img: Could not open '/dev/vg/snap_a_x.qcow2': No such file or directory";
    const host = new SectionsHost([{ "chain /dev/vg/a.qcow2": broken }, { image: INFO_QCOW2_ON_LV }]);
    const [info] = await Promise.all([readImageInfo(host, "/dev/vg/a.qcow2", "qcow2"), readImageChain(host, "vg", "a.qcow2", "snap_a_")]);
    assert.strictEqual(host.scripts.length, 2);
    assert.strictEqual(info?.virtualSizeBytes, 67108864);
  });

  it("starts a new round trip for a caller that asks after the batch was sent", async () => {
    const host = new ImageHost({ "/dev/vg/a.qcow2": INFO_QCOW2_ON_LV });
    await readImageInfo(host, "/dev/vg/a.qcow2", "qcow2");
    await readImageInfo(host, "/dev/vg/a.qcow2", "qcow2");
    assert.strictEqual(host.scripts.length, 2);
  });
});
