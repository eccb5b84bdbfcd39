/**
 * The provider's configuration. It comes two ways: the engine starts the plugin with the stack config of its
 * package's namespace in PULUMI_CONFIG, a JSON object keyed by the bare name (`connection` for `lvm:connection`), and
 * it sends the provider's inputs in Configure (an explicit provider's `connection`: configure.ts), which win.
 */
export interface ProviderConfig {
  /** The default connection of every resource that gives none (not yet validated: check does that, naming fields). */
  connection?: unknown;
}

export function providerConfig(env: NodeJS.ProcessEnv = process.env): ProviderConfig {
  if (!env.PULUMI_CONFIG) return {};
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(env.PULUMI_CONFIG) as Record<string, unknown>;
  } catch {
    throw new Error("PULUMI_CONFIG is not a JSON object: the engine passes the stack config of lvm:* there");
  }
  return { connection: connectionFrom(config.connection ?? config["lvm:connection"]) };
}

/**
 * A configured connection as the engine sends it: absent, an object, or its JSON text (config values are strings; an
 * object-valued config, as `pulumi config set --path lvm:connection.host ...` makes, arrives as its JSON text).
 */
export function connectionFrom(raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    // Never echo the value: it holds credentials.
    throw new Error("lvm:connection must be an object (set its fields with pulumi config set --path lvm:connection.host <host>, and --secret for lvm:connection.privateKey)");
  }
}
