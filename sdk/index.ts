export { ConnectionArgs } from "./connection";
export { VolumeGroup, VolumeGroupArgs, PhysicalVolume } from "./volumeGroup";
export { ThinPool, ThinPoolArgs } from "./thinPool";
export { VmDisk, VmDiskArgs, Qcow2Args, DiskSourceArgs } from "./vmDisk";
export { QuiesceArgs } from "./quiesce";
export { Snapshot, SnapshotArgs, snapshotChain } from "./snapshot";
export { Rollback, RollbackArgs } from "./rollback";
export { DiskExport, DiskExportArgs } from "./diskExport";
