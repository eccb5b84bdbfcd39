// A source-based provider plugin (a folder with PulumiPlugin.yaml, runtime nodejs), started as the engine has the
// Node language host start one (RunPlugin in sdk/nodejs/cmd/pulumi-language-nodejs/main.go of pulumi/pulumi):
// `node <@pulumi/pulumi resolved from the folder>/cmd/run-plugin <folder> <engine address>`, in the engine's working
// directory, with the stack config of the package's namespace in PULUMI_CONFIG (pkg/host/host.go: bare names).
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Plugin, pulumiModules } from "./plugin";

/** The stack config a provider plugin of `pkg` is started with: its namespace's keys, without the namespace. */
export function packageConfig(pkg: string, config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith(`${pkg}:`)).map(([k, v]) => [k.slice(pkg.length + 1), v]));
}

export async function startSourcePlugin(pluginDir: string, cwd: string, env: Record<string, string>, log: (line: string) => void): Promise<Plugin> {
  if (!fs.existsSync(path.join(pluginDir, "PulumiPlugin.yaml"))) throw new Error(`${pluginDir} has no PulumiPlugin.yaml: it is not a source plugin`);
  const m = pulumiModules(pluginDir);
  const runPlugin = require.resolve("@pulumi/pulumi/cmd/run-plugin", { paths: [pluginDir] });
  return Plugin.launch(`plugin ${path.basename(pluginDir)}`, m, [runPlugin, pluginDir, "127.0.0.1:0"], cwd, env, log);
}

let packed: Promise<string> | undefined;

/**
 * `npm pack` of the built repository, as a release tarball: made once per process (the e2e files share it) in a
 * folder removed when the process exits; its path is returned.
 */
export function packedTarball(): Promise<string> {
  return (packed ??= (async () => {
    const repo = path.resolve(__dirname, "..", "..", "..");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-packed-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    // dist/ is built already (npm test builds first): skip prepack's second compile.
    const tarball = (await npm(["pack", "--ignore-scripts", "--pack-destination", dir], repo)).trim().split("\n").pop()!;
    return path.join(dir, tarball);
  })());
}

/** Runs npm quietly in `cwd` and returns what it printed on stdout. */
export async function npm(args: string[], cwd: string): Promise<string> {
  return (await promisify(execFile)("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" })).stdout;
}

let installed: Promise<string> | undefined;

/**
 * This package as a user gets it: the packed tarball installed with its dependencies into a directory of its own
 * (from npm's cache: nothing new is fetched once `npm ci` ran), beside the @pulumi/pulumi this repository tests with.
 * Made once per process; the folder of the installed package, the plugin folder, is returned.
 */
export function packedInstall(): Promise<string> {
  return (installed ??= (async () => {
    const tarball = await packedTarball();
    const dir = path.dirname(tarball);
    const pulumiVersion = (require("@pulumi/pulumi/package.json") as { version: string }).version;
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "packed-install", private: true }));
    // --ignore-scripts: the only install script among the dependencies builds ssh2's optional native crypto.
    await npm(["install", "--prefer-offline", "--omit=dev", "--ignore-scripts", `@pulumi/pulumi@${pulumiVersion}`, tarball], dir);
    return path.join(dir, "node_modules", "pulumi-lvm");
  })());
}
