export { ConnectionArgs } from "./connection";
export { VolumeGroup, VolumeGroupArgs, PhysicalVolume } from "./volumeGroup";
export { ThinPool, ThinPoolArgs } from "./thinPool";
export { VmDisk, VmDiskArgs, Qcow2Args, DiskSourceArgs } from "./vmDisk";
export { Snapshot, SnapshotArgs, QuiesceArgs, snapshotChain } from "./snapshot";
export { DiskExport, DiskExportArgs } from "./diskExport";
