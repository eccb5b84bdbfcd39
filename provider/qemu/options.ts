export const PREALLOCATIONS = ["off", "metadata", "falloc", "full"] as const;
export type Preallocation = (typeof PREALLOCATIONS)[number];

/** The creation options of a qcow2 image, as qemu-img's `-o` takes them. An unset cluster size is qemu's (64 KiB). */
export interface Qcow2Options {
  clusterSizeBytes?: number;
  extendedL2: boolean;
  preallocation: Preallocation;
}

/** e.g. "cluster_size=131072,extended_l2=on,preallocation=metadata": the same string for measure and create. */
export function qcow2OptionString(o: Qcow2Options): string {
  return [
    ...(o.clusterSizeBytes !== undefined ? [`cluster_size=${o.clusterSizeBytes}`] : []),
    `extended_l2=${o.extendedL2 ? "on" : "off"}`,
    `preallocation=${o.preallocation}`,
  ].join(",");
}
