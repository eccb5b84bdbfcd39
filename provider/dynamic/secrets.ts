/** Secret strings inside a connection (and its jump hosts), so errors can be scrubbed of them. */
export function connectionSecrets(connection: unknown): string[] {
  const out: string[] = [];
  let c = connection as Record<string, unknown> | undefined;
  while (c && typeof c === "object") {
    for (const key of ["password", "privateKey", "privateKeyPassword"]) {
      const v = c[key];
      if (typeof v === "string" && v.length >= 4) out.push(v);
    }
    c = c.proxy as Record<string, unknown> | undefined;
  }
  return out;
}

/** A copy of the error whose message and stack cannot contain any of the secrets. */
export function scrubError(error: unknown, secrets: string[]): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  if (secrets.length === 0) return e;
  const scrub = (s: string) => secrets.reduce((acc, secret) => acc.split(secret).join("[secret]"), s);
  const clean = new Error(scrub(e.message));
  clean.name = e.name;
  clean.stack = e.stack ? scrub(e.stack) : undefined;
  return clean;
}
