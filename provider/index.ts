import type * as pulumi from "@pulumi/pulumi";
import { dynamicProvider } from "./dynamic/provider";
import type { ResourceKind } from "./resource";
import { diskExport } from "./resources/diskExport";
import { volumeGroup } from "./resources/volumeGroup";
import { vmDisk } from "./resources/vmDisk";
import { snapshot } from "./resources/snapshot";
import { rollback } from "./resources/rollback";
import { thinPool } from "./resources/thinPool";

/** Every resource kind, by its Pulumi type name. */
export const kinds = {
  VolumeGroup: volumeGroup,
  ThinPool: thinPool,
  VmDisk: vmDisk,
  Snapshot: snapshot,
  Rollback: rollback,
  DiskExport: diskExport,
} as const;
export type KindName = keyof typeof kinds;

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

/** The dynamic provider for a kind; what the SDK's serialized stub delegates to, loaded at call time. */
export function providerFor(type: string): pulumi.dynamic.ResourceProvider {
  let provider = providers.get(type);
  if (!provider) {
    const kind = (kinds as Record<string, ResourceKind<any, any>>)[type]; // each kind has its own input type
    if (!kind) throw new Error(`pulumi-lvm has no resource type ${JSON.stringify(type)}`);
    provider = dynamicProvider(kind);
    providers.set(type, provider);
  }
  return provider;
}

export { VolumeGroupInputs, VolumeGroupOutputs } from "./resources/volumeGroup";
export { ThinPoolInputs, ThinPoolOutputs } from "./resources/thinPool";
export { SnapshotInputs, SnapshotOutputs } from "./resources/snapshot";
export { RollbackInputs, RollbackOutputs } from "./resources/rollback";
export { DiskExportInputs, DiskExportOutputs } from "./resources/diskExport";
export { ConnectionArgs, Connection, connectionTarget, hostFor, poolStats, closeAll } from "./ssh";
