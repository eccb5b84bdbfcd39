import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { kinds } from "../../provider";
import { ResourceKind } from "../../provider/resource";
import { schemaText } from "../../provider/plugin/schema";

type Json = Record<string, any>;
const metaschema = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../test/fixtures/pulumi/pulumi.json"), "utf8"));
const schema: Json = JSON.parse(schemaText("0.1.0"));
const allKinds = Object.values(kinds) as ResourceKind<any, any>[];

/** Every `{ $ref }` in a value, with where it was found. */
function refs(v: unknown, at = "#"): [string, string][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => refs(x, `${at}/${i}`));
  if (!v || typeof v !== "object") return [];
  return Object.entries(v).flatMap(([k, x]) => (k === "$ref" && typeof x === "string" ? [[at, x] as [string, string]] : refs(x, `${at}/${k}`)));
}

describe("plugin schema: the package schema the provider plugin serves", () => {
  it("is a valid Pulumi package schema by Pulumi's own metaschema (pkg/codegen/schema/pulumi.json)", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const valid = ajv.validate(metaschema, schema);
    assert.ok(valid, JSON.stringify(ajv.errors, null, 2));
  });

  it("names every resource and type with a token Pulumi accepts, lvm:index:<Name>", () => {
    const pattern = /^[a-zA-Z][-a-zA-Z0-9_]*:([^0-9][a-zA-Z0-9._/-]*)?:[^0-9][a-zA-Z0-9._/]*$/;
    assert.deepStrictEqual(Object.keys(schema.resources).sort(),
      ["DiskExport", "Rollback", "Snapshot", "ThinPool", "VmDisk", "VolumeGroup"].map((n) => `lvm:index:${n}`));
    for (const tok of [...Object.keys(schema.resources), ...Object.keys(schema.types)]) {
      assert.match(tok, pattern);
      assert.ok(tok.startsWith("lvm:index:"), tok);
    }
  });

  it("resolves every $ref: to a type of the package, or to Pulumi's Any", () => {
    const found = refs(schema);
    assert.ok(found.length > 10);
    for (const [at, ref] of found) {
      const ok = ref === "pulumi.json#/Any" || (ref.startsWith("#/types/") && ref.slice(8) in schema.types);
      assert.ok(ok, `${at}: ${ref} does not resolve`);
    }
  });

  it("requires only inputs as inputs, and only properties as outputs (types too)", () => {
    for (const [tok, r] of Object.entries<Json>(schema.resources)) {
      for (const k of r.requiredInputs) assert.ok(k in r.inputProperties, `${tok}: required input ${k} is not an input`);
      for (const k of r.required) assert.ok(k in r.properties, `${tok}: required output ${k} is not a property`);
      assert.ok(!r.requiredInputs.includes("connection"), `${tok}: the provider's connection can stand in for it`);
    }
    for (const [tok, t] of Object.entries<Json>(schema.types)) {
      for (const k of t.required ?? []) assert.ok(k in t.properties, `${tok}: required ${k} is not a property`);
    }
  });

  it("is made from the kinds: every input and output field of every kind is in it, and nothing else", () => {
    for (const kind of allKinds) {
      const r = schema.resources[`lvm:index:${kind.type}`];
      const inputs = Object.keys(kind.inputs.shape);
      assert.deepStrictEqual(Object.keys(r.inputProperties).sort(), [...inputs].sort(), kind.type);
      assert.deepStrictEqual(Object.keys(r.properties).sort(), [...new Set([...inputs, ...Object.keys(kind.outputs.shape)])].sort(), kind.type);
    }
  });

  it("marks the connection secret, and its credentials inside it, in inputs, outputs and config", () => {
    for (const r of Object.values<Json>(schema.resources)) {
      assert.strictEqual(r.inputProperties.connection.secret, true);
      assert.strictEqual(r.properties.connection.secret, true);
      assert.strictEqual(r.inputProperties.connection.$ref, "#/types/lvm:index:Connection");
    }
    assert.strictEqual(schema.config.variables.connection.secret, true);
    const c = schema.types["lvm:index:Connection"].properties;
    for (const k of ["password", "privateKey", "privateKeyPassword"]) assert.strictEqual(c[k].secret, true, k);
    for (const k of ["host", "port", "user", "hostKey"]) assert.strictEqual(c[k].secret, undefined, k);
    assert.strictEqual(c.proxy.$ref, "#/types/lvm:index:Connection", "a jump host is a connection too");
  });

  it("describes resources and fields with the TypeScript SDK's own docs (extracted at build), the kinds' where it has none", () => {
    for (const [tok, r] of Object.entries<Json>(schema.resources)) assert.ok(r.description, `${tok} has a description`);
    assert.match(schema.resources["lvm:index:VmDisk"].inputProperties.size.description, /grow in place .*shrinking is refused/);
    assert.match(schema.types["lvm:index:Connection"].properties.hostKey.description, /SHA256:/);
    assert.match(schema.resources["lvm:index:VmDisk"].properties.lvSizeBytes.description, /qemu-img's fully-allocated measure/);
  });

  it("marks replaceOnChanges exactly on each kind's replaceOn fields", () => {
    for (const kind of allKinds) {
      const r = schema.resources[`lvm:index:${kind.type}`];
      const marked = Object.keys(r.inputProperties).filter((k) => r.inputProperties[k].replaceOnChanges);
      assert.deepStrictEqual(marked.sort(), [...kind.replaceOn].sort(), kind.type);
    }
  });
});
