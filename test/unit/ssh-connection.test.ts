import * as assert from "assert";
import { checkConnection, connectionTarget, parseConnection } from "../../provider/ssh/connection";
import { Semaphore } from "../../provider/ssh/semaphore";

const failures = (input: unknown) => checkConnection(input).failures.map((f) => `${f.property}: ${f.reason}`);

describe("ssh connection schema", () => {
  it("fills in defaults", () => {
    const c = parseConnection({ host: "db1" });
    assert.deepStrictEqual(c, {
      host: "db1", port: 22, user: "root", insecureSkipHostKeyCheck: false, knownHostsPath: "~/.ssh/known_hosts",
      sudo: false, connectTimeoutSeconds: 30, commandTimeoutSeconds: 1800,
    });
  });

  it("names the field and the rule in every failure", () => {
    assert.deepStrictEqual(failures({}), ['connection.host: host is required: a host name or address like "192.0.2.10"']);
    assert.deepStrictEqual(failures({ host: "h", port: 70000 }), ["connection.port: port must be an integer between 1 and 65535; got 70000"]);
    assert.deepStrictEqual(failures({ host: "h", port: "22" }), ['connection.port: port must be a number; got "22"']);
    assert.deepStrictEqual(failures({ host: "h", sudo: "yes" }), ['connection.sudo: sudo must be true or false; got "yes"']);
    assert.deepStrictEqual(failures({ host: "h", commandTimeoutSeconds: 0 }), ["connection.commandTimeoutSeconds: commandTimeoutSeconds must be greater than 0; got 0"]);
    assert.deepStrictEqual(failures({ host: "h", privateKey: "~/.ssh/id_ed25519" }),
      ["connection.privateKey: privateKey must be the text of a private key (OpenSSH, PEM or PuTTY format), not a path"]);
    assert.match(failures({ host: "h", hostKey: "SHA256:short" })[0], /^connection\.hostKey: hostKey must be an OpenSSH public key line/);
    assert.deepStrictEqual(failures({ host: "h", user: "a@b" }), ['connection.user: user must be a user name: letters, digits and . _ - (and a final $); got "a@b"']);
  });

  it("refuses unknown fields, also in the jump host", () => {
    assert.deepStrictEqual(failures({ host: "h", hostname: "x", pasword: "y", color: "z" }), [
      'connection.hostname: unknown key "hostname" in connection; did you mean "host"?',
      'connection.pasword: unknown key "pasword" in connection; did you mean "password"?',
      'connection.color: unknown key "color" in connection; the keys of connection are host, port, user, password, privateKey, ' +
        "privateKeyPassword, agentSocketPath, hostKey, insecureSkipHostKeyCheck, knownHostsPath, proxy, sudo, connectTimeoutSeconds, commandTimeoutSeconds",
    ]);
    assert.deepStrictEqual(failures({ host: "h", proxy: { host: "j", prot: 22 } }), ['connection.proxy.prot: unknown key "prot" in connection.proxy; did you mean "port"?']);
    assert.deepStrictEqual(failures({ host: "h", proxy: { port: 22 } }), ['connection.proxy.host: host is required: a host name or address like "192.0.2.10"']);
    assert.deepStrictEqual(failures(undefined), [
      "connection: none given: set connection on the resource, or (with the lvm provider plugin) give the provider one, the default of its " +
        "resources: in the stack config (pulumi config set --path lvm:connection.host <host>, and its other fields the same way) or on an " +
        'explicit provider (new lvm.Provider("p", { connection: { host: ... } }), and the resource\'s provider option)',
    ]);
    assert.deepStrictEqual(failures("root@h"), ['connection: expected an object with at least a host, like { host: "192.0.2.10" }, got a string']);
  });

  it("never echoes a secret in a failure", () => {
    const secret = "hunter2-very-secret";
    const text = failures({ host: "h", password: 42, privateKey: secret, privateKeyPassword: [secret], extra: secret }).join("\n");
    assert.ok(!text.includes(secret), text);
  });

  it("describes the target as user@host:port via the jump host, without secrets", () => {
    const c = parseConnection({ host: "10.0.0.5", password: "pw-secret", proxy: { host: "bastion", user: "ops", port: 2222, password: "pw-secret" } });
    assert.strictEqual(connectionTarget(c), "root@10.0.0.5:22 via ops@bastion:2222");
    assert.strictEqual(connectionTarget(parseConnection({ host: "fe80::1", user: "u" })), "u@[fe80::1]:22");
  });
});

describe("semaphore", () => {
  it("admits at most `limit` holders, the others in order", async () => {
    const slots = new Semaphore(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => slots.with(async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      order.push(i);
      running--;
    })));
    assert.strictEqual(most, 2);
    assert.deepStrictEqual(order, [0, 1, 2, 3, 4]);
    assert.strictEqual(slots.current, 0);
  });
});
