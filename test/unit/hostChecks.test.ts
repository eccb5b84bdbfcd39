// makeLv (storage/hostChecks.ts): lvcreate and lvrename check the name and the room themselves, and their refusals
// read as the separate checks did. Run by the local sh, with a stand-in command printing LVM's own messages.
import * as assert from "assert";
import { HostCommandError, Script } from "../../provider/command";
import { makeLv } from "../../provider/storage/hostChecks";
import { LocalShell } from "../support/localShell";

const vars = { vg: "data", lv: "vm-1-disk-0", exists_hint: "; set adopt: true to take it over", need: "37748736", need_text: "36 MiB", what: "disk vm-1-disk-0" };
/** A command that prints `stderr` and fails (or succeeds with `ok`), as lvcreate would. */
const lvm = (stderr: string, ok = false) => ["sh", "-c", `printf '%s\\n' "$1" >&2; exit ${ok ? 0 : 5}`, "lvcreate", stderr];
const run = (argv: string[], undo = false) => {
  const script = new Script("make an LV");
  if (undo) script.run("a change", ["true"]).undo(["sh", "-c", "echo undone >&2"]);
  return new LocalShell().run(makeLv(script, "lvcreate", argv, vars));
};
const refused = (pattern: RegExp) => (e: HostCommandError) => e.kind === "refused" && pattern.test(e.message);

describe("makeLv: LVM's refusals as clear errors", () => {
  it("a taken name", async () => {
    await assert.rejects(run(lvm(`  Logical Volume "vm-1-disk-0" already exists in volume group "data"`)),
      refused(/logical volume data\/vm-1-disk-0 already exists; set adopt: true to take it over/));
  });

  it("too little room, with the free space read only then", async () => {
    await assert.rejects(run(lvm(`  Volume group "data" has insufficient free space (3 extents): 9 required.`)),
      refused(/not enough free space in volume group data: disk vm-1-disk-0 needs 36 MiB \(37748736 bytes\), only \d+ MiB \(\d+ bytes\) are free/));
  });

  it("a missing VG", async () => {
    await assert.rejects(run(lvm(`  Volume group "data" not found`)), refused(/volume group data does not exist on this host/));
  });

  it("any other failure is the command's own error", async () => {
    await assert.rejects(run(lvm("  device-mapper: reload ioctl failed"), true), (e: HostCommandError) =>
      e.kind !== "refused" && /device-mapper: reload ioctl failed/.test(e.message));
  });

  it("success passes the command's warnings on", async () => {
    const r = await run(lvm("  WARNING: ext4 signature detected. Wiping it.", true));
    assert.ok(r.stderr.includes("Wiping it."), r.stderr);
  });
});
