// Sizes in LVM's binary units, and the pieces of the messages a user reads about bad input.
import * as assert from "assert";
import { parseSize, PositiveSize, Size, SizeOrPercent } from "../../provider/validate";
import { editDistance, nearestKey, shown } from "../../provider/validate/messages";

const refusal = (schema: { safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ message: string }> } } }, v: unknown) =>
  schema.safeParse(v).error?.issues.map((i) => i.message).join("; ");

describe("sizes: LVM's binary units", () => {
  it("reads bytes and binary units as LVM's -L does (k, K, KiB, kib alike: 1024)", () => {
    const cases: Array<[string | number, number]> = [
      [4194304, 4194304], ["4194304", 4194304], ["512b", 512], ["512B", 512], ["4k", 4096], ["4K", 4096], ["4KiB", 4096],
      ["4kib", 4096], ["512M", 512 * 2 ** 20], ["512MiB", 512 * 2 ** 20], ["32G", 32 * 2 ** 30], ["32GiB", 32 * 2 ** 30],
      ["32 G", 32 * 2 ** 30], ["1.5GiB", 1.5 * 2 ** 30], ["1T", 2 ** 40], ["2PiB", 2 * 2 ** 50], ["0B", 0],
    ];
    for (const [text, bytes] of cases) assert.strictEqual(parseSize(text), bytes, String(text));
  });

  it("refuses decimal-looking units (32GB, 512MB, 1TB, 4kb), saying LVM's are binary and what to write instead", () => {
    assert.strictEqual(refusal(Size, "32GB"),
      `decimal units like GB are refused, as LVM's units are binary: write "32GiB" or "32G" for 32 GiB, or a number of bytes`);
    assert.strictEqual(refusal(PositiveSize, "512MB"),
      `decimal units like MB are refused, as LVM's units are binary: write "512MiB" or "512M" for 512 MiB, or a number of bytes`);
    assert.match(refusal(Size, "1.5tb") ?? "", /^decimal units like TB are refused, as LVM's units are binary: write "1\.5TiB" or "1\.5T" for 1\.5 TiB/);
    assert.match(refusal(SizeOrPercent, "4kb") ?? "", /^decimal units like KB are refused/);
    for (const text of ["32GB", "32gb", "32 GB", "512MB", "1TB", "4KB", "2PB", "8Mb"]) assert.strictEqual(parseSize(text), undefined, text);
  });

  it("refuses what is no size at all as before", () => {
    assert.strictEqual(refusal(Size, "lots"), `not a size: use bytes or a number with a unit like "4MiB", "10G"`);
    assert.strictEqual(refusal(Size, "4ib"), `not a size: use bytes or a number with a unit like "4MiB", "10G"`);
    assert.strictEqual(refusal(Size, -1), "not a size: a size cannot be negative");
    assert.strictEqual(refusal(Size, "99999999PiB"), "too large: a size must be at most 8 PiB");
  });
});

describe("messages: values shown, misspelt keys", () => {
  it("shows values as JSON (escapes visible), long ones cut with their length", () => {
    assert.strictEqual(shown("a\nb"), '"a\\nb"');
    assert.strictEqual(shown(42), "42");
    assert.strictEqual(shown(["/dev/sdb"]), '["/dev/sdb"]');
    assert.strictEqual(shown(undefined), "nothing");
    assert.match(shown("x".repeat(500)), /^"x{59}… \(500 characters\)$/);
  });

  it("counts edits, a swap of neighbours as one, ignoring case", () => {
    assert.strictEqual(editDistance("deviecs", "devices"), 1);
    assert.strictEqual(editDistance("passwd", "password"), 2);
    assert.strictEqual(editDistance("Name", "name"), 0);
    assert.strictEqual(editDistance("", "abc"), 3);
  });

  it("suggests the nearest known key, only when it is close", () => {
    const keys = ["connection", "name", "devices", "extentSize", "metadataSize", "tags"];
    assert.strictEqual(nearestKey("deviecs", keys), "devices");
    assert.strictEqual(nearestKey("extent_size", keys), "extentSize");
    assert.strictEqual(nearestKey("nmae", keys), "name");
    assert.strictEqual(nearestKey("connections", keys), "connection");
    assert.strictEqual(nearestKey("color", keys), undefined);
    assert.strictEqual(nearestKey("x", keys), undefined);
  });
});
