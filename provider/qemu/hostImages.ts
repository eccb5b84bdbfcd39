import { batchedReads, CommandRunner } from "../command";
import { ImageInfo, INFO_IF_PRESENT, parseImageInfo } from "./info";

interface ImageRequest {
  image: string;
  format: string;
}

const sectionOf = (r: ImageRequest) => `image ${r.format} ${r.image}`;

const readBatched = batchedReads<ImageRequest>("read disk images", (script, requests) => {
  const unique = new Map(requests.map((r) => [sectionOf(r), r]));
  for (const [section, { image, format }] of unique) script.captureCode(section, INFO_IF_PRESENT, { image, format });
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
