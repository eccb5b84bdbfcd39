// The `pulumi-lvm inspect` command line without a host: arguments to a validated connection (errors name the flag,
// never a secret), and the command's output and exit codes over a fake host.
import * as assert from "assert";
import { HostCommandError } from "../../provider/command";
import { ArgsEnvironment, parseInspectArgs, parseTarget } from "../../provider/inspect/args";
import { inspectCommand, Io } from "../../provider/inspect/cli";
import { Connection } from "../../provider/ssh";
import { FakeAnswer, FakeHost } from "../support/fakeHost";
import { readSections, scenarioSections, SCENARIO_ROWS } from "../support/inspectFixtures";
import { CONNECTION } from "../support/noHost";

const KEY = CONNECTION.privateKey;
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWa9WUQiPD7Z/Vx1yRr4ojuMgt6UZiWRAGp2UFFU82U host";
const FINGERPRINT = "SHA256:" + "B".repeat(43);

function environment(files: Record<string, string> = { "/keys/id": KEY }, env: NodeJS.ProcessEnv = {}): ArgsEnvironment {
  return {
    env,
    home: "/home/me",
    readFile: (f) => {
      if (!(f in files)) throw Object.assign(new Error(`ENOENT: ${f}`), { code: "ENOENT" });
      return files[f];
    },
    exists: (f) => f in files,
  };
}

const parse = (argv: string[], env?: ArgsEnvironment) => parseInspectArgs(argv, env ?? environment());
const connectionOf = (argv: string[], env?: ArgsEnvironment): Connection => {
  const parsed = parse(argv, env);
  assert.ok(parsed !== "help");
  return parsed.connection;
};
const usageError = (argv: string[], env?: ArgsEnvironment): string => {
  try {
    parse(argv, env);
  } catch (e) {
    return (e as Error).message;
  }
  return assert.fail("expected a usage error");
};

describe("inspect: the command line", () => {
  it("reads [user@]host[:port], IPv6 in brackets", () => {
    assert.deepStrictEqual(parseTarget("pve1"), { host: "pve1" });
    assert.deepStrictEqual(parseTarget("admin@pve1:2222"), { host: "pve1", user: "admin", port: 2222 });
    assert.deepStrictEqual(parseTarget("root@[2001:db8::1]:22"), { host: "2001:db8::1", user: "root", port: 22 });
    assert.deepStrictEqual(parseTarget("2001:db8::1"), { host: "2001:db8::1" });
  });

  it("mirrors the connection: key file, pinned host key, known_hosts, sudo, a jump host with its own key", () => {
    const c = connectionOf(["tester@10.0.0.5:2222", "-i", "/keys/id", "--host-key", HOST_KEY, "--sudo",
      "--known-hosts", "/etc/ssh/ssh_known_hosts", "--jump", "bastion", "--jump-host-key", FINGERPRINT]);
    assert.deepStrictEqual([c.host, c.port, c.user, c.privateKey, c.hostKey, c.sudo, c.knownHostsPath],
      ["10.0.0.5", 2222, "tester", KEY, HOST_KEY, true, "/etc/ssh/ssh_known_hosts"]);
    assert.deepStrictEqual([c.proxy?.host, c.proxy?.port, c.proxy?.user, c.proxy?.hostKey, c.proxy?.privateKey],
      ["bastion", 22, "root", FINGERPRINT, KEY]);
    assert.strictEqual(c.insecureSkipHostKeyCheck, false, "host keys are always verified");
  });

  it("takes the password and the key's passphrase from environment variables, named by flag", () => {
    const env = environment({ "/keys/id": KEY }, { LVM_PW: "s3cret-pw", KEY_PW: "key-pass" });
    const c = connectionOf(["pve1", "--password-env", "LVM_PW", "-i", "/keys/id", "--identity-password-env", "KEY_PW"], env);
    assert.deepStrictEqual([c.password, c.privateKeyPassword], ["s3cret-pw", "key-pass"]);
    assert.strictEqual(usageError(["pve1", "--password-env", "NOPE"], env), "--password-env: environment variable NOPE is not set");
  });

  it("falls back to the ssh-agent, then to ~/.ssh/id_ed25519 and the like, and says when there is no way to log in", () => {
    assert.strictEqual(connectionOf(["pve1"], environment({}, { SSH_AUTH_SOCK: "/run/agent" })).privateKey, undefined);
    assert.strictEqual(connectionOf(["pve1"], environment({ "/home/me/.ssh/id_ecdsa": KEY })).privateKey, KEY);
    assert.match(usageError(["pve1"], environment({})), /^no way to log in: give -i\/--identity FILE or --password-env VAR, or run an ssh-agent/);
  });

  it("names the flag in every error, and never shows a secret", () => {
    const env = environment({ "/keys/id": KEY, "/keys/notakey": "hello" }, { PW: "hunter2-secret" });
    const cases: Array<[string[], RegExp]> = [
      [["root@pve1:99999", "-i", "/keys/id"], /^\[user@\]host\[:port\]: port must be an integer between 1 and 65535; got 99999$/],
      [["pve1:ssh", "-i", "/keys/id"], /^\[user@\]host\[:port\]: port must be a number/],
      [["a b", "-i", "/keys/id"], /^\[user@\]host\[:port\]: host must be a host name or address/],
      [["pve1", "-i", "/keys/id", "--host-key", "not-a-key"], /^--host-key: hostKey must be an OpenSSH public key line/],
      [["pve1", "-i", "/keys/id", "--jump", "bastion:0"], /^--jump: port must be an integer/],
      [["pve1", "-i", "/keys/id", "--jump-host-key", FINGERPRINT], /^--jump-host-key needs --jump$/],
      [["pve1", "-i", "/keys/missing"], /^-i\/--identity: cannot read \/keys\/missing \(ENOENT\)$/],
      [["pve1", "-i", "/keys/notakey"], /^-i\/--identity: \/keys\/notakey is not a private key file/],
      [["pve1", "-i", "/keys/id", "--vg", "bad name"], /^--vg: a volume group name may contain only/],
      [["pve1", "-i", "/keys/id", "--colour"], /Unknown option '--colour'/],
      [["-i", "/keys/id"], /^which host\?/],
      [["pve1", "pve2", "-i", "/keys/id"], /^one host at a time/],
      [["pve1", "--password-env", "PW", "--host-key", "x"], /^--host-key: /],
    ];
    for (const [argv, expected] of cases) {
      const message = usageError(argv, env);
      assert.match(message, expected, argv.join(" "));
      assert.ok(!message.includes("hunter2-secret") && !message.includes("secret-key-material"), message);
    }
    assert.strictEqual(parse(["--help"]), "help");
  });
});

describe("inspect: the command", () => {
  const run = async (argv: string[], answers: FakeAnswer[], opts: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const hosts: FakeHost[] = [];
    const io: Io = {
      stdout: { write: (s: string) => out.push(s), isTTY: opts.tty },
      stderr: { write: (s: string) => err.push(s) },
      environment: environment({ "/keys/id": KEY }, opts.env),
      connect: () => { const h = new FakeHost(answers, { lvmVersion: "2.03.16" }); hosts.push(h); return h; },
    };
    const code = await inspectCommand(argv, io);
    return { code, stdout: out.join(""), stderr: err.join(""), scripts: hosts.flatMap((h) => h.scripts) };
  };
  const args = ["root@10.0.0.5", "-i", "/keys/id", "--host-key", HOST_KEY];

  it("exit 0 and the tree when there is nothing to warn about; colors only on a terminal without NO_COLOR or --no-color", async () => {
    const plain = await run(args, [scenarioSections()]);
    assert.strictEqual(plain.code, 0);
    assert.match(plain.stdout, /^root@10\.0\.0\.5:22 .*\n\nVG inspectvg/);
    assert.ok(!plain.stdout.includes("\x1b["));
    assert.strictEqual(plain.scripts.length, 1);
    assert.match((await run(args, [scenarioSections()], { tty: true })).stdout, /\x1b\[1mVG inspectvg/);
    assert.ok(!(await run([...args, "--no-color"], [scenarioSections()], { tty: true })).stdout.includes("\x1b["));
    assert.ok(!(await run(args, [scenarioSections()], { tty: true, env: { NO_COLOR: "1" } })).stdout.includes("\x1b["));
  });

  it("exit 1 with warnings; --json prints the same model, which parses", async () => {
    const invalid = SCENARIO_ROWS.map((r) => r.attr?.startsWith("s") ? { ...r, attr: "swi-I-s---", snapPercent: "100.00" } : r);
    const text = await run(args, [readSections(invalid)]);
    assert.strictEqual(text.code, 1);
    assert.match(text.stdout, /\n1 warning:\n! inspectvg\/snap_vm-601-disk-0_golden: the thick snapshot "golden" of\n {2}vm-601-disk-0 is INVALID/);
    const json = await run([...args, "--json"], [readSections(invalid)]);
    assert.strictEqual(json.code, 1);
    const model = JSON.parse(json.stdout);
    assert.strictEqual(model.schemaVersion, 1);
    assert.deepStrictEqual(model.warnings.map((w: { kind: string }) => w.kind), ["snapshot-invalid"]);
    assert.strictEqual(model.volumeGroups[0].disks[0].thickSnapshots[0].valid, false);
  });

  it("exit 2 on a usage error, before connecting", async () => {
    const r = await run(["root@10.0.0.5", "--bogus"], []);
    assert.deepStrictEqual([r.code, r.scripts.length, r.stdout], [2, 0, ""]);
    assert.match(r.stderr, /^pulumi-lvm inspect: Unknown option '--bogus'/);
  });

  it("exit 2 on a connection error, saying which flag helps (an unknown host key's fingerprint); secrets never printed", async () => {
    const refusal = new HostCommandError("root@10.0.0.5:22", "preflight", "connection", undefined, null,
      `cannot connect: unknown host key: the host presented ssh-ed25519 key ${FINGERPRINT}, which is neither pinned (hostKey) nor in /home/me/.ssh/known_hosts. ...\nNothing was sent to the host.`);
    const r = await run(["root@10.0.0.5", "-i", "/keys/id"], [refusal]);
    assert.strictEqual(r.code, 2);
    assert.strictEqual(r.stdout, "");
    assert.match(r.stderr, new RegExp(`To trust this key, run again with --host-key ${FINGERPRINT.replace(/[+/]/g, "\\$&")}`));
    const encrypted = new HostCommandError("root@10.0.0.5:22", "preflight", "connection", undefined, null,
      "cannot connect: Cannot parse privateKey: Encrypted private OpenSSH key detected, but no passphrase given\nNothing was sent to the host.");
    assert.match((await run(["root@10.0.0.5", "-i", "/keys/id"], [encrypted])).stderr, /pass its passphrase with --identity-password-env VAR/);
    const leaky = new HostCommandError("root@10.0.0.5:22", "inspect", "failed", "lvs", 5, `it said ${KEY} and more`);
    const scrubbed = await run(["root@10.0.0.5", "-i", "/keys/id"], [leaky]);
    assert.strictEqual(scrubbed.code, 2);
    assert.ok(!scrubbed.stderr.includes("secret-key-material") && scrubbed.stderr.includes("[secret]"), scrubbed.stderr);
  });
});
