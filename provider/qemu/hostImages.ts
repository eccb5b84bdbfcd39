import { batchedReads, CommandRunner } from "../command";
import { ChainRead, CHAIN_INFO, ImageInfo, INFO_IF_PRESENT, parseImageChain, parseImageInfo } from "./info";

/** One image (`format` skips probing), or a qcow2 disk's whole backing chain (`chain`). */
type ImageRequest =
  | { image: string; format: string }
  | { image: string; chain: { vg: string; disk: string; prefix: string } };

const sectionOf = (r: ImageRequest) => ("chain" in r ? `chain ${r.image}` : `image ${r.format} ${r.image}`);

const readBatched = batchedReads<ImageRequest>("read disk images", (script, requests) => {
  const unique = new Map(requests.map((r) => [sectionOf(r), r]));
  for (const [section, r] of unique) {
    if ("chain" in r) script.captureCode(section, CHAIN_INFO, { image: r.image, ...r.chain });
    else script.captureCode(section, INFO_IF_PRESENT, { image: r.image, format: r.format });
  }
  return script;
});

/**
 * `qemu-img info` of an image on a block device of a host (-U: also while a VM has it open), or undefined when the
 * device is not there (an inactive or removed LV). Batched like readHostLvm: one round trip for every disk of a
 * host read in the same turn of the event loop.
 */
export async function readImageInfo(host: CommandRunner, image: string, format: string): Promise<ImageInfo | undefined> {
  const request = { image, format };
  const text = (await readBatched(host, request))[sectionOf(request)] ?? "";
  return text.trim() === "" ? undefined : parseImageInfo(text);
}

/**
 * The backing chain of qcow2 disk `disk` in `vg` (top first), activating its LVs when needed; undefined when the
 * disk's LV does not exist. `prefix` is how its snapshot LVs are named (storage/naming.ts). Batched with the reads above.
 */
export async function readImageChain(host: CommandRunner, vg: string, disk: string, prefix: string): Promise<ChainRead | undefined> {
  const request = { image: `/dev/${vg}/${disk}`, chain: { vg, disk, prefix } };
  const text = (await readBatched(host, request))[sectionOf(request)] ?? "";
  return text.trim() === "" ? undefined : parseImageChain(text);
}
