import type * as provider from "@pulumi/pulumi/provider";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { kinds } from "..";
import { HostResolver, kindOperations, Operations, Props } from "../glue/operations";
import { partialState } from "../glue/unconfirmed";
import { ResourceKind } from "../resource";
import { connectionSecrets, scrubError } from "../ssh";
import { ProviderConfig } from "./config";
import { PACKAGE, schemaText } from "./schema";

const isObject = (v: unknown): v is Props => typeof v === "object" && v !== null && !Array.isArray(v);
const isSecret = (v: unknown): v is { value: unknown } => isObject(v) && v[specialSigKey] === specialSecretSig;

/** The plugin accepts secrets (the server's Configure says so), so they arrive wrapped: the glue sees plain values. */
export function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  return isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)])) : v;
}

/** ... and they leave wrapped: the connection (keys, passwords) is secret in inputs and outputs, whatever the SDK did. */
function sealed(props: Props): Props {
  return props.connection === undefined ? props : { ...props, connection: { [specialSigKey]: specialSecretSig, value: props.connection } };
}

/**
 * Every kind as one Pulumi provider (`provider.main` serves it): the shared glue (glue/operations.ts) per kind,
 * chosen by the type in the URN, with what only this face has: secrets in and out, the provider's default
 * connection filled in where a resource gives none, `pulumi import` (a Read with only an ID), and the schema.
 */
export function pluginProvider(version: string, config: ProviderConfig, resolveHost?: HostResolver): provider.Provider {
  const operations = new Map<string, Operations>();
  for (const kind of Object.values(kinds) as ResourceKind<any, any>[]) { // each kind has its own input type
    operations.set(`${PACKAGE}:index:${kind.type}`, kindOperations(kind, resolveHost));
  }
  const opsFor = (urn: string): Operations => {
    const type = urn.split("::")[2]?.split("$").pop() ?? "";
    const ops = operations.get(type);
    if (!ops) throw new Error(`the ${PACKAGE} provider has no resource type ${JSON.stringify(type)}`);
    return ops;
  };
  /** Plain values, with the provider's connection where the resource has none (a resource's own wins). */
  const plain = (props: Props | undefined): Props => {
    const p = (reveal(props ?? {}) as Props);
    return p.connection === undefined && config.connection !== undefined ? { ...p, connection: config.connection } : p;
  };
  /** Errors of this face (before the glue, which scrubs its own) never carry the provider's credentials either. */
  const guarded = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (e) {
      throw scrubError(e, connectionSecrets(config.connection));
    }
  };

  return {
    version,
    getSchema: async () => schemaText(version),
    check: guarded(async (urn, olds, news) => {
      const { inputs, failures } = await opsFor(urn).check(plain(olds), plain(news));
      return { inputs: sealed(inputs), failures };
    }),
    diff: guarded((id, urn, olds, news) => opsFor(urn).diff(id, plain(olds), plain(news))),
    create: guarded(async (urn, inputs) => {
      try {
        const { id, outs } = await opsFor(urn).create(plain(inputs));
        return { id, outs: sealed(outs) };
      } catch (e) {
        // An unconfirmed create's partial state (glue/unconfirmed.ts) leaves sealed, as outputs do.
        const partial = partialState(e);
        if (partial) partial.properties = sealed(partial.properties);
        throw e;
      }
    }),
    read: guarded(async (id, urn, props) => {
      const ops = opsFor(urn);
      // `pulumi import` reads with the ID alone: the provider's connection says where.
      if (!props || Object.keys(props).length === 0) {
        if (config.connection === undefined) throw new Error("pulumi import needs the provider's connection: set lvm:connection in the stack config, or give an explicit provider its connection");
        const found = await ops.importById(id, { connection: config.connection });
        return found ? { id: found.id, props: sealed(found.props), inputs: found.inputs } : { id: "", props: {} };
      }
      const read = await ops.read(id, plain(props));
      return { id: read.id, props: sealed(read.props) };
    }),
    update: guarded(async (id, urn, olds, news) => ({ outs: sealed((await opsFor(urn).update(id, plain(olds), plain(news))).outs) })),
    delete: guarded((id, urn, props) => opsFor(urn).delete(id, plain(props))),
  };
}
