import * as assert from "assert";
import { EventEmitter } from "events";
import { PassThrough } from "stream";
import { Client } from "ssh2";
import { HostCommandError, MARK, Script } from "../../provider/command";
import { execScript, NothingSent } from "../../provider/ssh/exec";

/** A stand-in for an ssh2 channel: records what was written and signalled; the test plays the server. */
class FakeChannel extends EventEmitter {
  readonly stderr = new PassThrough();
  written = "";
  signals: string[] = [];
  closed = false;
  end(text: string): void { this.written += text; }
  signal(name: string): void { this.signals.push(name); }
  close(): void { this.closed = true; }
}

function fakeClient(open: (cb: (err: Error | undefined, channel: FakeChannel) => void) => void): { client: Client; commands: string[] } {
  const commands: string[] = [];
  const client = { exec: (command: string, cb: (err: Error | undefined, channel: FakeChannel) => void) => { commands.push(command); open(cb); } };
  return { client: client as unknown as Client, commands };
}

async function failure(p: Promise<unknown>): Promise<HostCommandError> {
  const e = await p.then(() => assert.fail("expected a failure"), (x: unknown) => x);
  assert.ok(e instanceof HostCommandError, String(e));
  return e;
}

const script = () => new Script("resize disk").run("grow", ["lvextend", "-L", "+1G", "vg/lv"]);

describe("ssh exec (one script on one channel)", () => {
  it("sends the script on stdin of a fixed command and returns the raw output", async () => {
    let channel!: FakeChannel;
    const { client, commands } = fakeClient((cb) => { cb(undefined, channel = new FakeChannel()); });
    let gone = 0;
    const running = execScript(client, "root@h:22", "sh -s", script(), 60, () => gone++);
    channel.emit("data", Buffer.from("out"));
    channel.stderr.write(`${MARK.step}grow\n`);
    await new Promise((r) => setImmediate(r));
    channel.emit("exit", 0);
    channel.emit("close");
    const raw = await running;
    assert.deepStrictEqual(commands, ["sh -s"]);
    assert.strictEqual(channel.written, script().text());
    assert.deepStrictEqual(raw, { exitCode: 0, signal: undefined, stdout: "out", stderr: `${MARK.step}grow\n` });
    assert.strictEqual(gone, 1);
  });

  it("reports a channel that did not open as NothingSent", async () => {
    const { client } = fakeClient((cb) => cb(new Error("open failed"), undefined as unknown as FakeChannel));
    let gone = 0;
    await assert.rejects(execScript(client, "root@h:22", "sh -s", script(), 60, () => gone++), NothingSent);
    assert.strictEqual(gone, 1);
  });

  it("reports a connection lost after sending as 'connection', naming the step, without sending again", async () => {
    let channel!: FakeChannel;
    const { client, commands } = fakeClient((cb) => cb(undefined, channel = new FakeChannel()));
    const running = execScript(client, "root@h:22", "sh -s", script(), 60, () => undefined);
    channel.stderr.write(`${MARK.step}grow\n`);
    await new Promise((r) => setImmediate(r));
    channel.emit("close");
    const e = await failure(running);
    assert.strictEqual(e.kind, "connection");
    assert.strictEqual(e.step, "grow");
    assert.match(e.message, /root@h:22: resize disk: the connection was lost .* in step "grow"\. .*unknown.*not retried/);
    assert.strictEqual(commands.length, 1);
  });

  it("kills and closes the channel at the timeout, and frees the slot only when the channel is gone", async () => {
    let channel!: FakeChannel;
    const { client } = fakeClient((cb) => cb(undefined, channel = new FakeChannel()));
    let gone = 0;
    const e = await failure(execScript(client, "root@h:22", "sh -s", script(), 0.05, () => gone++));
    assert.strictEqual(e.kind, "timeout");
    assert.deepStrictEqual([channel.signals, channel.closed, gone], [["KILL"], true, 0]);
    channel.emit("close");
    assert.strictEqual(gone, 1);
  });
});
