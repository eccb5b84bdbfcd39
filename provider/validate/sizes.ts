import { z } from "zod";
import { hinted } from "./messages";

const UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * Parses a size the way LVM's -L does: a number of bytes, or a number with a unit, where k/m/g/t/p (and KiB/MiB/...)
 * are powers of 1024. "4MiB", "4m", "4M", "1.5GiB", "512B", 4194304 all work. "4MB" and the like do not: they read as
 * decimal units, which LVM's are not (decimalUnit says what to write instead).
 * Returns undefined when the value is not a size, or not one a number holds exactly (over 8 PiB).
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE.exec(value);
  if (!m || m[3] !== undefined) return undefined;
  const bytes = Number(m[1]) * UNITS[(m[2] ?? "").toLowerCase()];
  if (!Number.isFinite(bytes)) return undefined;
  const whole = Math.ceil(bytes);
  return Number.isSafeInteger(whole) ? whole : undefined;
}

/** A number, a unit letter, and then "iB", "B" (bytes, alone) or (group 3) a "B" that makes the unit read as decimal. */
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtp])(?:ib|(b))?|(b?))\s*$/i;

/** Why a size with a decimal-looking unit ("32GB") is refused, and what to write: LVM's units are binary. */
function decimalUnit(value: string): string | undefined {
  const m = SIZE.exec(value);
  if (!m || m[3] === undefined) return undefined;
  const unit = m[2].toUpperCase();
  return `decimal units like ${unit}B are refused, as LVM's units are binary: write "${m[1]}${unit}iB" or "${m[1]}${unit}" for ${m[1]} ${unit}iB, or a number of bytes`;
}

const NOT_A_SIZE = `not a size: use bytes or a number with a unit like "4MiB", "10G"`;

/**
 * Why a value parseSize refuses is not a size, for a message; `notASize` is what to say of text that does not read
 * as one.
 */
function sizeProblem(value: unknown, notASize: string): string {
  if (typeof value === "number") {
    if (value < 0) return "not a size: a size cannot be negative";
    if (value > Number.MAX_SAFE_INTEGER) return TOO_LARGE;
    return "not a size: a number of bytes must be whole";
  }
  if (typeof value !== "string" || !SIZE.test(value)) return notASize;
  return decimalUnit(value) ?? TOO_LARGE;
}

/** Sizes up to 2^53 - 1 bytes (just under 8 PiB), which a number holds exactly; larger ones are beyond any host. */
const TOO_LARGE = "too large: a size must be at most 8 PiB";

/** What a size input may be, for a message about a missing one or one of the wrong type. */
const SIZE_INPUT = hinted(z.union([z.number(), z.string()], { error: (issue) => (issue.input === undefined ? undefined : NOT_A_SIZE) }),
  'a size: a number of bytes, or a number with a binary unit like "512MiB" or "32G"');

/** A size input: accepts a number of bytes or a string with a unit; the parsed value is bytes. */
export const Size = SIZE_INPUT
  .transform((v, ctx) => {
    const bytes = parseSize(v);
    if (bytes === undefined) {
      ctx.addIssue({ code: "custom", message: sizeProblem(v, NOT_A_SIZE) });
      return z.NEVER;
    }
    return bytes;
  });

export const PositiveSize = Size.refine((b) => b > 0, "must be greater than zero");

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isSafeInteger(n) && Number.isInteger(Math.log2(n));
}

/** Rounds bytes up to a whole number of extents. */
export function roundUpToExtent(bytes: number, extentBytes: number): number {
  return Math.ceil(bytes / extentBytes) * extentBytes;
}

/** "1 GiB", "1.5 GiB", "512 B": for messages a person reads. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number(v.toFixed(2))} ${units[i]}`;
}

/**
 * A size, or a percentage of something the provider knows (an origin LV), like "10%". Parsed to bytes (a number) or
 * kept as a canonical "N%" string, so a stored value parses again to itself.
 */
export type SizeOrPercent = number | `${number}%`;

const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

const NOT_A_SIZE_OR_PERCENT = `not a size: use bytes, a number with a unit like "512MiB", or a percentage like "10%"`;

const SIZE_OR_PERCENT_INPUT = hinted(z.union([z.number(), z.string()], {
  error: (issue) => (issue.input === undefined ? undefined : NOT_A_SIZE_OR_PERCENT),
}), 'a size (bytes, or a number with a binary unit like "512MiB") or a percentage like "10%"');

export const SizeOrPercent = SIZE_OR_PERCENT_INPUT.transform((v, ctx): SizeOrPercent => {
  const percent = typeof v === "string" ? PERCENT.exec(v) : null;
  if (percent) {
    const p = Number(percent[1]);
    if (p > 0 && p <= 100) return `${p}%`;
    ctx.addIssue({ code: "custom", message: "a percentage must be more than 0% and at most 100%" });
    return z.NEVER;
  }
  const bytes = parseSize(v);
  if (bytes === undefined || bytes === 0) {
    ctx.addIssue({ code: "custom", message: bytes === 0 ? NOT_A_SIZE_OR_PERCENT : sizeProblem(v, NOT_A_SIZE_OR_PERCENT) });
    return z.NEVER;
  }
  return bytes;
});

/** Bytes of a SizeOrPercent of `ofBytes`, rounded up to whole extents (at least one). */
export function resolveSize(size: SizeOrPercent, ofBytes: number, extentBytes: number): number {
  const bytes = typeof size === "number" ? size : Math.ceil((ofBytes * Number(PERCENT.exec(size)![1])) / 100);
  return Math.max(extentBytes, roundUpToExtent(bytes, extentBytes));
}
