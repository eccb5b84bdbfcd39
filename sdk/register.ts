import * as pulumi from "@pulumi/pulumi";
import { serializedProvider } from "./stub";

/**
 * What every pulumi-lvm resource passes to `pulumi.dynamic.Resource`: the serialized stub, the inputs with
 * the connection marked secret (it carries keys and passwords, and is copied into outputs), and the output
 * names declared so they appear on the resource object.
 */
export function registration(type: string, args: object & { connection: unknown }, outputNames: readonly string[],
  opts: pulumi.CustomResourceOptions | undefined) {
  const props: Record<string, unknown> = Object.fromEntries(outputNames.map((n) => [n, undefined]));
  Object.assign(props, args, { connection: pulumi.secret(args.connection) });
  return {
    provider: serializedProvider(type),
    props,
    opts: { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
  };
}
