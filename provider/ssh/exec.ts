import { Client, ClientChannel } from "ssh2";
import { HostCommandError, ProgressLines, RawOutput, readStderr, Script } from "../command";
import { reportProgress } from "../progress";

/** The channel could not be opened or the command not started: nothing of the script reached the host. */
export class NothingSent extends Error {}

const STDOUT_LIMIT = 64 << 20; // lvs/qemu-img JSON stays far below; beyond this something is wrong
const STDERR_LIMIT = 1 << 20; // only the tail is kept: the failing step and its message are at the end

/**
 * Runs one script on one channel: `command` is a fixed string (`sh -s`), the script travels on stdin.
 * Resolves with the raw output once the remote command exits. Rejects with NothingSent if the channel did not
 * open, or with a HostCommandError ("timeout" or "connection") if the script was sent but no exit status came.
 *
 * `channelGone` is called once the channel is closed or failed to open. After a timeout that can be well after
 * the promise settled: sshd keeps the channel until the script's last process has let go of its output.
 */
export function execScript(client: Client, target: string, command: string, script: Script, timeoutSeconds: number,
  channelGone: () => void): Promise<RawOutput> {
  return new Promise((resolve, reject) => {
    const interrupted = (kind: "timeout" | "connection", stderr: string) => {
      const { step } = readStderr(stderr);
      const what = kind === "timeout"
        ? `no result after ${timeoutSeconds} s (commandTimeoutSeconds): the script's shell was killed and its channel closed`
        : "the connection was lost while the script was running";
      reject(new HostCommandError(target, script.operation, kind, step, null,
        `${what}${step ? ` in step "${step}"` : ""}. What it did on the host is unknown and it was not retried; ` +
        "the next run reads the host's state again.", script.changesHost));
    };

    const started = (err: Error | undefined, channel: ClientChannel) => {
      if (err) {
        channelGone();
        return reject(new NothingSent(err.message));
      }
      const stdout = new Collector(STDOUT_LIMIT, "head");
      const stderr = new Collector(STDERR_LIMIT, "tail");
      // Progress marks are shown as they come (to whoever runs pulumi up) and kept out of the text an error is read from.
      const stderrLines = new ProgressLines(reportProgress, (text) => stderr.add(Buffer.from(text)));
      let exit: { code: number | null; signal?: string } | undefined;
      const timer = setTimeout(() => {
        channel.signal("KILL"); // the shell; a command it is waiting for may outlive it
        channel.close();
        interrupted("timeout", stderr.text());
      }, timeoutSeconds * 1000);

      channel.on("data", (d: Buffer) => stdout.add(d));
      channel.stderr.on("data", (d: Buffer) => stderrLines.write(d));
      channel.on("exit", (code: number | null, signal?: string) => { exit = { code, signal: signal ?? undefined }; });
      channel.on("close", () => {
        clearTimeout(timer);
        stderrLines.end();
        channelGone();
        if (!exit) return interrupted("connection", stderr.text()); // after a timeout: already settled, ignored
        if (stdout.overflowed) {
          return reject(new HostCommandError(target, script.operation, "failed", undefined, exit.code,
            `the script printed more than ${STDOUT_LIMIT >> 20} MiB on stdout; its result was not read`));
        }
        resolve({ exitCode: exit.code, signal: exit.signal, stdout: stdout.text(), stderr: stderr.text() });
      });
      channel.end(script.text());
    };

    try {
      client.exec(command, started);
    } catch (e) {
      channelGone();
      reject(new NothingSent((e as Error).message)); // "Not connected"
    }
  });
}

/** Collects a stream up to a limit, keeping its head or its tail; decodes UTF-8 only at the end. */
class Collector {
  private chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;

  constructor(private readonly limit: number, private readonly keep: "head" | "tail") {}

  add(chunk: Buffer): void {
    if (this.overflowed && this.keep === "head") return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size <= this.limit) return;
    this.overflowed = true;
    const all = Buffer.concat(this.chunks);
    this.chunks = [this.keep === "head" ? all.subarray(0, this.limit) : all.subarray(all.length - this.limit)];
    this.size = this.limit;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
