/**
 * Lines for the person running `pulumi up` while a long operation runs. A dynamic provider runs in the plugin process
 * `@pulumi/pulumi/cmd/dynamic-provider`, which has no engine connection (`pulumi.log` there falls back to the
 * console), and the engine forwards every line a dynamic-provider plugin writes on stdout or stderr as an info
 * diagnostic without a resource (pkg/resource/plugin: runtrace), shown on the stack's row while it runs and under
 * "Diagnostics" at the end. Stderr it is: the plugin's stdout also carries its port.
 */
export type ProgressSink = (line: string) => void;

const SINK = Symbol.for("pulumi-lvm.progress-sink");
const state = globalThis as unknown as Record<symbol, ProgressSink | undefined>;

export function reportProgress(line: string): void {
  (state[SINK] ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
}

/** Replaces where progress goes (tests); returns the previous sink. */
export function setProgressSink(sink: ProgressSink | undefined): ProgressSink | undefined {
  const previous = state[SINK];
  state[SINK] = sink;
  return previous;
}
