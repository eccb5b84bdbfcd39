import { Client } from "ssh2";
import { CommandRunner, HostCommandError, interpret, RawOutput, Script, ScriptResult } from "../command";
import { Capabilities, probeCapabilities } from "./capabilities";
import { OpenClient, openClient } from "./client";
import { Connection, connectionTarget } from "./connection";
import { execScript, NothingSent } from "./exec";
import { connectionSecrets, scrubText } from "./secrets";
import { Semaphore } from "./semaphore";

/** Below OpenSSH's MaxSessions (10 channels per connection). */
const MAX_CHANNELS_PER_CONNECTION = 8;
/** Tries to open a channel before giving up; only ever when nothing was sent. */
const CHANNEL_OPEN_ATTEMPTS = 4;
/** Well below OpenSSH's MaxStartups (10 unauthenticated connections), which drops connections beyond it. */
const MAX_HANDSHAKES_PER_HOST = 2;

/**
 * One host as the resources see it: runs whole scripts, over the process-wide connection pool.
 * Cheap to create; every Host for the same user@host:port (and jump host) shares one SSH connection.
 */
export class Host implements CommandRunner {
  readonly target: string;

  constructor(private readonly connection: Connection) {
    this.target = connectionTarget(connection);
  }

  async run(script: Script): Promise<ScriptResult> {
    const raw = await pooled(this.connection).run(script, this.connection);
    return interpret(this.target, script, raw);
  }

  /** What the host offers (tools, versions, sudo); probed once per pooled connection. */
  capabilities(): Promise<Capabilities> {
    const cache = pooled(this.connection).capabilities;
    const key = this.connection.sudo ? "sudo" : "plain";
    return cache[key] ??= probeCapabilities(this, this.connection.sudo).catch((e: unknown) => {
      delete cache[key];
      throw e;
    });
  }
}

/**
 * The Host for a connection: the same object for equal connections, so what is keyed by Host (reads batched per
 * host, command/batch.ts) is shared by every resource of that host in this process.
 */
export function hostFor(connection: Connection): Host {
  const key = JSON.stringify(connection);
  const { hosts } = pool();
  let host = hosts.get(key);
  if (!host) hosts.set(key, (host = new Host(connection)));
  return host;
}

/**
 * An SSH connection shared by every Host with the same target: opened lazily, reopened after a drop. It is opened
 * with the credentials of the Host whose operation needs it, so one Host's wrong password does not stick.
 */
class PooledConnection {
  readonly channels = new Semaphore(MAX_CHANNELS_PER_CONNECTION);
  readonly capabilities: { sudo?: Promise<Capabilities>; plain?: Promise<Capabilities> } = {};
  private opening?: Promise<OpenClient>;
  private open?: OpenClient;
  /** Operations in progress; while there are none the socket does not keep the process alive. */
  private users = 0;

  constructor(private readonly jumpHost: PooledConnection | undefined) {}

  /**
   * Runs a script on a channel of this connection. If the channel cannot be opened (nothing was sent), retries a few
   * times with a growing pause, on a fresh connection if this one is gone: sshd can refuse a session briefly while it
   * still tears down ones the client already saw closed (seen on a freshly booted host). Once the script was sent it
   * is never sent again.
   */
  async run(script: Script, connection: Connection): Promise<RawOutput> {
    const target = connectionTarget(connection);
    const command = connection.sudo ? "sudo -n sh -s" : "sh -s"; // fixed: the script always travels on stdin
    this.hold();
    try {
      for (let attempt = 1; ; attempt++) {
        const channelGone = await this.channels.acquire(); // handed to execScript, which calls it
        const stats = pool().stats;
        stats.maxChannelsInUse = Math.max(stats.maxChannelsInUse, this.channels.current);
        let client: Client;
        try {
          client = await this.client(connection);
        } catch (e) {
          channelGone();
          throw failure(connection, script, `cannot connect: ${(e as Error).message}\nNothing was sent to the host.`);
        }
        try {
          return await execScript(client, target, command, script, connection.commandTimeoutSeconds, channelGone);
        } catch (e) {
          if (!(e instanceof NothingSent)) throw e;
          if (attempt >= CHANNEL_OPEN_ATTEMPTS) {
            throw failure(connection, script, `cannot open an SSH channel (${attempt} attempts): ${e.message}. Nothing was sent to the host.`);
          }
          await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        }
      }
    } finally {
      this.release();
    }
  }

  client(connection: Connection): Promise<Client> {
    this.opening ??= this.connect(connection).catch((e: unknown) => {
      this.opening = undefined;
      throw e;
    });
    return this.opening.then((o) => o.client);
  }

  private async connect(connection: Connection): Promise<OpenClient> {
    let via: Client | undefined;
    if (this.jumpHost && connection.proxy) {
      const jump = connection.proxy;
      via = await this.jumpHost.client(jump).catch((e: Error) => {
        throw new Error(`jump host ${connectionTarget(jump)}: ${e.message}`);
      });
    }
    const slots = handshakeSlots(connection);
    const opened = await slots.with(() => {
      const stats = pool().stats;
      stats.maxHandshakesInFlight = Math.max(stats.maxHandshakesInFlight, slots.current);
      return openClient(connection, via);
    });
    pool().stats.connectionsOpened++;
    if (this.users === 0) opened.socket?.unref();
    opened.client.once("close", () => {
      if (this.open !== opened) return;
      this.open = undefined;
      this.opening = undefined; // the next operation reconnects
    });
    this.open = opened;
    return opened;
  }

  hold(): void {
    if (this.users++ > 0) return;
    this.open?.socket?.ref();
    this.jumpHost?.hold();
  }

  release(): void {
    if (--this.users > 0) return;
    this.open?.socket?.unref();
    this.jumpHost?.release();
  }

  get isOpen(): boolean {
    return this.open !== undefined;
  }

  /** Ends the connection politely, or abruptly if the server does not answer within 2 s. */
  async close(): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.hold(); // an unreferenced socket would let the process exit halfway
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => open.client.destroy(), 2000);
      open.client.once("close", () => { clearTimeout(timer); resolve(); });
      open.client.end();
    });
    this.release();
  }
}

/**
 * Process-wide state lives on globalThis: Pulumi serializes provider code into each resource, and a module-level
 * Map captured by that code would be copied (or break serialization) instead of shared.
 */
interface Pool {
  connections: Map<string, PooledConnection>;
  hosts: Map<string, Host>;
  handshakes: Map<string, Semaphore>;
  stats: { connectionsOpened: number; maxChannelsInUse: number; maxHandshakesInFlight: number };
}

const POOL = Symbol.for("pulumi-lvm.ssh-pool");

function pool(): Pool {
  const global = globalThis as unknown as Record<symbol, Pool | undefined>;
  return global[POOL] ??= { connections: new Map(), hosts: new Map(), handshakes: new Map(), stats: { connectionsOpened: 0, maxChannelsInUse: 0, maxHandshakesInFlight: 0 } };
}

/** Connections are shared per target and host key policy; other credential differences are ignored. */
function pooled(c: Connection): PooledConnection {
  const key = poolKey(c);
  const { connections } = pool();
  let entry = connections.get(key);
  if (!entry) {
    entry = new PooledConnection(c.proxy && pooled(c.proxy));
    connections.set(key, entry);
  }
  return entry;
}

function poolKey(c: Connection): string {
  return JSON.stringify([c.user, c.host, c.port, c.hostKey, c.insecureSkipHostKeyCheck, c.knownHostsPath, c.proxy && poolKey(c.proxy)]);
}

/** Handshakes are limited per sshd, whoever logs in: keyed by address (and the path to it). */
function handshakeSlots(c: Connection): Semaphore {
  const address = (x: Connection): string => `${x.host}:${x.port}${x.proxy ? ` via ${address(x.proxy)}` : ""}`;
  const { handshakes } = pool();
  const key = address(c);
  let slots = handshakes.get(key);
  if (!slots) handshakes.set(key, slots = new Semaphore(MAX_HANDSHAKES_PER_HOST));
  return slots;
}

/** A connection failure as a HostCommandError, with any secret of the connection blanked out. */
function failure(connection: Connection, script: Script, reason: string): HostCommandError {
  const detail = scrubText(reason, connectionSecrets(connection));
  return new HostCommandError(connectionTarget(connection), script.operation, "connection", undefined, null, detail);
}

export interface PoolStats {
  /** SSH connections opened by this process so far (jump hosts included). */
  connectionsOpened: number;
  connectionsOpen: number;
  channelsInUse: number;
  /** The most channels ever in use at once on one connection. */
  maxChannelsInUse: number;
  /** The most handshakes ever in flight at once to one address. */
  maxHandshakesInFlight: number;
}

export function poolStats(): PoolStats {
  const { connections, stats } = pool();
  const entries = [...connections.values()];
  return {
    ...stats,
    connectionsOpen: entries.filter((e) => e.isOpen).length,
    channelsInUse: entries.reduce((n, e) => n + e.channels.current, 0),
  };
}

/** Closes every pooled connection (tests, process end). Hosts stay usable: they reconnect on their next run. */
export async function closeAll(): Promise<void> {
  const { connections } = pool();
  const entries = [...connections.values()];
  connections.clear();
  await Promise.all(entries.map((e) => e.close()));
}
