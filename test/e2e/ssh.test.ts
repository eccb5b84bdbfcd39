import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HostCommandError, Script, sh } from "../../provider/command";
import { closeAll, Connection, ConnectionArgs, fingerprint, hostFor, parseConnection, parsePublicKeyLine, poolStats } from "../../provider/ssh";
import { TestHost } from "../host/testHost";
import { useTestHost } from "../support/hooks";
import { acceptedLogins } from "../support/sshTraffic";

/**
 * The SSH layer against a real guest. Independent evidence comes from the guest itself through `h.exec` (the
 * system's OpenSSH client): sshd's log of accepted logins, timestamps written by the scripts, marker files.
 */
describe("ssh transport (e2e)", function () {
  let h: TestHost;
  let root: (extra?: Partial<ConnectionArgs>) => Connection;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-e2e-"));

  before(async () => {
    h = await useTestHost();
    root = (extra = {}) => parseConnection({ host: h.host, port: h.port, privateKey: h.privateKey, hostKey: h.hostKey, ...extra });
    await h.exec("rm -rf /tmp/ssh-e2e; mkdir /tmp/ssh-e2e");
  });
  after(async () => {
    await closeAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const onHost = (cmd: string) => h.exec(cmd).then((s) => s.trim());
  const markerScript = (marker: string) => new Script("touch a marker").run("touch", ["touch", `/tmp/ssh-e2e/${marker}`]);
  const rejection = async (p: Promise<unknown>): Promise<HostCommandError> => {
    try { await p; } catch (e) { assert.ok(e instanceof HostCommandError, String(e)); return e; }
    assert.fail("expected a failure");
  };

  it("serves 20 resources' operations over exactly one connection, with one preflight", async () => {
    await closeAll();
    const loginsBefore = await acceptedLogins(h);
    const openedBefore = poolStats().connectionsOpened;

    const resources = Array.from({ length: 20 }, () => hostFor(root()));
    const results = await Promise.all(resources.map(async (host, i) => {
      const caps = await host.capabilities();
      const { sections } = await host.run(new Script(`read ${i}`).capture("name", ["echo", `resource ${i}`]).capture("vgs", ["vgs", "--reportformat", "json"]));
      return { caps, name: sections.name };
    }));

    assert.deepStrictEqual(results.map((r) => r.name), resources.map((_, i) => `resource ${i}`));
    const caps = results[0].caps;
    assert.ok(results.every((r) => r.caps === caps), "capabilities are probed once and shared");
    assert.strictEqual(caps.uid, 0);
    assert.match(caps.lvmVersion ?? "", /^2\.\d+\.\d+$/);
    assert.match(caps.qemuImgVersion ?? "", /^\d+\.\d+/);
    assert.strictEqual(caps.qcow2ExtendedL2, true);
    assert.ok(Object.values(caps.tools).every(Boolean), JSON.stringify(caps.tools));

    assert.strictEqual(poolStats().connectionsOpened - openedBefore, 1);
    assert.strictEqual(await acceptedLogins(h) - loginsBefore, 1, "sshd accepted exactly one login");
  });

  it("opens six different connections to one sshd at once with at most 2 handshakes in flight", async () => {
    await closeAll();
    const known = path.join(tmp, "known_hosts_six");
    fs.writeFileSync(known, `[${h.host}]:${h.port} ${h.hostKey}\n`);
    const tester = { user: "tester" };
    const six = [
      root(), root({ hostKey: h.hostKeyEcdsa }), root({ hostKey: undefined, knownHostsPath: known }),
      root(tester), root({ ...tester, hostKey: h.hostKeyEcdsa }),
      root({ ...tester, privateKey: undefined, password: h.testerPassword, knownHostsPath: known, hostKey: undefined }),
    ];
    const opened = poolStats().connectionsOpened;
    const whoami = await Promise.all(six.map((c, i) => hostFor(c).run(new Script(`login ${i}`).capture("who", ["id", "-un"]))));
    assert.deepStrictEqual(whoami.map((r) => r.sections.who), ["root", "root", "root", "tester", "tester", "tester"]);
    assert.strictEqual(poolStats().connectionsOpened - opened, 6, "six pool entries, six connections");
    assert.strictEqual(poolStats().maxHandshakesInFlight, 2, JSON.stringify(poolStats()));
    await closeAll();
  });

  it("runs 30 concurrent operations on at most 8 channels", async () => {
    const host = hostFor(root());
    const intervals = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const { sections } = await host.run(new Script(`sleep ${i}`).captureCode("t", sh`date +%s.%N; sleep 0.3; date +%s.%N`));
      const [start, end] = sections.t.split("\n").map(Number);
      return { start, end };
    }));
    // The most scripts running at once on the host, from the host's own clock.
    const mostAtOnce = Math.max(...intervals.map((a) => intervals.filter((b) => b.start <= a.start && a.start < b.end).length));
    assert.ok(mostAtOnce <= 8 && mostAtOnce > 1, `at most ${mostAtOnce} scripts ran at once`);
    assert.ok(poolStats().maxChannelsInUse <= 8, JSON.stringify(poolStats()));
    assert.strictEqual(poolStats().channelsInUse, 0);
  });

  it("passes hostile strings byte for byte, as argv and as variables, and runs none of them", async () => {
    const corpus = [
      "'; touch /tmp/ssh-e2e/pwned-0; '", '"; touch /tmp/ssh-e2e/pwned-1; "', "$(touch /tmp/ssh-e2e/pwned-2)",
      "`touch /tmp/ssh-e2e/pwned-3`", "x\ntouch /tmp/ssh-e2e/pwned-4\n", "; touch /tmp/ssh-e2e/pwned-5",
      "&& touch /tmp/ssh-e2e/pwned-6", "| touch /tmp/ssh-e2e/pwned-7", "> /tmp/ssh-e2e/pwned-8",
      "${IFS}touch${IFS}/tmp/ssh-e2e/pwned-9", "'\"'\"'$(touch /tmp/ssh-e2e/pwned-10)", "\\'; touch /tmp/ssh-e2e/pwned-11 #",
      "--output=/tmp/ssh-e2e/pwned-12", "-n", "--", "-", "*", "/tmp/ssh-e2e/*", "~", "~root", "$HOME", "%s%n%d",
      "ünïcödé ✓ 日本語 🙂", "tab\there", "cr\r\nlf", " leading and trailing ", "", "\\", "\\n",
    ];
    const host = hostFor(root());
    const argv = new Script("echo argv").capture("out", ["printf", "%s\\0", ...corpus]);
    const vars = new Script("echo vars");
    // The "|" keeps a trailing newline, which a captured section drops (like the shell's $(...)).
    corpus.forEach((value, i) => vars.captureCode(`v${i}`, sh`printf '%s|' "$value"`, { value }));

    const [fromArgv, fromVars] = await Promise.all([host.run(argv), host.run(vars)]);
    assert.deepStrictEqual(fromArgv.sections.out.split("\0").slice(0, -1), corpus);
    assert.deepStrictEqual(corpus.map((_, i) => fromVars.sections[`v${i}`].slice(0, -1)), corpus);
    assert.strictEqual(await onHost("ls -A /tmp/ssh-e2e"), "", "nothing was created on the host");
  });

  it("logs in as tester with a password, runs through sudo -n, and hops through a jump host", async () => {
    const loginsBefore = await acceptedLogins(h);
    const tester = (extra: Partial<ConnectionArgs>) => parseConnection({ host: h.host, port: h.port, hostKey: h.hostKey, user: "tester", ...extra });
    const jumped = hostFor(parseConnection({
      host: "127.0.0.1", port: 2200, privateKey: h.privateKey, hostKey: h.hostKey,
      proxy: { host: h.host, port: h.port, privateKey: h.privateKey, hostKey: h.hostKey },
    }));
    const withPassword = hostFor(tester({ password: h.testerPassword }));
    const withSudo = hostFor(tester({ password: h.testerPassword, sudo: true }));
    const id = new Script("whoami").captureCode("id", sh`echo "$(id -un) $(id -u)"`).captureCode("via", sh`echo "\${SSH_CONNECTION:-}"`);

    const plain = await withPassword.run(id);
    assert.strictEqual(plain.sections.id, "tester 1000");
    const sudo = await withSudo.run(id);
    assert.strictEqual(sudo.sections.id, "root 0");
    // The host's process list while a sudo script runs: no password, and no key, in any process's arguments.
    const ps = (await withSudo.run(new Script("ps").capture("ps", ["ps", "-eo", "args"]))).sections.ps;
    assert.match(ps, /sudo -n/, "the list is taken while the script runs");
    assert.ok(!ps.includes(h.testerPassword), "the password is in no process's arguments");
    const keyBody = h.privateKey.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    assert.ok(!ps.includes(keyBody.slice(0, 40)), "the private key is in no process's arguments");
    assert.strictEqual((await withSudo.capabilities()).uid, 0);
    const viaJump = await jumped.run(id);
    assert.strictEqual(viaJump.sections.id, "root 0");
    assert.match(viaJump.sections.via, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 2200$/, "the target sshd is the one on the guest's loopback");
    assert.strictEqual(jumped.target, `root@127.0.0.1:2200 via root@127.0.0.1:${h.port}`);

    const logins = (await onHost("journalctl -u ssh --no-pager -o cat | grep '^Accepted '")).split("\n").slice(loginsBefore);
    assert.ok(logins.some((l) => l.startsWith("Accepted password for tester")), logins.join("\n"));
  });

  it("verifies with known_hosts (hashed entry), and a pinned ecdsa key makes the server present its ecdsa key", async () => {
    const knownHosts = path.join(tmp, "known_hosts");
    const line = (await new Promise<string>((resolve, reject) => {
      fs.writeFileSync(knownHosts, `[${h.host}]:${h.port} ${h.hostKey}\n`);
      execFile("ssh-keygen", ["-H", "-f", knownHosts], (e) => (e ? reject(e) : resolve(fs.readFileSync(knownHosts, "utf8"))));
    }));
    assert.match(line, /^\|1\|/);
    const echo = new Script("echo").capture("ok", ["echo", "ok"]);
    const viaKnownHosts = await hostFor(root({ hostKey: undefined, knownHostsPath: knownHosts })).run(echo);
    assert.strictEqual(viaKnownHosts.sections.ok, "ok");
    const viaEcdsa = await hostFor(root({ hostKey: h.hostKeyEcdsa })).run(echo);
    assert.strictEqual(viaEcdsa.sections.ok, "ok");
  });

  describe("refusals send no command", () => {
    beforeEach(closeAll);
    afterEach(async () => assert.strictEqual(await onHost("ls -A /tmp/ssh-e2e"), "", "no marker was created"));

    it("an unknown host key: names its fingerprint and how to pin it", async () => {
      const e = await rejection(hostFor(root({ hostKey: undefined, knownHostsPath: path.join(tmp, "empty") })).run(markerScript("unknown")));
      assert.strictEqual(e.kind, "connection");
      const expected = fingerprint(parsePublicKeyLine(h.hostKey)!.blob);
      assert.match(e.message, /unknown host key: the host presented ssh-ed25519 key SHA256:/);
      assert.ok(e.message.includes(`hostKey: "${expected}"`), e.message);
      assert.match(e.message, /Nothing was sent/);
    });

    it("a wrong pinned key: HOST KEY MISMATCH", async () => {
      const unrelated = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWa9WUQiPD7Z/Vx1yRr4ojuMgt6UZiWRAGp2UFFU82U another-host";
      const e = await rejection(hostFor(root({ hostKey: unrelated })).run(markerScript("mismatch")));
      assert.match(e.message, /HOST KEY MISMATCH: .* possible man-in-the-middle/s);
    });

    it("a wrong password: says which methods were tried, and not the password", async () => {
      const wrong = "wrong-password-123";
      const host = hostFor(parseConnection({ host: h.host, port: h.port, hostKey: h.hostKey, user: "tester", password: wrong }));
      const e = await rejection(host.run(markerScript("password")));
      assert.match(e.message, new RegExp(`authentication failed for tester@127\\.0\\.0\\.1:${h.port} \\(tried: password(, agent)?\\)`));
      assert.ok(!e.message.includes(wrong));
    });
  });

  it("serializes scripts holding the same VG lock, and a lock timeout names the holder", async () => {
    const host = hostFor(root());
    const vg = `vglock${process.pid}`;
    const timed = (name: string) => new Script(name).lock(vg, 30)
      .captureCode("start", sh`date +%s.%N`).code("work", sh`sleep 1`).captureCode("end", sh`date +%s.%N`);
    const [a, b] = (await Promise.all([host.run(timed("first")), host.run(timed("second"))]))
      .map((r) => [Number(r.sections.start), Number(r.sections.end)]);
    assert.ok(a[1] <= b[0] || b[1] <= a[0], `intervals overlap: ${a} and ${b}`);

    const holding = host.run(new Script("hold the lock").lock(vg, 30).code("hold", sh`touch /tmp/ssh-e2e-held; sleep 3`));
    while ((await onHost("ls /tmp/ssh-e2e-held 2>/dev/null || true")) === "") await new Promise((r) => setTimeout(r, 200));
    const e = await rejection(host.run(new Script("wait for the lock").lock(vg, 1)));
    assert.strictEqual(e.kind, "lockTimeout");
    assert.match(e.message, /timed out after 1s waiting for the lock .* held by: hold the lock \(pid \d+/);
    await holding;
    await onHost("rm -f /tmp/ssh-e2e-held");
  });

  it("stops a script at commandTimeoutSeconds", async () => {
    const e = await rejection(hostFor(root({ commandTimeoutSeconds: 1 })).run(new Script("nap").code("nap", sh`sleep 30`)));
    assert.strictEqual(e.kind, "timeout");
    assert.match(e.message, /no result after 1 s .* in step "nap"/);
  });

  it("never re-sends a script cut off by a dropped connection, and reconnects for the next one", async () => {
    const host = hostFor(root());
    await host.run(new Script("warm up"));
    const opened = poolStats().connectionsOpened;
    // The script notes the pid of the sshd process serving its connection, then waits to be cut off.
    const cut = host.run(new Script("cut off").code("note", sh`echo ran >> /tmp/ssh-e2e-runs
echo "$PPID" > /tmp/ssh-e2e-sshd
sleep 30`));
    let pid = "";
    while (!/^\d+$/.test(pid)) pid = await onHost("cat /tmp/ssh-e2e-sshd 2>/dev/null || true");
    await onHost(`kill ${pid}`);

    const e = await rejection(cut);
    assert.strictEqual(e.kind, "connection");
    assert.match(e.message, /connection was lost .* in step "note".* unknown .* not retried/s);
    const next = await host.run(new Script("after the drop").capture("ok", ["echo", "ok"]));
    assert.strictEqual(next.sections.ok, "ok");
    assert.strictEqual(poolStats().connectionsOpened, opened + 1, "reconnected once");
    assert.strictEqual(await onHost("cat /tmp/ssh-e2e-runs; rm -f /tmp/ssh-e2e-runs /tmp/ssh-e2e-sshd"), "ran", "the cut-off script ran once");
  });

  it("does not keep a process alive once its operations are done", async () => {
    const program = `const ssh = require(${JSON.stringify(path.resolve(__dirname, "../../provider/ssh"))});
      const { Script } = require(${JSON.stringify(path.resolve(__dirname, "../../provider/command"))});
      ssh.hostFor(ssh.parseConnection(JSON.parse(process.env.CONNECTION))).run(new Script("hello").capture("ok", ["echo", "ok"]))
        .then((r) => console.log(r.sections.ok));`;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["-e", program], { env: { ...process.env, CONNECTION: JSON.stringify(root()) }, timeout: 120_000 },
        (e, out) => (e ? reject(e) : resolve(out)));
    });
    assert.strictEqual(stdout.trim(), "ok", "the child ran its operation and exited by itself");
  });
});
