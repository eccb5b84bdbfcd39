import { z } from "zod";
import { kinds } from "..";
import { ResourceKind } from "../resource";
import { ConnectionSchema } from "../ssh";
import { SdkDocs, sdkDocs } from "./docs";

/** The plugin's package name: resource tokens are `lvm:index:<Kind>`. */
export const PACKAGE = "lvm";
export const token = (name: string) => `${PACKAGE}:index:${name}`;

type Json = Record<string, unknown>;
type JsonSchema = Json & { type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[] };

/** The connection's fields that hold credentials: marked secret wherever a connection appears. */
const CREDENTIALS = ["password", "privateKey", "privateKeyPassword"];
const CONNECTION_DESCRIPTION = "How to reach the host over SSH (pulumi-command's field names). Secret: it holds keys and passwords. Default: the provider's `connection` (stack config `lvm:connection`).";

/**
 * Pulumi's package schema for every kind, generated from the kinds themselves: the inputs from their zod schemas
 * (JSON Schema by `z.toJSONSchema`, then translated to Pulumi's type system), the outputs from the inputs plus the
 * kind's output fields, `replaceOnChanges` from `replaceOn`. Nested objects become named types; the connection is
 * one type, `lvm:index:Connection`, secret as a whole, its credentials secret too. Descriptions are the SDK's
 * (docs.ts), else the kinds' own (`.describe()` on output fields).
 */
export function packageSchema(version: string, docs: SdkDocs = sdkDocs()): Json {
  const types = new Types(docs);
  const connection = types.ref(toJson(ConnectionSchema, "input"), "Connection");
  const resources: Json = {};
  for (const kind of Object.values(kinds) as ResourceKind<any, any>[]) { // each kind has its own input type
    resources[token(kind.type)] = resourceSpec(kind, types, connection, docs[kind.type] ?? {});
  }
  const connectionProperty = { ...connection, secret: true, description: CONNECTION_DESCRIPTION };
  return {
    name: PACKAGE,
    displayName: "pulumi-lvm",
    version,
    description: "LVM volume groups, thin pools, VM disks (raw or qcow2 on LVs), Proxmox-style snapshots, rollbacks and disk exports on plain Linux hosts, over SSH.",
    keywords: ["lvm", "qcow2", "proxmox", "category/infrastructure", "kind/native"],
    license: "Apache-2.0",
    config: { variables: { connection: connectionProperty } },
    provider: { description: "The pulumi-lvm provider. Its `connection` is the default host of every resource that gives none.", inputProperties: { connection: connectionProperty }, properties: { connection: connectionProperty } },
    types: types.specs,
    resources,
  };
}

function resourceSpec(kind: ResourceKind<any, any>, types: Types, connection: Json, docs: Record<string, string>): Json {
  const described = (name: string, spec: Json) => (spec.description === undefined && docs[name] ? { ...spec, description: docs[name] } : spec);
  const inputs = toJson(kind.inputs, "input");
  const inputProperties: Json = {};
  for (const [name, schema] of Object.entries(inputs.properties ?? {})) {
    const spec = name === "connection" ? { ...connection, secret: true, description: CONNECTION_DESCRIPTION } : types.property(schema, `${kind.type}${capitalize(name)}`, inputs);
    if ((kind.replaceOn as readonly string[]).includes(name)) spec.replaceOnChanges = true;
    inputProperties[name] = described(name, spec);
  }
  const outputs = toJson(kind.outputs, "output");
  const properties: Json = { ...inputProperties };
  for (const [name, schema] of Object.entries(outputs.properties ?? {})) {
    properties[name] = described(name, types.property(schema, `${kind.type}${capitalize(name)}`, outputs));
  }
  // The provider's connection stands in for a resource's own: no input is required for it.
  const requiredInputs = (inputs.required ?? []).filter((k) => k !== "connection");
  // Outputs echo every input, defaults filled in; output fields are there unless optional.
  const defaulted = Object.entries(inputs.properties ?? {}).filter(([, s]) => s.default !== undefined).map(([k]) => k);
  const required = [...new Set([...(inputs.required ?? []), ...defaulted, ...(outputs.required ?? [])])];
  return { ...(docs[""] ? { description: docs[""] } : {}), inputProperties, requiredInputs, properties, required };
}

function toJson(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return z.toJSONSchema(schema, { io, unrepresentable: "any", cycles: "ref", reused: "inline" }) as JsonSchema;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The object types the resources share, by token; the same shape found twice is one type. */
class Types {
  readonly specs: Record<string, Json> = {};
  constructor(private readonly docs: SdkDocs) {}

  /** A `$ref` to the named object type made of `schema` (whose `$defs` and `#` refs are resolved here). */
  ref(root: JsonSchema, name: string): Json {
    return this.named(root, name, root);
  }

  /** A property's type spec, from its JSON Schema; objects with fields become named types called `name`. */
  property(schema: JsonSchema, name: string, root: JsonSchema = schema): Json {
    const description = typeof schema.description === "string" ? { description: schema.description } : {};
    if (typeof schema.$ref === "string") return { ...this.resolve(schema.$ref, root, name), ...description };
    if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
      const members = (schema.anyOf ?? schema.oneOf) as JsonSchema[];
      // JSON of any shape (e.g. Rollback's `triggers` items): Pulumi's Any.
      if (members.some((m) => m.type === "object" && !m.properties)) return { $ref: "pulumi.json#/Any", ...description };
      return { oneOf: members.map((m, i) => this.property(m, `${name}${i}`, root)), ...description };
    }
    if (Array.isArray(schema.type)) {
      return { oneOf: schema.type.map((t) => this.property({ ...schema, type: t, description: undefined }, name, root)), ...description };
    }
    const enumNote = Array.isArray(schema.enum) ? { description: [schema.description, `One of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}.`].filter(Boolean).join(" ") } : {};
    const dflt = ["string", "number", "integer", "boolean"].includes(schema.type as string) && schema.default !== undefined ? { default: schema.default } : {};
    switch (schema.type) {
      case "string": case "number": case "integer": case "boolean":
        return { type: schema.type, ...description, ...enumNote, ...dflt };
      case "array":
        return { type: "array", items: this.property((schema.items ?? {}) as JsonSchema, name, root), ...description };
      case "object":
        // A type's name: its zod `.meta({ title })`, else the property's place (e.g. VmDiskQcow2).
        if (schema.properties) return { ...this.named(schema, typeof schema.title === "string" ? schema.title : name, root), ...description };
        return { type: "object", additionalProperties: this.property((schema.additionalProperties ?? {}) as JsonSchema, name, root), ...description };
      default:
        return { $ref: "pulumi.json#/Any", ...description };
    }
  }

  private resolve(ref: string, root: JsonSchema, name: string): Json {
    if (ref === "#") return this.named(root, name, root);
    const def = ref.startsWith("#/$defs/") ? (root.$defs as Record<string, JsonSchema> | undefined)?.[ref.slice(8)] : undefined;
    if (!def) throw new Error(`schema: cannot resolve ${ref}`);
    return this.property(def, name, root);
  }

  private named(schema: JsonSchema, name: string, root: JsonSchema): Json {
    // By field names: the connection met inside a kind (its proxy a `$defs` ref) is the connection met alone.
    const key = JSON.stringify([Object.keys(schema.properties ?? {}), schema.required ?? []]);
    const existing = Object.entries(this.specs).find(([, s]) => s.__key === key);
    if (existing) return { $ref: `#/types/${existing[0]}` };
    const tok = token(name);
    const ref = { $ref: `#/types/${tok}` };
    const spec: Json = { type: "object", properties: {}, __key: key };
    this.specs[tok] = spec; // before the fields, so a recursive field finds it
    const properties: Json = {};
    for (const [field, s] of Object.entries(schema.properties ?? {})) {
      const p = this.property(s, `${name}${capitalize(field)}`, root);
      if (name === "Connection" && CREDENTIALS.includes(field)) p.secret = true;
      const doc = this.docs[name]?.[field];
      if (p.description === undefined && doc) p.description = doc;
      properties[field] = p;
    }
    spec.properties = properties;
    const required = (schema.required ?? []).filter((k) => k in properties);
    if (required.length) spec.required = required;
    const about = typeof schema.description === "string" ? schema.description : this.docs[name]?.[""];
    if (about) spec.description = about;
    return ref;
  }
}

/** The schema without the bookkeeping of `Types`, as the plugin serves it. */
export function schemaText(version: string): string {
  return JSON.stringify(packageSchema(version), (k, v) => (k === "__key" ? undefined : v));
}
