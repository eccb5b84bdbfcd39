import * as net from "net";
import { Duplex } from "stream";
import { Client, ConnectConfig, ServerHostKeyAlgorithm } from "ssh2";
import { Connection, connectionTarget } from "./connection";
import { checkHostKey, hostKeyAlgorithms, hostKeyPolicy } from "./hostKeys";
import { keepAlive } from "./keepalive";

/** An authenticated SSH client whose host key was verified, and the TCP socket under it (none when tunnelled). */
export interface OpenClient {
  client: Client;
  socket?: net.Socket;
}

type AuthMethod = "publickey" | "password" | "agent";

/**
 * Opens and authenticates one SSH connection. With `jumpHost`, the TCP connection is a channel forwarded by
 * that (already verified) client. Rejects with a message that names what failed and never a secret.
 * Nothing is executed here: a connection that fails verification or authentication has sent no command.
 */
export async function openClient(c: Connection, jumpHost?: Client): Promise<OpenClient> {
  const policy = await hostKeyPolicy(c);
  const agent = c.agentSocketPath ?? process.env.SSH_AUTH_SOCK;
  const methods: AuthMethod[] = [];
  if (c.privateKey) methods.push("publickey");
  if (c.password !== undefined) methods.push("password");
  if (agent) methods.push("agent");
  if (methods.length === 0) throw new Error("no way to authenticate: set privateKey, password or agentSocketPath (or SSH_AUTH_SOCK)");

  const socket = jumpHost ? undefined : net.connect({ host: c.host, port: c.port });
  const sock = socket ?? await forward(jumpHost!, c);
  const serverHostKey = hostKeyAlgorithms(policy);
  let refusal: string | undefined; // why the host key was refused, if it was
  let agentProblem = "";
  const config: ConnectConfig = {
    sock,
    username: c.user,
    password: c.password,
    privateKey: c.privateKey,
    passphrase: c.privateKeyPassword,
    agent,
    authHandler: methods,
    hostVerifier: (key: Buffer) => (refusal = checkHostKey(policy, key)) === undefined,
    ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as ServerHostKeyAlgorithm[] } } : {}),
    readyTimeout: c.connectTimeoutSeconds * 1000,
    keepaliveInterval: 0, // see keepalive.ts
  };

  const client = new Client();
  return new Promise<OpenClient>((resolve, reject) => {
    const fail = (reason: string) => {
      client.removeAllListeners("ready");
      client.destroy();
      socket?.destroy();
      reject(new Error(reason));
    };
    client.on("error", (e: Error & { level?: string; code?: string }) => {
      if (e.level === "agent") { // an unusable agent: ssh2 goes on with the next method
        agentProblem = `; the agent at ${agent} failed: ${e.message}`;
        return;
      }
      if (refusal) fail(refusal);
      else if (e.level === "client-authentication") fail(`authentication failed for ${connectionTarget(c)} (tried: ${methods.join(", ")}${agentProblem})`);
      else if (e.level === "client-timeout") fail(`no SSH handshake within ${c.connectTimeoutSeconds} s (connectTimeoutSeconds)`);
      else if (e.code === "ECONNREFUSED") fail(`connection refused: nothing listens on ${c.host} port ${c.port}`);
      else if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") fail(`host name ${c.host} cannot be resolved`);
      else fail(e.message);
    });
    client.once("close", () => fail(refusal ?? "the connection was closed during the SSH handshake"));
    client.once("ready", () => {
      client.removeAllListeners("error").removeAllListeners("close");
      client.on("error", () => undefined); // later failures surface as "close" to whoever uses the client
      keepAlive(client);
      resolve({ client, socket });
    });
    try {
      client.connect(config);
    } catch (e) {
      fail((e as Error).message); // e.g. "Cannot parse privateKey: ..."
    }
  });
}

function forward(jumpHost: Client, c: Connection): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const failed = (why: string) => reject(new Error(`the jump host could not open a connection to ${c.host}:${c.port}: ${why}`));
    try {
      jumpHost.forwardOut("127.0.0.1", 0, c.host, c.port, (err, stream) => (err ? failed(err.message) : resolve(stream)));
    } catch (e) {
      failed((e as Error).message);
    }
  });
}
