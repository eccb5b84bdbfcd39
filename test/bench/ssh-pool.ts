import * as fs from "fs";
import { Script } from "../../provider/command";
import { closeAll, Connection, hostFor, parseConnection, poolStats } from "../../provider/ssh";
import { openClient } from "../../provider/ssh/client";
import { execScript } from "../../provider/ssh/exec";
import { attachTestHost } from "../host/attach";
import { startTestHost, TestHost } from "../host/testHost";

/**
 * N small operations against the test guest, through the pool and with a fresh SSH connection per operation.
 * `PULUMI_LVM_TEST_HOST=<info.json>` attaches to a running guest; otherwise one is booted (and stopped).
 * `N=<count>` sets the number of operations (default 20).
 */
async function main(): Promise<void> {
  const n = Number(process.env.N ?? 20);
  const info = process.env.PULUMI_LVM_TEST_HOST;
  const h: TestHost = info ? attachTestHost(JSON.parse(fs.readFileSync(info, "utf8"))) : await startTestHost();
  try {
    const connection = parseConnection({ host: h.host, port: h.port, privateKey: h.privateKey, hostKey: h.hostKey });
    const op = (i: number) => new Script(`bench ${i}`).capture("out", ["echo", String(i)]);
    const ops = Array.from({ length: n }, (_, i) => i);

    const pooledSequential = await timed(async () => {
      const host = hostFor(connection);
      for (const i of ops) await host.run(op(i));
    });
    const opened = poolStats().connectionsOpened;
    await closeAll();
    const pooledConcurrent = await timed(async () => {
      await Promise.all(ops.map((i) => hostFor(connection).run(op(i))));
    });
    await closeAll();

    let handshakes = 0;
    const fresh = await timed(async () => {
      for (const i of ops) handshakes += await freshConnection(connection, op(i));
    });

    const row = (name: string, ms: number) => console.log(`${name.padEnd(50)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(ms / n).toFixed(0).padStart(6)} ms/op`);
    console.log(`${n} operations on ${connection.user}@${h.host}:${h.port}`);
    row(`pool, one after another (${opened} connection)`, pooledSequential);
    row("pool, all at once (8 channels)", pooledConcurrent);
    row(`fresh connection per operation (${n} connections)`, fresh);
    console.log(`handshake (TCP + key exchange + auth): ${(handshakes / n).toFixed(0)} ms on average`);
    console.log(`fresh / pool: ${(fresh / pooledSequential).toFixed(1)}x (one after another), ${(fresh / pooledConcurrent).toFixed(1)}x (all at once)`);
  } finally {
    await closeAll();
    if (!info) await h.stop();
  }
}

/** One operation on its own connection, as a layer without a pool would do it; returns the handshake time. */
async function freshConnection(connection: Connection, script: Script): Promise<number> {
  const start = Date.now();
  const { client } = await openClient(connection);
  const handshake = Date.now() - start;
  try {
    const raw = await execScript(client, "bench", "sh -s", script, 60, () => undefined);
    if (raw.exitCode !== 0) throw new Error(raw.stderr);
  } finally {
    client.end();
  }
  return handshake;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = Date.now();
  await work();
  return Date.now() - start;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
