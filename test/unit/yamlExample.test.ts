import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { schemaText } from "../../provider/plugin/schema";
import { readmeBlock } from "../support/readme";

// js-yaml comes with @pulumi/pulumi (its dependency), as Pulumi reads its own YAML.
const yaml = require("js-yaml") as { load(text: string): unknown };
type Json = Record<string, any>;

/**
 * YAML programs as the plugin's schema sees them (no Pulumi YAML runtime here, so their resources are checked against
 * it): examples/yaml, and the README's YAML quick start as a user pastes it.
 */
const PROGRAMS: [string, () => string][] = [
  ["examples/yaml", () => fs.readFileSync(path.resolve(__dirname, "../../../examples/yaml/Pulumi.yaml"), "utf8")],
  ["the README's YAML quick start", () => readmeBlock("quick-start-yaml")],
];

for (const [what, read] of PROGRAMS) {
  describe(`${what} against the plugin's schema`, () => {
    const text = read();
    const program = yaml.load(text) as Json;
    const schema = JSON.parse(schemaText("0.1.0")) as Json;

    it("uses the plugin's types, with inputs that exist and every required one given", () => {
      const used = Object.values<Json>(program.resources).map((r) => r.type);
      assert.deepStrictEqual(used, ["lvm:index:VolumeGroup", "lvm:index:VmDisk", "lvm:index:Snapshot"]);
      for (const [name, r] of Object.entries<Json>(program.resources)) {
        const spec = schema.resources[r.type];
        for (const k of Object.keys(r.properties)) assert.ok(k in spec.inputProperties, `${name}: ${k} is not an input of ${r.type}`);
        for (const k of spec.requiredInputs) assert.ok(k in r.properties, `${name}: required input ${k} is missing`);
        assert.ok(!("connection" in r.properties), "the connection comes from the provider's config");
      }
    });

    it("reads only outputs the resources have", () => {
      for (const [, resource, field] of text.matchAll(/\$\{(\w+)\.(\w+)\}/g)) {
        const r = program.resources[resource];
        assert.ok(r, `${resource} is not a resource`);
        assert.ok(field in schema.resources[r.type].properties, `${resource}.${field} is not an output of ${r.type}`);
      }
    });
  });
}
