import * as assert from "assert";
import * as net from "net";
import { waitForSshBanner } from "../host/testHost";

describe("test host: waiting for sshd", () => {
  it("keeps waiting through connections that are accepted and closed without a word, until the banner comes", async function () {
    this.timeout(20_000);
    let accepted = 0;
    // Like QEMU's user-mode network before the guest's sshd listens: accept, then close at once.
    const server = net.createServer((sock) => {
      if (++accepted <= 3) sock.destroy();
      else sock.end("SSH-2.0-OpenSSH_test\r\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      await waitForSshBanner((server.address() as net.AddressInfo).port, 15_000, () => true);
      assert.ok(accepted >= 4, `banner seen after ${accepted} connections`);
    } finally {
      server.close();
    }
  });

  it("gives up when the guest's process is gone", async () => {
    await assert.rejects(waitForSshBanner(1, 5_000, () => false), /qemu exited during boot/);
  });
});
