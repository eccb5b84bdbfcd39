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

let installed: Promise<string> | undefined;

/**
 * This package as a user gets it: `npm pack` of the built repository, installed with its dependencies into a
 * directory of its own (from npm's cache: nothing new is fetched once `npm ci` ran). Made once per process (the e2e
 * files share it) and removed when it exits; the folder of the installed package, the plugin folder, is returned.
 */
export function packedInstall(): Promise<string> {
  return (installed ??= (async () => {
    const repo = path.resolve(__dirname, "..", "..", "..");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-lvm-packed-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    const npm = async (args: string[], cwd: string) =>
      (await promisify(execFile)("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" })).stdout;
    // dist/ is built already (npm test builds first): skip prepack's second compile.
    const tarball = (await npm(["pack", "--ignore-scripts", "--pack-destination", dir], repo)).trim().split("\n").pop()!;
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "packed-install", private: true }));
    // --ignore-scripts: the only install script among the dependencies builds ssh2's optional native crypto.
    await npm(["install", "--prefer-offline", "--omit=dev", "--ignore-scripts", path.join(dir, tarball)], dir);
    return path.join(dir, "node_modules", "pulumi-lvm");
  })());
}
