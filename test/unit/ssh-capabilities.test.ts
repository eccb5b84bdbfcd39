import * as assert from "assert";
import { CommandRunner, HostCommandError, Script, ScriptResult } from "../../provider/command";
import { probeCapabilities, requireTool } from "../../provider/ssh/capabilities";

/** A runner that answers any script with the given sections. */
function fakeHost(sections: Record<string, string>, calls: Script[] = []): CommandRunner {
  return {
    target: "root@db1:22",
    async run(script: Script): Promise<ScriptResult> {
      calls.push(script);
      return { sections, stderr: "" };
    },
  };
}

describe("ssh capabilities (preflight)", () => {
  it("reads versions, tools and qcow2 extended_l2 in one round trip", async () => {
    const calls: Script[] = [];
    const caps = await probeCapabilities(fakeHost({
      uid: "0",
      tools: "lvm\nflock\nblkid\nwipefs\nblkdiscard\nudevadm",
      lvm: "  LVM version:     2.03.16(2) (2022-05-18)\n  Library version: 1.02.185 (2022-05-18)",
      "qemu-img": "qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)",
      qcow2: "Supported options:\n  extended_l2=<bool (on/off)> - Extended L2 tables",
    }, calls), false);
    assert.strictEqual(calls.length, 1);
    assert.deepStrictEqual(caps, {
      target: "root@db1:22", uid: 0, sudo: false, lvmVersion: "2.03.16", qemuImgVersion: "7.2.22", qcow2ExtendedL2: true,
      tools: { "lvm": true, "qemu-img": false, "flock": true, "blkid": true, "wipefs": true, "blkdiscard": true, "udevadm": true },
    });
    requireTool(caps, "lvm");
    assert.throws(() => requireTool(caps, "qemu-img"), { message: "qemu-img is not installed on root@db1:22: apt-get install qemu-utils" });
  });

  it("explains a sudo that asks for a password", async () => {
    const host: CommandRunner = {
      target: "ops@db1:22",
      run: async (script) => { throw new HostCommandError("ops@db1:22", script.operation, "failed", undefined, 1, "sudo: a password is required"); },
    };
    await assert.rejects(probeCapabilities(host, true), (e: HostCommandError) =>
      e.kind === "refused" && /sudo -n does not work \(sudo: a password is required\): give the user passwordless sudo/.test(e.message));
  });
});
