import type * as pulumi from "@pulumi/pulumi";
import { HostResolver, kindOperations, UNKNOWN, validate } from "../glue/operations";
import { BaseInputs, ResourceKind } from "../resource";

export { HostResolver, UNKNOWN, validate };

/**
 * A kind as the object Pulumi's dynamic-provider plugin calls: the shared glue (glue/operations.ts), with the one
 * thing only this face has taken off, the serialized provider every resource carries in its inputs (`__provider`).
 * The plugin sends plain values (its Configure refuses secrets), so nothing else needs translating.
 */
export function dynamicProvider<I extends BaseInputs, O extends I>(
  kind: ResourceKind<I, O>, resolveHost?: HostResolver,
): pulumi.dynamic.ResourceProvider {
  const ops = kindOperations(kind, resolveHost);
  return {
    check: (olds, news) => {
      const { __provider: _, ...sent } = news;
      return ops.check(olds, sent);
    },
    diff: (id, olds, news) => ops.diff(id, olds, news),
    create: (inputs) => ops.create(inputs),
    read: (id, props) => ops.read(id, props),
    update: (id, olds, news) => ops.update(id, olds, news),
    delete: (id, props) => ops.delete(id, props),
  };
}
