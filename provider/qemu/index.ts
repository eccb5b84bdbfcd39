export { ChainImage, ChainRead, CHAIN_INFO, ImageInfo, infoArgv, INFO_IF_PRESENT, parseImageChain, parseImageInfo } from "./info";
export { Measurement, measureArgv, measureQcow2, parseMeasure } from "./measure";
export { PREALLOCATIONS, Preallocation, Qcow2Options, qcow2OptionString } from "./options";
export { readImageChain, readImageInfo } from "./hostImages";
