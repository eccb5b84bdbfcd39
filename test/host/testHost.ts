import { execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";

const execFileP = promisify(execFile);
const REPO = path.resolve(__dirname, "..", "..", "..");

/** A running disposable guest with real LVM, reachable over SSH on a loopback port. */
export interface TestHost {
  host: string;
  port: number;
  /** The guest's ed25519 host key (an OpenSSH public key line), generated at image build time. */
  hostKey: string;
  /** The guest's other host key (ecdsa), also offered by its sshd. */
  hostKeyEcdsa: string;
  /** Private key accepted for root and for "tester". */
  privateKey: string;
  /** Password of "tester", an ordinary user with passwordless sudo. */
  testerPassword: string;
  /** Blank data disks as the guest sees them (/dev/vdb, /dev/vdc, ...). */
  disks: string[];
  runDir: string;
  image: string;
  pid: number;
  bootSeconds: number;
  imageBuildSeconds: number;
  extraSsh?: ExtraSsh[];
  /** Runs a command on the guest as root with the system's OpenSSH client (independent of our SSH layer). */
  exec(command: string): Promise<string>;
  /**
   * Cuts the guest's power (SIGKILL to qemu: what the guest had not flushed to its disks is lost, what qemu had
   * written to the disk files stays) and boots it again on the same root overlay and data disks; resolves once a login
   * works. Returns the seconds the boot took.
   */
  powerCycle(): Promise<number>;
  stop(): Promise<void>;
}

export interface StartOptions {
  disks?: number;
  diskSizeGiB?: number;
  /**
   * Loopback ports forwarded to guest ports 2201, 2202, ... besides the one to its sshd: where further sshd instances
   * of the guest (startExtraSshd) stand in for further hosts, each reached as a connection of its own.
   */
  extraSshPorts?: number;
  log?: (line: string) => void;
}

/** Builds the image if needed (cached), then boots a fresh guest over a copy-on-write overlay. */
export async function startTestHost(opts: StartOptions = {}): Promise<TestHost> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[test-host] ${l}\n`));
  const buildStart = Date.now();
  const image = execFileSync("bash", [path.join(REPO, "test", "host", "build-image.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim().split("\n").pop()!;
  const imageBuildSeconds = (Date.now() - buildStart) / 1000;

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-host-"));
  const diskCount = opts.disks ?? 6;
  const diskSize = opts.diskSizeGiB ?? 4;
  await execFileP("qemu-img", ["create", "-q", "-f", "qcow2", "-b", path.join(image, "root.img"), "-F", "raw",
    path.join(runDir, "root.qcow2")]);
  const drives: string[] = ["-drive", `file=${path.join(runDir, "root.qcow2")},format=qcow2,if=virtio`];
  const disks: string[] = [];
  for (let i = 0; i < diskCount; i++) {
    const file = path.join(runDir, `data-${i}.img`);
    fs.closeSync(fs.openSync(file, "w"));
    fs.truncateSync(file, diskSize * 1024 ** 3);
    drives.push("-drive", `file=${file},format=raw,if=virtio,cache=unsafe`);
    disks.push(`/dev/vd${String.fromCharCode("b".charCodeAt(0) + i)}`);
  }

  const port = await freePort();
  const extraSsh: ExtraSsh[] = [];
  for (let i = 0; i < (opts.extraSshPorts ?? 0); i++) extraSsh.push({ port: await freePort(), guestPort: 2201 + i });
  const forwards = [{ port, guestPort: 22 }, ...extraSsh].map((f) => `hostfwd=tcp:127.0.0.1:${f.port}-:${f.guestPort}`).join(",");
  const qemu = [
    "qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-m", "1024", "-smp", "2",
    "-display", "none", "-monitor", "none", "-serial", `file:${path.join(runDir, "console.log")}`,
    "-kernel", path.join(image, "vmlinuz"), "-initrd", path.join(image, "initrd.img"),
    // norandmaps: TCG keeps the code it has translated by virtual address, so with address-space randomization every
    // new process translates its libraries afresh; without it they are found again. Measured on the guest: ten
    // /bin/true 0.65 s -> 0.25 s, an lvs 0.5 s -> 0.25 s. no5lvl and mitigations=off spare every page walk a level
    // and every indirect call a retpoline; smaller, and nothing the provider's behaviour depends on.
    "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet norandmaps no5lvl mitigations=off",
    ...drives,
    "-netdev", `user,id=n0,${forwards}`, "-device", "virtio-net-pci,netdev=n0",
    "-pidfile", path.join(runDir, "qemu.pid"),
  ];
  // Kept in the run dir, so that powerCycle (also from a process attached to this guest) boots it again the same way.
  fs.writeFileSync(path.join(runDir, "qemu.argv.json"), JSON.stringify({ argv: qemu, parent: process.pid }));
  const bootStart = Date.now();
  log(`booting guest (TCG) with ${diskCount} x ${diskSize} GiB data disks, ssh on 127.0.0.1:${port}, run dir ${runDir}`);
  let pid = 0;
  const stop = async () => {
    const now = qemuPid(runDir) ?? pid; // a power cycle boots a new qemu
    if (now <= 0) return fs.rmSync(runDir, { recursive: true, force: true }); // never started: kill(0) is our own group
    try { process.kill(now, "SIGTERM"); } catch { /* already gone */ }
    for (let i = 0; i < 50 && alive(now); i++) await sleep(100);
    try { process.kill(now, "SIGKILL"); } catch { /* gone */ }
    fs.rmSync(runDir, { recursive: true, force: true });
  };
  try {
    pid = await bootGuest(runDir, port, log);
  } catch (e) {
    const console = safeRead(path.join(runDir, "console.log")).slice(-3000);
    const stderr = safeRead(path.join(runDir, "qemu.stderr"));
    await stop();
    throw new Error(`${(e as Error).message}\nqemu stderr:\n${stderr}\nconsole tail:\n${console}`);
  }
  const bootSeconds = (Date.now() - bootStart) / 1000;
  log(`guest answered SSH after ${bootSeconds.toFixed(1)} s`);

  const host = describeHost({ image, runDir, port, pid, disks, bootSeconds, imageBuildSeconds, extraSsh }, stop);
  try { await waitForLogin(host); } catch (e) { await host.stop(); throw e; }
  return host;
}

/**
 * Starts qemu as recorded in the run dir, under a watchdog shell that kills it when the process that first booted
 * the guest is gone (even after SIGKILL); returns qemu's pid.
 */
async function launchQemu(runDir: string): Promise<number> {
  const { argv, parent } = JSON.parse(fs.readFileSync(path.join(runDir, "qemu.argv.json"), "utf8")) as { argv: string[]; parent: number };
  fs.rmSync(path.join(runDir, "qemu.child"), { force: true });
  const watchdog = spawn("sh", ["-c",
    '"$@" & q=$!; echo $q > "$RUN/qemu.child"; while kill -0 "$PARENT" 2>/dev/null && kill -0 $q 2>/dev/null; do sleep 1; done; kill $q 2>/dev/null; wait $q',
    "watchdog", ...argv], {
    env: { ...process.env, PARENT: String(parent), RUN: runDir },
    stdio: ["ignore", "ignore", fs.openSync(path.join(runDir, "qemu.stderr"), "a")],
    detached: true,
  });
  watchdog.unref();
  return waitForFile(path.join(runDir, "qemu.child"), 10_000).then((s) => Number(s.trim()));
}

function qemuPid(runDir: string): number | undefined {
  const text = safeRead(path.join(runDir, "qemu.child")).trim();
  return text ? Number(text) : undefined;
}

/** The banner can come before systemd has finished; wait until a login works, and for udev to settle. */
async function waitForLogin(host: TestHost): Promise<void> {
  for (let i = 0; ; i++) {
    try { await host.exec("udevadm settle; true"); return; } catch (e) { if (i > 30) throw e; await sleep(2000); }
  }
}

/** What identifies a running guest; enough to attach to one kept running by `cli.js start`. */
export interface HostInfo {
  image: string;
  runDir: string;
  port: number;
  pid: number;
  disks: string[];
  bootSeconds: number;
  imageBuildSeconds: number;
  /** Further loopback ports and the guest ports they reach (StartOptions.extraSshPorts). */
  extraSsh?: ExtraSsh[];
}

export interface ExtraSsh { port: number; guestPort: number }

/**
 * Starts a further sshd of the guest on each forwarded guest port (as a transient unit, pulumi-lvm-sshd-<port>, whose
 * log sshTraffic counts with the main sshd's), with the guest's own host keys and users; resolves once each answers.
 */
export async function startExtraSshd(host: TestHost, extra: readonly ExtraSsh[]): Promise<void> {
  for (const { guestPort } of extra) {
    await host.exec(`systemctl is-active --quiet pulumi-lvm-sshd-${guestPort} || ` +
      `systemd-run --quiet --unit=pulumi-lvm-sshd-${guestPort} /usr/sbin/sshd -D -p ${guestPort}`);
  }
  for (const { port } of extra) await waitForSshBanner(port, 60_000, () => true);
}

export function describeHost(info: HostInfo, stopQemu: () => Promise<void>): TestHost {
  const { image, runDir, port } = info;
  const hostKey = fs.readFileSync(path.join(image, "host_ed25519.pub"), "utf8").trim();
  const hostKeyEcdsa = fs.readFileSync(path.join(image, "host_ecdsa.pub"), "utf8").trim();
  const keyFile = path.join(image, "client_key");
  const knownHosts = path.join(runDir, "known_hosts");
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
  const sshArgs = ["-i", keyFile, "-p", String(port), "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${knownHosts}`,
    "-o", "StrictHostKeyChecking=yes", "-o", "ControlMaster=auto", "-o", `ControlPath=${runDir}/cm-%C`,
    "-o", "ControlPersist=600", "-o", "LogLevel=ERROR"];
  const exec = async (command: string) => {
    const { stdout } = await execFileP("ssh", [...sshArgs, "root@127.0.0.1", command], { maxBuffer: 64 << 20 });
    return stdout;
  };
  const host: TestHost = {
    ...info, host: "127.0.0.1", hostKey, hostKeyEcdsa,
    privateKey: fs.readFileSync(keyFile, "utf8"),
    testerPassword: fs.readFileSync(path.join(image, "tester.password"), "utf8").trim(),
    exec,
    powerCycle: async () => {
      const old = qemuPid(runDir) ?? info.pid;
      await killQemu(old);
      closeMaster(); // its connection died with the guest
      const start = Date.now();
      host.pid = await bootGuest(runDir, port, () => undefined);
      await waitForLogin(host);
      return (Date.now() - start) / 1000;
    },
    stop: async () => {
      closeMaster();
      await stopQemu();
    },
  };
  const closeMaster = () => {
    try { execFileSync("ssh", [...sshArgs, "-O", "exit", "root@127.0.0.1"], { stdio: "ignore" }); } catch { /* none */ }
  };
  return host;
}

/** SIGKILL to qemu (a power cut), and up to 5 s for it to be gone. */
async function killQemu(pid: number): Promise<void> {
  try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function safeRead(file: string): string {
  try { return fs.readFileSync(file, "utf8"); } catch { return ""; }
}

async function waitForFile(file: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = safeRead(file);
    if (text.trim()) return text;
    await sleep(50);
  }
  throw new Error(`qemu did not start (no ${file})`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Boots the guest as recorded in the run dir and waits for sshd's banner; returns qemu's pid. Under software emulation
 * on a loaded machine a boot has been seen to hang for good (a kernel thread spinning in the boot's crypto self-tests,
 * with three guests on two cores), so one that has not answered in 240 s (the slowest healthy boot measured: 170 s)
 * is killed and booted once more.
 */
async function bootGuest(runDir: string, port: number, log: (line: string) => void): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const pid = await launchQemu(runDir);
    try {
      await waitForSshBanner(port, attempt === 1 ? 240_000 : 300_000, () => alive(pid));
      return pid;
    } catch (e) {
      if (attempt > 1 || !alive(pid)) throw e;
      const last = safeRead(path.join(runDir, "console.log")).trim().split("\n").pop();
      log(`the guest did not answer SSH within 240 s (its console's last line: ${last}); booting it again`);
      await killQemu(pid);
    }
  }
}

/** The user-mode network accepts TCP before the guest listens, so wait for sshd's banner itself. */
export async function waitForSshBanner(port: number, timeoutMs: number, stillRunning: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!stillRunning()) throw new Error("qemu exited during boot");
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      // Before sshd listens, the user-mode network accepts and then just closes the connection: no error, no
      // data. Every way an attempt can end must settle it, or the wait hangs for good.
      const timer = setTimeout(() => done(false), 3000);
      const done = (v: boolean) => { clearTimeout(timer); sock.destroy(); resolve(v); };
      sock.once("error", () => done(false));
      sock.once("close", () => done(false));
      sock.once("data", (d) => done(d.toString().startsWith("SSH-")));
    });
    if (ok) return;
    await sleep(1000);
  }
  throw new Error(`guest did not answer SSH on 127.0.0.1:${port} within ${timeoutMs / 1000}s`);
}
