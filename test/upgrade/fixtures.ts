import * as fs from "fs";
import * as path from "path";
import { ResourceState, StackState } from "../engine/state";
import { TestHost } from "../host/testHost";

/**
 * Upgrade fixtures: the state a release wrote, kept in the repository, one file per resource (`<Kind>-<name>.json`,
 * the resource's entry in the state file, secrets decrypted but still wrapped as secrets), plus `host.json`, the
 * recipe that recreates on a fresh guest the objects that state describes: the very scripts that release sent to the
 * host (recorded on the guest as they started), and the test's own data writes, in the order they ran.
 *
 * Scrubbed: what depends on the guest that recorded them is a placeholder, put back for the guest a test runs on —
 * the private key, the host key and the SSH port (in the connection, in IDs such as `127.0.0.1:<port>/upgrade`, and
 * in what the scripts write on the host, e.g. an export's marker). No fixture holds a key.
 */
export const FIXTURES = path.resolve(__dirname, "..", "..", "..", "test", "upgrade", "fixtures");

export interface Recipe {
  /** The release that wrote the fixtures, and the program they come from (test/upgrade/stack.ts). */
  release: string;
  devices: string[];
  /** Resource files in the state's order (dependencies first). */
  order: string[];
  outputs: Record<string, unknown>;
  /** `script`: a script the release ran (as `sh -s`, its text); `test`: a command the recorder ran itself. */
  steps: Array<{ script: string } | { test: string }>;
}

const PLACEHOLDERS = { privateKey: "@@PRIVATE_KEY@@", hostKey: "@@HOST_KEY@@", port: "@@PORT@@" };

/** Replaces what belongs to guest `h` by placeholders, in any JSON-able value. */
export function scrub<T>(value: T, h: TestHost): T {
  let text = JSON.stringify(value)
    .split(JSON.stringify(h.privateKey).slice(1, -1)).join(PLACEHOLDERS.privateKey)
    .split(JSON.stringify(h.hostKey).slice(1, -1)).join(PLACEHOLDERS.hostKey)
    .split(`"port":${h.port}`).join(`"port":"${PLACEHOLDERS.port}"`)
    .split(`${h.host}:${h.port}`).join(`${h.host}:${PLACEHOLDERS.port}`);
  if (/PRIVATE KEY/.test(text)) throw new Error("a private key is left in the fixture");
  return JSON.parse(text) as T;
}

/** The inverse of scrub, for guest `h`. */
export function restore<T>(value: T, h: TestHost): T {
  const text = JSON.stringify(value)
    .split(PLACEHOLDERS.privateKey).join(JSON.stringify(h.privateKey).slice(1, -1))
    .split(PLACEHOLDERS.hostKey).join(JSON.stringify(h.hostKey).slice(1, -1))
    .split(`"port":"${PLACEHOLDERS.port}"`).join(`"port":${h.port}`)
    .split(PLACEHOLDERS.port).join(String(h.port));
  return JSON.parse(text) as T;
}

/** Writes the fixtures of `release`; `label` names each resource's file (its kind and variant). */
export function writeFixtures(release: string, state: StackState, recipe: Omit<Recipe, "order" | "outputs" | "release">,
  h: TestHost, label: (r: ResourceState) => string): string {
  const dir = path.join(FIXTURES, release);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const order: string[] = [];
  for (const r of state.resources) {
    const file = `${label(r)}.json`;
    order.push(file);
    fs.writeFileSync(path.join(dir, file), JSON.stringify(scrub(r, h), null, 2) + "\n");
  }
  const host: Recipe = { release, ...recipe, order, outputs: state.outputs };
  fs.writeFileSync(path.join(dir, "host.json"), JSON.stringify(scrub(host, h), null, 2) + "\n");
  return dir;
}

/** The fixtures of `release`, for guest `h`: the stack's state and the recipe. */
export function readFixtures(release: string, h: TestHost): { state: StackState; recipe: Recipe } {
  const dir = path.join(FIXTURES, release);
  const recipe = restore(JSON.parse(fs.readFileSync(path.join(dir, "host.json"), "utf8")) as Recipe, h);
  const resources = recipe.order.map((f) => restore(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as ResourceState, h));
  return { state: { resources, outputs: recipe.outputs }, recipe };
}
