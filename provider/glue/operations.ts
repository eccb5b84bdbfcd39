import { isDeepStrictEqual } from "util";
import { z } from "zod";
import { BaseInputs, Failure, HostSession, ResourceKind } from "../resource";
import { Connection, connectionSecrets, hostAndPort, hostFor, parseConnection, requireTool, scrubError, scrubText } from "../ssh";
import { parseInput } from "../validate/messages";
import { CreateUnconfirmed, outcomeUnknown, UNCONFIRMED } from "./unconfirmed";
import { overlaps, UNKNOWN, unknownPaths } from "./unknowns";

export type Props = Record<string, unknown>;
export type HostResolver = (connection: Connection) => HostSession;

/**
 * What a face (the dynamic provider, the provider plugin) calls for one kind, on plain values: no `__provider`, no
 * secret wrappers, the connection already in the inputs. Each face only translates its own wire format to these.
 */
export interface Operations {
  check(olds: Props, news: Props): Promise<{ inputs: Props; failures: Failure[] }>;
  /** `olds` are the old outputs (which echo every input). */
  diff(id: string, olds: Props, news: Props): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }>;
  create(inputs: Props): Promise<{ id: string; outs: Props }>;
  /** An empty ID when the object is gone. */
  read(id: string, props: Props): Promise<{ id: string; props: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ outs: Props }>;
  delete(id: string, props: Props): Promise<void>;
  /**
   * `pulumi import`: the object an ID names, on the host `connection` reaches (the ID's `host:port` must be it), with
   * the inputs a program writes to match it (without the connection: it comes from the same place as here).
   */
  importById(id: string, props: { connection: unknown }): Promise<{ id: string; props: Props; inputs: Props } | undefined>;
}

/**
 * Turns a ResourceKind into its Operations. Done once here for every kind and both faces: validation in `check`
 * (so `preview` reports it and nothing invalid reaches a host), diffs with replacements, state-only changes that
 * never touch the host, JSON-safe outputs, and errors scrubbed of secrets.
 */
export function kindOperations<I extends BaseInputs, O extends I>(
  kind: ResourceKind<I, O>, resolveHost: HostResolver = hostFor,
): Operations {
  const inputKeys = Object.keys(kind.inputs.shape);
  const pickInputs = (props: Props): Props =>
    Object.fromEntries(inputKeys.filter((k) => props[k] !== undefined).map((k) => [k, props[k]]));
  const changedKeys = (olds: Props, news: Props) =>
    inputKeys.filter((k) => !isDeepStrictEqual(olds[k] ?? null, news[k] ?? null));
  const parse = (props: Props): I => {
    const { value, failures } = validate(kind.inputs, pickInputs(props));
    if (failures.length > 0) {
      throw new Error(`invalid ${kind.type} inputs:\n${failures.map((f) => `  ${f.property}: ${f.reason}`).join("\n")}`);
    }
    return value as I;
  };
  /** The new inputs with what the provider resolved last time standing in for inputs that still ask for it. */
  const asResolved = (olds: Props, news: Props): Props => {
    const resolved = { ...news };
    for (const [key, asks] of Object.entries(kind.resolvedOnHost ?? {})) {
      if ((news[key] ?? null) === (asks ?? null) && olds[key] !== undefined) resolved[key] = olds[key];
    }
    return resolved;
  };
  const host = (props: Props) => resolveHost(parseConnection(props.connection));
  // With unknown values (preview) the new ID cannot be known: assume a collision, as the replacement would hit it.
  const mustDeleteFirst = (olds: Props, news: Props) => {
    if (unknownPaths(news).length > 0) return true;
    const [o, n] = [parse(olds), parse(news)];
    return kind.deleteBeforeReplace ? kind.deleteBeforeReplace(o, n) : kind.id(o) === kind.id(n);
  };
  /** A host ready to be changed: its preflight (once per connection) shows the tools this kind needs. */
  const mutableHost = async (props: Props) => {
    const h = host(props);
    const caps = await h.capabilities();
    for (const tool of kind.tools ?? []) requireTool(caps, tool);
    return h;
  };
  const guarded = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (e) {
      const secrets = args.flatMap((a) => (a && typeof a === "object" ? connectionSecrets((a as Props).connection) : []));
      throw scrubError(e, secrets);
    }
  };

  return {
    check: guarded(async (olds: Props, news: Props) => {
      // Everything the program sent is validated, so a misspelt field is an error rather than ignored.
      const { value, failures } = validate(kind.inputs, news);
      if (failures.length === 0 && kind.checkChange && Object.keys(pickInputs(olds)).length > 0) {
        const previous = validate(kind.inputs, pickInputs(olds));
        const unknown = unknownPaths(value);
        if (previous.failures.length === 0) {
          failures.push(...kind.checkChange(previous.value as I, value as I)
            .filter((f) => !unknown.some((u) => overlaps(u, f.property.split(".")))));
        }
      }
      return { inputs: value as Props, failures };
    }),

    diff: guarded(async (_id: string, olds: Props, sent: Props) => {
      const news = asResolved(olds, sent);
      const changed = changedKeys(olds, news);
      const replaces = changed.filter((k) => (kind.replaceOn as readonly string[]).includes(k));
      const oldHost = (olds.connection as Props | undefined)?.host;
      const newHost = (news.connection as Props | undefined)?.host;
      if (changed.includes("connection") && oldHost !== newHost) replaces.push("connection");
      // An unconfirmed create is finished by an update (or replaced along with what it may have made).
      return { changes: changed.length > 0 || olds[UNCONFIRMED] === true, replaces, deleteBeforeReplace: replaces.length > 0 && mustDeleteFirst(olds, news) };
    }),

    create: guarded(async (inputs: Props) => {
      const parsed = parse(inputs);
      const h = await mutableHost(parsed as unknown as Props);
      try {
        return { id: kind.id(parsed), outs: jsonSafe(await kind.create(h, parsed)) };
      } catch (e) {
        if (!kind.finishCreate || !outcomeUnknown(e)) throw e;
        // `inputs` as sent: a face's own fields (the dynamic provider's __provider) stay in the partial state.
        throw new CreateUnconfirmed(e.message, kind.id(parsed), jsonSafe({ ...inputs, ...parsed, [UNCONFIRMED]: true }));
      }
    }),

    read: guarded(async (id: string, props: Props) => {
      if (props[UNCONFIRMED] === true) return { id, props }; // unknown until the next up finishes the create
      const olds = { ...props, ...parse(props) } as unknown as O;
      const now = await kind.read(host(props), olds);
      return now ? { id, props: jsonSafe(now) } : { id: "", props: {} };
    }),

    update: guarded(async (_id: string, olds: Props, news: Props) => {
      if (olds[UNCONFIRMED] === true) {
        const inputs = parse(news);
        return { outs: jsonSafe(await kind.finishCreate!(await mutableHost(inputs as unknown as Props), inputs)) };
      }
      const parsed = asResolved(olds, parse(news) as unknown as Props) as unknown as I;
      const changed = changedKeys(olds, parsed as unknown as Props);
      const onlyState = changed.every((k) => k === "connection" || (kind.stateOnly as readonly string[]).includes(k));
      if (onlyState) return { outs: jsonSafe({ ...olds, ...parsed }) };
      return { outs: jsonSafe(await kind.update(await mutableHost(parsed as unknown as Props), olds as O, parsed)) };
    }),

    delete: guarded(async (id: string, props: Props) => {
      const olds = { ...props, ...parse(props) } as unknown as O;
      if (props[UNCONFIRMED] !== true) return kind.delete(await mutableHost(props), olds);
      // What the unconfirmed create left, found by its ID; the state-only fields (opt-ins) as the program set them.
      const found = kind.importFrom && await kind.importFrom(host(props), pathOf(id), olds.connection);
      const stateOnly = Object.fromEntries(kind.stateOnly.map((k) => [k, olds[k]]));
      if (found) await kind.delete(await mutableHost(props), { ...found, ...stateOnly, connection: olds.connection });
    }),

    importById: guarded(async (id: string, props: { connection: unknown }) => {
      if (!kind.importFrom) throw new Error(`${kind.type} cannot be imported: nothing on a host identifies one by its ID alone`);
      const connection = parseConnection(props.connection);
      const [target, path] = [id.split("/")[0], pathOf(id)];
      if (target !== hostAndPort(connection)) {
        throw new Error(`import ID ${JSON.stringify(id)} names the host ${target}, but the provider's connection reaches ${hostAndPort(connection)}: import with an ID of the form ${hostAndPort(connection)}/<path>, or configure lvm:connection for that host`);
      }
      if (path === "") throw new Error(`import ID ${JSON.stringify(id)} has no path after ${target}/`);
      const found = await kind.importFrom(host({ connection }), path, connection);
      if (!found) return undefined;
      const outs = jsonSafe(found);
      return { id: kind.id(found), props: outs, inputs: programInputs(kind.inputs, outs) };
    }),
  };
}

/** The part of a resource ID after `host:port/`: the object on the host (e.g. `vg/lv`). */
function pathOf(id: string): string {
  const at = id.indexOf("/");
  return at < 0 ? "" : id.slice(at + 1);
}

/**
 * The inputs a program writes for an object described by `outs`: every input field the outputs hold, except the
 * connection (provider configuration supplies it) and fields holding their default (the program leaves them out).
 */
function programInputs(schema: z.ZodObject<z.ZodRawShape>, outs: Props): Props {
  const inputs: Props = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    if (key === "connection" || outs[key] === undefined) continue;
    const byDefault = (field as z.ZodType).safeParse(undefined);
    if (byDefault.success && isDeepStrictEqual(byDefault.data, outs[key])) continue;
    inputs[key] = outs[key];
  }
  return inputs;
}

/**
 * Validates inputs against a kind's schema. During a preview some values are unknown: failures about them (or
 * inside them) are dropped, and the inputs go back as they came, since they cannot be normalized yet.
 */
export function validate(schema: z.ZodType, input: Props): { value: Props; failures: Failure[] } {
  const unknown = unknownPaths(input);
  const parsed = parseInput(schema, input, { ignore: (path) => unknown.some((u) => overlaps(u, path as (string | number)[])) });
  if (parsed.success) return { value: parsed.data as Props, failures: [] };
  // The messages show no secret field's value; a secret a user typed into another field is hidden all the same.
  const secrets = connectionSecrets(input.connection);
  return { value: input, failures: parsed.failures.map((f) => ({ ...f, reason: scrubText(f.reason, secrets) })) };
}

/** Outputs cross a protobuf Struct: plain JSON only (no undefined, BigInt, Buffer, Date). */
function jsonSafe<T>(value: T): Props {
  return JSON.parse(JSON.stringify(value)) as Props;
}

export { UNKNOWN };
