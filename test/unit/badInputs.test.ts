// The bad input corpus through each kind's check, with a host resolver that fails the test if anything tries to
// reach a host: every case alone (its failure worded for a user: the field named, the value shown, no secret, none of
// zod's own phrasing), through the plugin face too, every bundle the e2e test sends as one resource, and the changes
// refused from the state.
import * as assert from "assert";
import { kinds, KindName } from "../../provider";
import { pluginProvider } from "../../provider/plugin/provider";
import { BAD_CHANGES, BAD_INPUTS, BadInput, Bundle, bundles, checkWithoutHost, HOST_DECIDED, inputsOf, mismatches, VALID } from "../support/badInputs";
import { CONNECTION, noHost } from "../support/noHost";

/**
 * How zod words a problem itself (zod 4's en locale, and zod 3's phrases): none of it may reach a user, who is told
 * instead what the field allows and what was given.
 */
const ZOD_PHRASES = [
  /Invalid input/, /Invalid option/, /\bInvalid (string|number|key|value|element|discriminator|enum|type|date|literal|union|arguments|return)/,
  /^Invalid /, /Unrecognized keys?\b/, /Too (small|big)/, /\breceived\b/, /^Required$/, /Expected \w+, received/, /\bExpected /,
  /expected one of .*\|/, /(String|Number|Array) must (contain|be)/, /more than one option matched/, /must match pattern/,
];

/** Connection fields whose values are no secret. */
const PLAIN_CONNECTION_FIELDS = ["host", "port", "user", "agentSocketPath", "hostKey", "insecureSkipHostKeyCheck", "knownHostsPath", "proxy", "sudo",
  "connectTimeoutSeconds", "commandTimeoutSeconds"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What a case must never show: every value of a connection field that is no plain one (a password, a private key,
 * one under a misspelt key), anywhere in the connection; a password or key beside the inputs; a connection given as
 * text; and the valid connection's own private key.
 */
function secretsOf(c: BadInput): string[] {
  const inConnection = (o: unknown): unknown[] => (!isObject(o) ? [] : Object.entries(o).flatMap(([k, v]) =>
    (k === "proxy" ? inConnection(v) : PLAIN_CONNECTION_FIELDS.includes(k) ? [] : [v])));
  const known = Object.keys(kinds[c.kind].inputs.shape);
  const unknownTop = Object.entries(c.inputs ?? {}).filter(([k]) => !known.includes(k) && /pass|key/i.test(k)).map(([, v]) => v);
  const connection = c.inputs && "connection" in c.inputs ? [c.inputs.connection] : [];
  return [...inConnection(c.connection), ...unknownTop, ...connection, CONNECTION.privateKey]
    .flatMap((v) => (typeof v === "string" ? [v] : typeof v === "number" ? [String(v)] : Array.isArray(v) ? v.map(String) : []))
    .map((v) => (v.includes("\n") ? v.split("\n").find((line) => line.includes("secret")) ?? v : v))
    .filter((v) => v.length >= 4);
}

/**
 * The value a case gave the field its failure names, and whether a message may show it (undefined: none given): not
 * a secret, not one holding a secret, not the value of a key the schema does not know.
 */
function givenValue(c: BadInput): { value: unknown; showable: boolean } {
  const path = c.expected.property.split(".");
  const inputs = { ...c.inputs, ...(c.connection ? { connection: { ...c.connection } } : {}) };
  let value: unknown = inputs;
  for (const key of path) value = isObject(value) || Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  const last = path[path.length - 1];
  const secret = path[0] === "connection" && (path.length === 1 || !PLAIN_CONNECTION_FIELDS.includes(last));
  const unknownKey = /unknown key /.test(c.expected.reason.source);
  const holdsSecret = secretsOf(c).some((x) => JSON.stringify(value ?? null).includes(x));
  return { value, showable: !secret && !unknownKey && !holdsSecret };
}

/** How many fields a case spoils: one alone breaks a rule of its own, whose message shows the value given. */
const spoiled = (c: BadInput) => {
  const leaves = (o: Record<string, unknown>): number => Object.values(o).reduce<number>((n, v) => n + (isObject(v) && Object.keys(v).length > 0 ? leaves(v) : 1), 0);
  return leaves(c.inputs ?? {}) + leaves(c.connection ?? {});
};

/** The value as a message shows it (the start of it, for a long one). */
const asShown = (v: unknown) => (typeof v === "number" ? String(v) : JSON.stringify(v).slice(0, 40));

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

  it("words every failure for a user: the field named, the value given shown (never a secret), no zod phrasing", async () => {
    let checked = 0;
    const problems: string[] = [];
    for (const c of BAD_INPUTS) {
      const found = await checkWithoutHost(c.kind, inputsOf(c.kind, c.inputs ?? {}, CONNECTION, c.connection));
      const { value, showable } = givenValue(c);
      const secrets = secretsOf(c);
      for (const f of found) {
        const where = `${c.kind}: ${c.what}: ${f.property}: ${f.reason}`;
        const field = f.property.split(".")[0];
        if (!(field in kinds[c.kind].inputs.shape) && !(field in (c.inputs ?? {}))) problems.push(`names no field of the inputs: ${where}`);
        for (const phrase of ZOD_PHRASES) if (phrase.test(f.reason)) problems.push(`zod's phrasing ${phrase}: ${where}`);
        for (const secret of secrets) if (f.reason.includes(secret)) problems.push(`shows the secret ${JSON.stringify(secret)}: ${where}`);
      }
      const own = found.find((f) => f.property === c.expected.property);
      if (own && value !== undefined && value !== null && showable && spoiled(c) === 1) {
        checked++;
        if (!own.reason.includes(asShown(value))) problems.push(`does not show ${asShown(value)}: ${c.kind}: ${c.what}: ${own.reason}`);
      }
      if (own && (value === undefined || value === null) && !/^(required: |none given: |.* is required: )/.test(own.reason)) problems.push(`a missing field not said to be required: ${own.reason}`);
    }
    assert.deepStrictEqual(problems, []);
    assert.ok(checked >= 130, `the value shown checked in ${checked} cases`);
  });

  it("has cases of every sort for every kind: a missing field, a wrong type, a misspelt key, a decimal size, a bad name", () => {
    const sorts: Record<string, (c: BadInput) => boolean> = {
      missing: (c) => Object.values(c.inputs ?? {}).includes(undefined),
      "wrong type": (c) => /expected .*, got /.test(c.expected.reason.source.replace(/\\/g, "")) || /must be (true or false|a number|a string)/.test(c.expected.reason.source),
      "misspelt key": (c) => /did you mean/.test(c.expected.reason.source),
      "decimal size": (c) => /decimal units/.test(c.expected.reason.source),
      "bad name": (c) => /name (may contain only|must not)/.test(c.expected.reason.source),
    };
    const missing = Object.keys(kinds).flatMap((kind) => Object.entries(sorts)
      .filter(([sort, is]) => !(kind === "Rollback" && sort === "decimal size") && !BAD_INPUTS.some((c) => c.kind === kind && is(c)))
      .map(([sort]) => `${kind}: ${sort}`));
    assert.deepStrictEqual(missing, [], "Rollback alone has no size");
  });

  it("the plugin face reports the same failures, and without any connection says where to give one", async () => {
    const plugin = pluginProvider("0.1.0", {}, noHost);
    for (const c of BAD_INPUTS) {
      const inputs = inputsOf(c.kind, c.inputs ?? {}, CONNECTION, c.connection);
      const found = (await plugin.check!(`urn:pulumi:test::p::lvm:index:${c.kind}::r`, {}, inputs)).failures ?? [];
      assert.deepStrictEqual(found, await checkWithoutHost(c.kind, inputs), `${c.kind}: ${c.what}`);
    }
    const { connection: _, ...bare } = inputsOf("VmDisk", {}, CONNECTION);
    const found = (await plugin.check!("urn:pulumi:test::p::lvm:index:VmDisk::r", {}, bare)).failures ?? [];
    assert.deepStrictEqual(found.map((f) => f.property), ["connection"]);
    assert.match(found[0].reason, /^none given: set connection on the resource, or .*pulumi config set --path lvm:connection\.host <host>.*\(new lvm\.Provider\("p", \{ connection: /);
    const configured = pluginProvider("0.1.0", { connection: CONNECTION }, noHost);
    assert.deepStrictEqual((await configured.check!("urn:pulumi:test::p::lvm:index:VmDisk::r", {}, bare)).failures, []);
  });

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
