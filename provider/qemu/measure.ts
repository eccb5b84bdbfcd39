import { Argv } from "../command";
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
