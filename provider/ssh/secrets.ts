/** Secret strings inside a connection (and its jump hosts): what no error, log or output may show. */
export function connectionSecrets(connection: unknown): string[] {
  const out: string[] = [];
  for (let c = connection as Record<string, unknown> | undefined; c && typeof c === "object"; c = c.proxy as Record<string, unknown> | undefined) {
    for (const key of ["password", "privateKey", "privateKeyPassword"]) {
      const v = c[key];
      if (typeof v === "string" && v.length >= 4) out.push(v);
    }
  }
  return out;
}

/** The text with every secret replaced by "[secret]". */
export function scrubText(text: string, secrets: readonly string[]): string {
  return secrets.reduce((acc, secret) => acc.split(secret).join("[secret]"), text);
}

/** A copy of the error whose message and stack cannot contain any of the secrets. */
export function scrubError(error: unknown, secrets: readonly string[]): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  if (secrets.length === 0) return e;
  const clean = new Error(scrubText(e.message, secrets));
  clean.name = e.name;
  clean.stack = e.stack ? scrubText(e.stack, secrets) : undefined;
  // A create whose object may exist carries it to the engine as partial state (glue/unconfirmed.ts). Its properties
  // are state, which the engine keeps as it keeps outputs (secret where the inputs were); only its text is scrubbed.
  const partial = e as Error & { id?: unknown; properties?: unknown; reasons?: unknown };
  if (typeof partial.id === "string" && partial.id !== "") {
    const reasons = Array.isArray(partial.reasons) ? partial.reasons.map((r) => scrubText(String(r), secrets)) : [];
    Object.assign(clean, { id: partial.id, properties: partial.properties, reasons });
  }
  return clean;
}
