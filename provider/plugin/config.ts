/**
 * The provider's configuration. The Node SDK's provider server answers Configure without passing its arguments on,
 * so the one way in is the environment: the engine starts the plugin with the stack config of its package's namespace
 * in PULUMI_CONFIG, a JSON object keyed by the bare name (`connection` for `lvm:connection`), each value a string (an
 * object-valued config, as `pulumi config set --path lvm:connection.host ...` makes, is its JSON text).
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
  const raw = config.connection ?? config["lvm:connection"];
  if (raw === undefined || raw === "") return {};
  if (typeof raw !== "string") return { connection: raw };
  try {
    return { connection: JSON.parse(raw) };
  } catch {
    // Never echo the value: it holds credentials.
    throw new Error("lvm:connection must be an object (set its fields with pulumi config set --path lvm:connection.host <host>, and --secret for lvm:connection.privateKey)");
  }
}
