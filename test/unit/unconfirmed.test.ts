// A create whose outcome the client never heard (provider/glue/unconfirmed.ts), through both faces' glue, with a toy
// kind on a host that runs nothing: the partial state the engine keeps, then the update, refresh and delete of it.
import * as assert from "assert";
import { z } from "zod";
import { HostCommandError, Script } from "../../provider/command";
import { dynamicProvider } from "../../provider/dynamic/provider";
import { UNCONFIRMED } from "../../provider/glue/unconfirmed";
import { HostSession, ResourceKind } from "../../provider/resource";
import { Connection, ConnectionSchema } from "../../provider/ssh";
import { CONNECTION } from "../support/noHost";

type ToyInputs = { connection: Connection; name: string; keep: boolean };
type ToyOutputs = ToyInputs & { made: string };

const lost = (changesHost: boolean) => new HostCommandError("root@192.0.2.10:22", "create toy", "connection", "lvcreate", null,
  "the connection was lost while the script was running", changesHost);

/** A kind whose create fails as `failure` says, recording what the glue asks of it. */
function toyKind(failure: () => Error | undefined, onHost: Map<string, ToyOutputs>) {
  const calls: string[] = [];
  const kind: ResourceKind<ToyInputs, ToyOutputs> = {
    type: "Toy",
    inputs: z.object({ connection: ConnectionSchema, name: z.string(), keep: z.boolean().default(false) }).strict(),
    outputs: z.object({ made: z.string() }),
    replaceOn: ["name"],
    stateOnly: ["keep"],
    id: (i) => `192.0.2.10:22/${i.name}`,
    async create(_h, i) {
      calls.push(`create ${i.name}`);
      const e = failure();
      if (e) throw e;
      return { ...i, made: "now" };
    },
    async finishCreate(_h, i) {
      calls.push(`finishCreate ${i.name}`);
      return onHost.get(i.name) ?? { ...i, made: "again" };
    },
    async read(_h, o) { calls.push(`read ${o.name}`); return o; },
    async update(_h, _o, n) { calls.push(`update ${n.name}`); return { ...n, made: "updated" }; },
    async delete(_h, o) { calls.push(`delete ${o.name} keep=${o.keep} made=${o.made}`); },
    async importFrom(_h, path) { calls.push(`importFrom ${path}`); return onHost.get(path); },
  };
  return { kind, calls };
}

const host: HostSession = {
  target: "root@192.0.2.10:22",
  run: async (_s: Script) => { throw new Error("the toy kind runs no script"); },
  capabilities: async () => ({}) as never,
};
const inputs = { connection: CONNECTION, name: "disk", keep: true };
const STUB = "exports.handler = () => {};"; // the dynamic face's serialized provider, which must stay in the state

async function partialStateOf(kind: ResourceKind<ToyInputs, ToyOutputs>) {
  const provider = dynamicProvider(kind, () => host);
  const e = await provider.create({ ...inputs, __provider: STUB }).then(() => assert.fail("the create must fail"), (x: Error) => x);
  return { provider, e: e as Error & { id?: string; properties?: Record<string, unknown>; reasons?: string[] } };
}

describe("a create whose outcome is unknown (no host contacted)", () => {
  it("fails with the object's ID and its inputs as partial state, marked unconfirmed, the __provider kept, no secret in its text", async () => {
    const { kind } = toyKind(() => lost(true), new Map());
    const { e } = await partialStateOf(kind);
    assert.strictEqual(e.id, "192.0.2.10:22/disk");
    assert.strictEqual(e.properties![UNCONFIRMED], true);
    assert.strictEqual(e.properties!.__provider, STUB);
    assert.strictEqual(e.properties!.name, "disk");
    const connection = e.properties!.connection as Record<string, unknown>;
    assert.deepStrictEqual([connection.host, connection.port, connection.user], ["192.0.2.10", 22, "root"], "the partial state is the resource's, as outputs are");
    assert.match(e.message, /the connection was lost while the script was running/);
    assert.match(e.message, /kept in the state as an unconfirmed create: the next pulumi up finds what it left on the host and finishes it/);
    assert.ok(!e.message.includes("secret-key-material") && !(e.reasons ?? []).join().includes("secret-key-material"));
  });

  it("fails plainly when nothing that changes the host was sent, or the kind cannot finish a create", async () => {
    for (const [what, failure, finishes] of [
      ["a lost read-only script", () => lost(false), true],
      ["a refusal", () => new HostCommandError("root@192.0.2.10:22", "create toy", "refused", undefined, null, "exists already"), true],
      ["a kind without finishCreate", () => lost(true), false],
    ] as const) {
      const { kind } = toyKind(failure, new Map());
      if (!finishes) delete kind.finishCreate;
      const { e } = await partialStateOf(kind);
      assert.strictEqual(e.id, undefined, what);
      assert.strictEqual(e.properties, undefined, what);
    }
  });

  it("next up: the diff shows an update, which finishes the create and records what it took", async () => {
    const onHost = new Map([["disk", { ...inputs, connection: CONNECTION as Connection, made: "before the cut" }]]);
    const { kind, calls } = toyKind(() => lost(true), onHost);
    const { provider, e } = await partialStateOf(kind);
    const diff = await provider.diff!(e.id!, e.properties!, { ...inputs, __provider: STUB });
    assert.strictEqual(diff.changes, true);
    assert.deepStrictEqual(diff.replaces, []);
    const { outs } = await provider.update!(e.id!, e.properties!, { ...inputs, __provider: STUB });
    assert.strictEqual(outs.made, "before the cut");
    assert.strictEqual(outs[UNCONFIRMED], undefined);
    assert.deepStrictEqual(calls, ["create disk", "finishCreate disk"]);
  });

  it("refresh keeps the record as it is; delete removes what the ID finds, with the program's opt-ins, or nothing", async () => {
    const onHost = new Map([["disk", { ...inputs, connection: CONNECTION as Connection, keep: false, made: "before the cut" }]]);
    const { kind, calls } = toyKind(() => lost(true), onHost);
    const { provider, e } = await partialStateOf(kind);
    const read = await provider.read!(e.id!, e.properties!);
    assert.deepStrictEqual(read, { id: e.id, props: e.properties });
    await provider.delete!(e.id!, e.properties!);
    onHost.clear();
    await provider.delete!(e.id!, e.properties!);
    assert.deepStrictEqual(calls, ["create disk", "importFrom disk", "delete disk keep=true made=before the cut", "importFrom disk"]);
  });
});
