export { VgName, LvName, Tag, Tags, DevicePath, vgNameProblem, lvNameProblem } from "./names";
export { Size, PositiveSize, parseSize, isPowerOfTwo, roundUpToExtent, formatBytes } from "./sizes";
