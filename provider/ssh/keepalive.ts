import { Client } from "ssh2";

/**
 * Keeps an idle connection alive through NATs and firewalls, and notices a dead peer.
 *
 * ssh2's own `keepaliveInterval` runs on a referenced timer, which would keep the Node process alive for as long
 * as a pooled connection exists; this timer is unreferenced. The probe is a round trip the server always
 * answers without side effects: cancelling a port forward that does not exist (OpenSSH replies with failure).
 */
export function keepAlive(client: Client, intervalMs = 15_000, maxMissed = 3): void {
  let missed = 0;
  const timer = setInterval(() => {
    if (missed++ >= maxMissed) {
      client.destroy(); // emits "close": running scripts fail as "connection lost", the next one reconnects
      return;
    }
    try {
      client.unforwardIn("keepalive.pulumi-lvm.invalid", 1, () => { missed = 0; });
    } catch {
      client.destroy(); // "Not connected"
    }
  }, intervalMs);
  timer.unref();
  client.once("close", () => clearInterval(timer));
}
