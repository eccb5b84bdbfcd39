// Property values as they travel between the Pulumi SDK, the engine and the state file ("wire values"):
// plain JSON, plus the special objects of @pulumi/pulumi/runtime/rpc.js that mark secrets and resource
// references, plus the string that stands for an unknown value during a preview.

export type Props = Record<string, unknown>;

export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export const isSecret = (v: unknown): v is { value: unknown } => isObject(v) && v[SIG_KEY] === SECRET_SIG;
export const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

export function containsSecret(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  return isObject(v) && Object.values(v).some(containsSecret);
}

/**
 * What a provider that does not accept secrets or resource references receives (the dynamic provider's
 * Configure answers acceptSecrets=false): secrets unwrapped, a resource reference replaced by its id
 * (or its URN for a component), `undefined` dropped, so that `Struct.fromJavaScript` accepts it.
 */
export function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (!isObject(v)) return v;
  if (v[SIG_KEY] === RESOURCE_SIG) return "id" in v ? v.id || UNKNOWN : v.urn;
  const out: Props = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = reveal(x);
  return out;
}
export const revealProps = (p: Props) => reveal(p) as Props;

/**
 * The engine's rule for a provider that does not accept secrets: a key of the provider's answer is secret
 * when the input under the same top-level key contained a secret, or when `additionalSecretOutputs` lists it.
 */
export function markSecrets(plain: Props, inputs: Props, additionalSecretOutputs: string[] = []): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(plain)) {
    out[k] = !isSecret(v) && (containsSecret(inputs[k]) || additionalSecretOutputs.includes(k)) ? secret(v) : v;
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => deepEqual(a[k], b[k]));
}

/** Top-level keys whose values differ (secrets compared by their content), sorted. */
export function changedKeys(olds: Props, news: Props): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => !deepEqual(reveal(olds[k]), reveal(news[k]))).sort();
}
