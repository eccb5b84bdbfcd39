import { z } from "zod";

/**
 * The one place an input's validation problems become the messages a user reads: every failure names its field
 * (its property path), shows the value that was given (never a secret's), and says what is allowed. The schemas
 * state their rules in their own messages; what zod would otherwise word itself (a wrong type, a missing field, an
 * unknown key, a bound) is worded here.
 */

/** A check failure: the field (a dotted path) and what is wrong with it. */
export interface InputFailure {
  property: string;
  reason: string;
}

/** Fields whose values are secrets (in a connection and its jump hosts): their values are never shown. */
const SECRET_KEYS = ["password", "privateKey", "privateKeyPassword"];

const isSecretField = (path: readonly PropertyKey[]) => path.length > 0 && SECRET_KEYS.includes(String(path[path.length - 1]));

/** Whether a value is, or holds, a connection or a secret field: such a value is described, never shown. */
function holdsSecrets(value: unknown, path: readonly PropertyKey[]): boolean {
  if (isSecretField(path) || (path.length > 0 && path[path.length - 1] === "connection")) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.entries(value).some(([k, v]) => k === "connection" || SECRET_KEYS.includes(k) || holdsSecrets(v, [k]));
}

/** Longest value shown in full; longer ones are cut, with their length. */
const SHOWN_MAX = 80;

/** A value as a message shows it: JSON (strings quoted, escapes visible), cut when long. */
export function shown(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length <= SHOWN_MAX) return text;
  const length = typeof value === "string" ? `${value.length} characters` : `${text.length} characters as JSON`;
  return `${text.slice(0, SHOWN_MAX - 20)}… (${length})`;
}

/** What a value is, for one that must not be shown: "a string", "a number", "an object"... */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return value === "" ? "an empty string" : "a string";
  if (typeof value === "boolean") return "a boolean";
  return `${/^[aeiou]/.test(typeof value) ? "an" : "a"} ${typeof value}`;
}

/**
 * Whether a message shows a string value already (quoted, as `shown` does: "mapper" is taken by /dev/mapper). A number
 * in a message is more likely a bound than the value ("must be greater than 0"), so numbers always go with it.
 */
const mentions = (message: string, value: unknown) => typeof value === "string" && message.includes(shown(value));

/** How a field is described in "required: ..." and "expected ..., got ..." messages, and what its absence means. */
export interface FieldHint {
  /** What is allowed, e.g. 'a volume group name like "vg0": letters, digits and + _ . -'. */
  allowed: string;
  /** The whole message for the field missing, when "required: <allowed>" would not say what to do. */
  missing?: string;
}

const HINTS = new WeakMap<object, FieldHint>();

/** Registers what a schema allows, for the messages about a value of the wrong type or a missing one. */
export function hinted<T extends z.ZodType>(schema: T, hint: string | FieldHint): T {
  HINTS.set(schema, typeof hint === "string" ? { allowed: hint } : hint);
  return schema;
}

// Zod's internals, read to find the schema of a field (its hint, or an object's keys): wrappers and their inner ones.
interface Def { type: string; innerType?: Schema; in?: Schema; getter?: () => Schema; shape?: Record<string, Schema>; element?: Schema }
interface Schema { _zod: { def: Def } }

/** The schema and every schema it wraps (optional, default, pipe, lazy...), outermost first. */
function layers(schema: Schema | undefined): Schema[] {
  const out: Schema[] = [];
  for (let s = schema; s && out.length < 20; ) {
    out.push(s);
    const def = s._zod.def;
    s = def.innerType ?? def.in ?? (def.type === "lazy" ? def.getter?.() : undefined);
  }
  return out;
}

/** The schema of the field at `path`, if the path leads through objects and lists the schema declares. */
function schemaAt(root: Schema, path: readonly PropertyKey[]): Schema | undefined {
  let current: Schema | undefined = root;
  for (const key of path) {
    const next: Schema | undefined = layers(current).map((s) => s._zod.def)
      .map((def) => (def.type === "object" ? def.shape?.[String(key)] : def.type === "array" ? def.element : undefined))
      .find(Boolean);
    if (!next) return undefined;
    current = next;
  }
  return current;
}

function hintAt(root: Schema, path: readonly PropertyKey[]): FieldHint | undefined {
  for (const s of layers(schemaAt(root, path))) {
    const hint = HINTS.get(s);
    if (hint) return hint;
  }
  return undefined;
}

function keysAt(root: Schema, path: readonly PropertyKey[]): string[] {
  const object = layers(schemaAt(root, path)).find((s) => s._zod.def.type === "object");
  return object ? Object.keys(object._zod.def.shape ?? {}) : [];
}

/** Edits (insert, delete, substitute, swap two neighbours) between two words, ignoring case. */
export function editDistance(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  const d = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/** The known key a misspelt one most likely meant: a few edits away (fewer for short words), or the start of it. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const limit = key.length <= 3 ? 1 : key.length <= 6 ? 2 : 3;
  const ranked = known.map((k) => ({ k, d: editDistance(key, k) })).filter(({ d }) => d <= limit).sort((a, b) => a.d - b.d);
  return ranked[0]?.k ?? known.find((k) => k.length >= 4 && key.toLowerCase().startsWith(k.toLowerCase()));
}

const TYPES: Record<string, string> = {
  string: "a string", number: "a number", int: "a whole number", boolean: "true or false", array: "a list",
  object: "an object", bigint: "a number", null: "null",
};

/** "be at least 2", "have at most 1024 characters", "have at least 1 item(s)". */
function bound(origin: string | undefined, how: string, limit: number | bigint): string {
  const unit = origin === "string" ? "characters" : origin === "array" || origin === "set" ? "item(s)" : "";
  return unit ? `have ${how} ${String(limit)} ${unit}` : `be ${how} ${String(limit)}`;
}

/** The message for an issue zod would word itself. */
function stockMessage(issue: z.core.$ZodIssue, root: Schema, value: unknown, path: readonly PropertyKey[], got: string): string {
  const hint = hintAt(root, path);
  const allowed = hint?.allowed ?? (issue.code === "invalid_type" ? TYPES[issue.expected] ?? issue.expected : undefined);
  // Null is how an engine sends a value a program left unset (the SDK's secret() of undefined, say).
  if ((value === undefined || value === null) && (issue.code === "invalid_type" || issue.code === "invalid_union")) {
    return hint?.missing ?? `required: ${allowed ?? "a value"}`;
  }
  switch (issue.code) {
    case "invalid_type":
      return `expected ${allowed}, got ${got}`;
    case "too_small":
      return `must ${bound(issue.origin, issue.inclusive === false ? "more than" : "at least", issue.minimum)}, got ${got}`;
    case "too_big":
      return `must ${bound(issue.origin, issue.inclusive === false ? "less than" : "at most", issue.maximum)}, got ${got}`;
    case "invalid_value":
      return `expected ${issue.values.length === 1 ? shown(issue.values[0]) : `one of ${issue.values.map(shown).join(", ")}`}, got ${got}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}, got ${got}`;
    case "invalid_format":
      return `expected ${allowed ?? (issue.format === "regex" ? `text matching ${String(issue.pattern)}` : `a valid ${issue.format}`)}, got ${got}`;
    default:
      return `expected ${allowed ?? "another value"}, got ${got}`;
  }
}

/** One failure per unknown key: the key's own path, the nearest known key (or all of them). Values never shown. */
function unknownKeys(keys: readonly string[], root: Schema, path: readonly PropertyKey[], prefix: readonly string[]): InputFailure[] {
  const known = keysAt(root, path);
  const where = [...prefix, ...path].join(".") || "the inputs";
  const connectionKeys = path.length === 0 && known.includes("connection") ? keysAt(root, ["connection"]) : [];
  return keys.map((key) => {
    const near = nearestKey(key, known);
    const connectionField = connectionKeys.includes(key);
    const advice = connectionField ? `${JSON.stringify(key)} is a field of connection: put it inside connection`
      : near !== undefined ? `did you mean ${JSON.stringify(near)}?`
        : `the keys of ${where} are ${known.join(", ")}`;
    return { property: [...path, key].join("."), reason: `unknown key ${JSON.stringify(key)} in ${where}; ${advice}` };
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The value at `path` in `input` (undefined where the path does not lead). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key as string];
  }
  return v;
}

/** Marks issues zod would word itself (no message from the schema): they are worded here instead. */
const STOCK = "\u0000stock";

/** What failed in `input`: one failure per problem, worded for a user. `prefix` goes before every property path. */
export function describeIssues(schema: z.ZodType, input: unknown, issues: readonly z.core.$ZodIssue[], prefix: readonly string[] = []): InputFailure[] {
  const root = schema as unknown as Schema;
  const name = (path: readonly PropertyKey[]) => [...prefix, ...path.map(String)].join(".") || "(inputs)";
  return issues.flatMap((issue): InputFailure[] => {
    const path = issue.path;
    if (issue.code === "unrecognized_keys") {
      return unknownKeys(issue.keys, root, path, prefix).map((f) => ({ ...f, property: [...prefix, f.property].join(".") }));
    }
    const value = valueAt(input, path);
    // Secrets are judged on the whole path: a connection checked on its own is still a connection.
    const secret = holdsSecrets(value, [...prefix, ...path]);
    if (issue.message === STOCK) {
      return [{ property: name(path), reason: stockMessage(issue, root, value, path, secret ? kindOf(value) : shown(value)) }];
    }
    // The schema's own message states the rule; the value goes with it, unless the message shows it already, it may
    // hold a secret, or the rule is one across fields (raised on the object holding the field), whose message says
    // which values clash.
    const acrossFields = isRecord(issue.input) && path.length > 0 && String(path[path.length - 1]) in issue.input;
    const silent = value === undefined || secret || acrossFields || mentions(issue.message, value);
    return [{ property: name(path), reason: silent ? issue.message : `${issue.message}; got ${shown(value)}` }];
  });
}

/**
 * Parses `input` with `schema`: the value, or the failures worded for a user. `prefix` goes before every property
 * path; `ignore` drops the issues at paths it returns true for (values not known yet, say).
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown,
  { prefix = [], ignore = () => false }: { prefix?: readonly string[]; ignore?: (path: readonly PropertyKey[]) => boolean } = {}):
  { success: true; data: z.output<T> } | { success: false; failures: InputFailure[] } {
  const parsed = schema.safeParse(input, { error: () => STOCK, reportInput: true });
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, failures: describeIssues(schema, input, parsed.error.issues.filter((i) => !ignore(i.path)), prefix) };
}
