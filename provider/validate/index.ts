export { VgName, LvName, Tag, Tags, DevicePath, vgNameProblem, lvNameProblem } from "./names";
export { Size, PositiveSize, SizeOrPercent, parseSize, isPowerOfTwo, roundUpToExtent, resolveSize, formatBytes } from "./sizes";
