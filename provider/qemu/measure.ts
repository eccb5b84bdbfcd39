import { Argv, batchedReads, CommandRunner, sh } from "../command";
import { Qcow2Options, qcow2OptionString } from "./options";

/** `qemu-img measure --output=json`: how much room a qcow2 image of a given virtual size needs. */
export interface Measurement {
  /** Room needed for the image as created (metadata, plus data if preallocated). */
  requiredBytes: number;
  /** Room needed once every cluster holds data: what a qcow2 on a fixed-size LV must be given. */
  fullyAllocatedBytes: number;
}

/** The argv measuring a new qcow2 image of `sizeBytes` created with `options`. Pure arithmetic: touches no image. */
export function measureArgv(sizeBytes: number, options: Qcow2Options): Argv {
  return ["qemu-img", "measure", "--output=json", "--size", String(sizeBytes), "-O", "qcow2", "-o", qcow2OptionString(options)];
}

export function parseMeasure(json: string): Measurement {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new Error(`could not parse qemu-img measure JSON output: ${json.trim().slice(0, 300)}`);
  }
  const required = parsed?.required;
  const fullyAllocated = parsed?.["fully-allocated"];
  if (typeof required !== "number" || typeof fullyAllocated !== "number") {
    throw new Error(`unexpected qemu-img measure JSON output: ${json.trim().slice(0, 300)}`);
  }
  return { requiredBytes: required, fullyAllocatedBytes: fullyAllocated };
}

/** Runs "$@" (a measure), printing its error in place of the JSON, so one bad request does not fail a whole batch. */
const MEASURE = sh`"$@" 2>&1 || true`;

const sectionOf = (argv: Argv) => `measure ${argv.slice(4).join(" ")}`;

const readBatched = batchedReads<Argv>("measure qcow2 images", (script, requests) => {
  const unique = new Map(requests.map((argv) => [sectionOf(argv), argv]));
  for (const [section, argv] of unique) script.captureCode(section, MEASURE, {}, argv);
  return script;
});

/**
 * qemu-img's measure of a new qcow2 image, batched with the host's other reads (command/batch.ts): the creates and
 * snapshots that reach the plugin at once share one round trip for their measures and their LVM reads, instead of
 * one each (every `sh -s` and LVM report costs a slow host tenths of a second, paid by every operation in flight).
 */
export async function measureQcow2(host: CommandRunner, sizeBytes: number, options: Qcow2Options): Promise<Measurement> {
  const argv = measureArgv(sizeBytes, options);
  return parseMeasure((await readBatched(host, argv))[sectionOf(argv)] ?? "");
}
