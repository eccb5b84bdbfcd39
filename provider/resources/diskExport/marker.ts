import { createHash } from "crypto";
import { isDeepStrictEqual } from "util";
import { DiskExportInputs } from "./inputs";

/**
 * The sidecar `<path>.pulumi-lvm.json` that says which export wrote a file. It lets a create retried after a lost
 * connection adopt the file its previous attempt finished (instead of refusing an existing file), and lets delete
 * remove only a file this resource wrote. The part known before the copy (`MarkerHead`) is written by the provider;
 * the worker on the host appends the facts of the finished file (`MarkerFacts`).
 */
export interface MarkerHead {
  writtenBy: "pulumi-lvm DiskExport";
  /** The resource ID (host:port/path). */
  resource: string;
  volumeGroup: string;
  disk: string;
  snapshot: string | null;
  format: string;
  compress: boolean;
  /** A digest of `triggers`, so trigger values (possibly secret) are not written to the host. */
  triggersSha256: string;
  sourceState: string;
}

export interface MarkerFacts {
  sha256: string;
  virtualSizeBytes: number;
  apparentSizeBytes: number;
  mtime: string;
  createdAt: string;
}

export type Marker = MarkerHead & MarkerFacts;

export function markerHead(resource: string, inputs: DiskExportInputs, sourceState: string): MarkerHead {
  return {
    writtenBy: "pulumi-lvm DiskExport",
    resource,
    volumeGroup: inputs.volumeGroup,
    disk: inputs.disk,
    snapshot: inputs.snapshot ?? null,
    format: inputs.format,
    compress: inputs.compress,
    triggersSha256: createHash("sha256").update(JSON.stringify(inputs.triggers ?? [])).digest("hex"),
    sourceState,
  };
}

/** The head as the worker extends it: the JSON object without its closing brace. */
export const markerHeadText = (head: MarkerHead) => JSON.stringify(head).slice(0, -1);

/** A marker read from the host, or undefined when it is missing or not one of ours. */
export function parseMarker(text: string | undefined): Marker | undefined {
  if (!text) return undefined;
  try {
    const m = JSON.parse(text) as Marker;
    const ok = m && m.writtenBy === "pulumi-lvm DiskExport" && typeof m.resource === "string" && typeof m.sha256 === "string"
      && typeof m.mtime === "string" && typeof m.apparentSizeBytes === "number" && typeof m.virtualSizeBytes === "number";
    return ok ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a marker was written by an export of the same resource with the same source, format and triggers. */
export function sameExport(marker: Marker, head: MarkerHead): boolean {
  const { sourceState: _a, ...want } = head;
  const { sourceState: _b, ...have } = { ...marker } as MarkerHead & Record<string, unknown>;
  return Object.entries(want).every(([k, v]) => isDeepStrictEqual(have[k], v));
}
