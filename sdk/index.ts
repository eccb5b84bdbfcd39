export { ConnectionArgs } from "./connection";
export { VolumeGroup, VolumeGroupArgs, PhysicalVolume } from "./volumeGroup";
