import type * as pulumi from "@pulumi/pulumi";

/**
 * The provider object Pulumi serializes into every resource's state (`__provider`). It holds no code of ours
 * but a `require` of the installed package at call time, so it stays a few hundred bytes whatever the size of
 * the project, captures nothing that cannot be serialized, and delete/refresh always run the installed code.
 */
export function serializedProvider(type: string): pulumi.dynamic.ResourceProvider {
  const load = () => require("pulumi-lvm/provider").providerFor(type) as pulumi.dynamic.ResourceProvider;
  return {
    check: (olds, news) => load().check!(olds, news),
    diff: (id, olds, news) => load().diff!(id, olds, news),
    create: (inputs) => load().create(inputs),
    read: (id, props) => load().read!(id, props),
    update: (id, olds, news) => load().update!(id, olds, news),
    delete: (id, props) => load().delete!(id, props),
  };
}
