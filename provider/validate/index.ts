export { VgName, LvName, Tag, Tags, DevicePath, vgNameProblem, lvNameProblem, SnapshotName } from "./names";
export { Size, PositiveSize, SizeOrPercent, parseSize, isPowerOfTwo, roundUpToExtent, resolveSize, formatBytes } from "./sizes";
