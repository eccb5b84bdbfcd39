import { Argv, sh } from "../command";

/**
 * `qemu-img info --output=json`: one command builder and one parser. The parser keeps the facts this project
 * acts on; qemu-img reports sizes as whole bytes.
 */
export interface ImageInfo {
  /** "qcow2", "raw", ... as qemu-img names it. */
  format: string;
  virtualSizeBytes: number;
  /** qcow2 (and other cluster-based formats) only. */
  clusterSizeBytes?: number;
  /** qcow2 only: subclusters (`extended_l2=on`). */
  extendedL2?: boolean;
  /** qcow2 only: the image was marked corrupt and qemu will not write to it. */
  corrupt?: boolean;
  /** The backing file as recorded in the image (often relative), if it has one. */
  backingFile?: string;
  backingFormat?: string;
}

/**
 * The argv of `qemu-img info`. `format` skips probing (always give it for images whose format is known: a raw
 * disk whose guest wrote a qcow2 header must not be read as qcow2). `shared` (-U) reads an image that a
 * running VM holds open, without taking qemu's image lock.
 */
export function infoArgv(image: string, opts: { format?: string; shared?: boolean } = {}): Argv {
  return ["qemu-img", "info", "--output=json", ...(opts.shared ? ["-U"] : []),
    ...(opts.format ? ["-f", opts.format] : []), image];
}

/**
 * `qemu-img info -U` of $image if it is a block device, else nothing (an inactive or removed LV). $format skips
 * probing; empty probes. A failure prints qemu-img's message in place of the JSON, which the parser reports, so
 * in a batch one unreadable image does not fail the others.
 */
/**
 * `qemu-img info --backing-chain` of the qcow2 disk $image (= /dev/$vg/$disk). Every image of a chain must have a
 * device: when the disk or a link has none (after a reboot, or LVs left inactive), the disk's LV and those named
 * like its snapshots ($prefix...) are activated and the chain read again. Prints the JSON, or qemu-img's error
 * (which names the image it could not open), or nothing when the disk's LV does not exist.
 */
export const CHAIN_INFO = sh`chain_info() { qemu-img info --output=json -U -f qcow2 --backing-chain "$image" 2>&1; }
if [ ! -b "$image" ] || ! out=$(chain_info); then
  out=
  for name in $(lvs --noheadings -o lv_name -- "$vg" 2>/dev/null); do
    case "$name" in
      "$disk"|"$prefix"*) [ -b "/dev/$vg/$name" ] || lvchange --activate y -- "$vg/$name" >&2 || true ;;
    esac
  done
  if command -v udevadm >/dev/null 2>&1; then udevadm settle; fi
  if [ -b "$image" ]; then out=$(chain_info) || true; fi
fi
printf '%s\\n' "$out"`;

export const INFO_IF_PRESENT = sh`if [ -b "$image" ]; then
  if [ -n "$format" ]; then set -- -f "$format"; fi
  qemu-img info --output=json -U "$@" "$image" 2>&1 || true
fi`;

/** One image of a backing chain: `qemu-img info --backing-chain` lists the top image first. */
export interface ChainImage extends ImageInfo {
  /** The path qemu-img opened, e.g. /dev/vg/snap_vm-1_a.qcow2. */
  filename: string;
}

/**
 * A backing chain as `qemu-img info --backing-chain --output=json` prints it (top first), or, when qemu-img could
 * not open some image of it, the path it named: a broken chain is reported, never guessed around.
 */
export type ChainRead = { images: ChainImage[] } | { unreadable: string; missing?: string };

export function parseImageChain(text: string): ChainRead {
  const trimmed = text.trim();
  if (!trimmed.startsWith("[")) {
    const opened = [...trimmed.matchAll(/Could not open '([^']+)'/g)].map((m) => m[1]);
    return { unreadable: trimmed.slice(0, 500), ...(opened.length > 0 ? { missing: opened[opened.length - 1] } : {}) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new Error(`could not parse qemu-img info --backing-chain JSON output: ${trimmed.slice(0, 300)}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`unexpected qemu-img info --backing-chain output: ${trimmed.slice(0, 300)}`);
  return {
    images: parsed.map((entry) => {
      const filename = (entry as { filename?: unknown }).filename;
      if (typeof filename !== "string") throw new Error(`unexpected qemu-img info --backing-chain output: an image has no filename`);
      return { filename, ...parseImageInfo(JSON.stringify(entry)) };
    }),
  };
}

interface InfoJson {
  "format"?: string;
  "virtual-size"?: number;
  "cluster-size"?: number;
  "backing-filename"?: string;
  "backing-filename-format"?: string;
  "format-specific"?: { type?: string; data?: { "extended-l2"?: boolean; "corrupt"?: boolean } };
}

export function parseImageInfo(json: string): ImageInfo {
  let parsed: InfoJson;
  try {
    parsed = JSON.parse(json) as InfoJson;
  } catch {
    throw new Error(`could not parse qemu-img info JSON output: ${json.trim().slice(0, 300)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)
    || typeof parsed.format !== "string" || typeof parsed["virtual-size"] !== "number") {
    throw new Error(`unexpected qemu-img info JSON output: ${json.trim().slice(0, 300)}`);
  }
  const qcow2 = parsed["format-specific"]?.type === "qcow2" ? parsed["format-specific"].data ?? {} : undefined;
  return {
    format: parsed.format,
    virtualSizeBytes: parsed["virtual-size"],
    ...(parsed["cluster-size"] !== undefined ? { clusterSizeBytes: parsed["cluster-size"] } : {}),
    ...(qcow2 ? { extendedL2: qcow2["extended-l2"] ?? false, corrupt: qcow2.corrupt ?? false } : {}),
    ...(parsed["backing-filename"] !== undefined ? { backingFile: parsed["backing-filename"] } : {}),
    ...(parsed["backing-filename-format"] !== undefined ? { backingFormat: parsed["backing-filename-format"] } : {}),
  };
}
