// The bad input corpus through each kind's check, with a host resolver that fails the test if anything tries to
// reach a host: every case alone, every bundle the e2e test sends as one resource, and the changes refused from
// the state.
import * as assert from "assert";
import { kinds, KindName } from "../../provider";
import { BAD_CHANGES, BAD_INPUTS, Bundle, bundles, checkWithoutHost, HOST_DECIDED, inputsOf, mismatches, VALID } from "../support/badInputs";
import { CONNECTION } from "../support/noHost";

const shown = (failures: ReadonlyArray<{ property?: string; reason: string }>) => failures.map((f) => `${f.property}: ${f.reason}`).join("\n");

describe("Bad input corpus (check, no host contacted)", () => {
  it("has at least 80 cases, for every kind and for the connection", () => {
    assert.ok(BAD_INPUTS.length >= 80, `${BAD_INPUTS.length} cases`);
    for (const kind of Object.keys(kinds)) assert.ok(BAD_INPUTS.some((c) => c.kind === kind), `no case for ${kind}`);
    assert.ok(BAD_INPUTS.filter((c) => c.connection || "connection" in (c.inputs ?? {})).length >= 10, "connection cases");
    const titles = BAD_INPUTS.map((c) => `${c.kind}: ${c.what}`);
    assert.deepStrictEqual(titles.filter((t, i) => titles.indexOf(t) !== i), [], "every case has its own title");
  });

  it("starts from inputs every kind accepts", async () => {
    for (const kind of Object.keys(VALID) as KindName[]) assert.deepStrictEqual(await checkWithoutHost(kind, inputsOf(kind, {}, CONNECTION)), [], kind);
  });

  for (const c of BAD_INPUTS) {
    it(`${c.kind} refuses ${c.what}, naming ${c.expected.property}`, async () => {
      const found = await checkWithoutHost(c.kind, inputsOf(c.kind, c.inputs ?? {}, CONNECTION, c.connection));
      assert.deepStrictEqual(mismatches(found, [c.expected]), [], shown(found));
    });
  }

  it("packs every case into a bundle of its kind, each reporting every one of its cases' failures", async () => {
    const packed: Bundle[] = await bundles();
    const packedCases = packed.flatMap((b) => b.cases);
    assert.ok(packedCases.length === BAD_INPUTS.length && BAD_INPUTS.every((c) => packedCases.includes(c)), "each case once");
    for (const b of packed) {
      assert.ok(b.cases.every((c) => c.kind === b.kind));
      const found = await checkWithoutHost(b.kind, inputsOf(b.kind, b.inputs, CONNECTION, b.connection));
      assert.deepStrictEqual(mismatches(found, b.expected), [], shown(found));
    }
    assert.ok(packed.length <= BAD_INPUTS.length / 2, `${packed.length} bundles for ${BAD_INPUTS.length} cases`);
  });

  for (const c of BAD_CHANGES) {
    it(`${c.kind} refuses ${c.what}, from the previous inputs`, async () => {
      const olds = inputsOf(c.kind, c.olds, CONNECTION);
      const found = await checkWithoutHost(c.kind, { ...olds, ...c.news }, olds);
      assert.deepStrictEqual(mismatches(found, c.expected), [], shown(found));
      assert.deepStrictEqual(await checkWithoutHost(c.kind, olds, olds), [], "the unchanged inputs pass");
    });
  }

  for (const c of HOST_DECIDED) {
    it(`${c.kind} accepts ${c.what}: only the host can refuse it`, async () => {
      assert.deepStrictEqual(await checkWithoutHost(c.kind, inputsOf(c.kind, c.inputs, CONNECTION)), []);
    });
  }
});
