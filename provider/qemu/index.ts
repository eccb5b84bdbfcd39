export { ImageInfo, infoArgv, INFO_IF_PRESENT, parseImageInfo } from "./info";
export { Measurement, measureArgv, parseMeasure } from "./measure";
export { PREALLOCATIONS, Preallocation, Qcow2Options, qcow2OptionString } from "./options";
export { readImageInfo } from "./hostImages";
