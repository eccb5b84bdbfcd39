export { VgName, LvName, Tag, Tags, DevicePath, vgNameProblem, lvNameProblem, lvInVgProblem, validVgAndLv, SnapshotName } from "./names";
export { Size, PositiveSize, SizeOrPercent, parseSize, isPowerOfTwo, roundUpToExtent, resolveSize, formatBytes } from "./sizes";
export { hostFilePathProblem } from "./paths";
export { hinted, parseInput, shown } from "./messages";
