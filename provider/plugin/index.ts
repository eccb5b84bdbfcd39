// The entry of pulumi-lvm as a Pulumi provider plugin. The Node language host runs a source plugin as
// `node <@pulumi/pulumi>/cmd/run-plugin <plugin directory> <engine address>`, and run-plugin `require`s that directory:
// package.json's `main` points here (the SDK is what `require("pulumi-lvm")` gets, through `exports`).
import { main } from "@pulumi/pulumi/provider";
import { providerConfig } from "./config";
import { serveConfigure } from "./configure";
import { pluginProvider, reveal } from "./provider";

const { version } = require("../../../package.json") as { version: string };

const config = providerConfig();
serveConfigure(config, reveal);
main(pluginProvider(version, config), process.argv.slice(2)).catch((e) => {
  console.error(`pulumi-lvm provider: ${(e as Error).message}`);
  process.exit(1);
});
