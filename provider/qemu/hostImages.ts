import { batchedReads, CommandRunner, Script } from "../command";
import { ChainRead, CHAIN_INFO, ImageInfo, INFO_IF_PRESENT, parseImageChain, parseImageInfo } from "./info";

/** One image (`format` skips probing), or a qcow2 disk's whole backing chain (`chain`). */
type ImageRequest =
  | { image: string; format: string }
  | { image: string; chain: { vg: string; disk: string; prefix: string } };

const sectionOf = (r: ImageRequest) => ("chain" in r ? `chain ${r.image}` : `image ${r.format} ${r.image}`);

/**
 * A qcow2 image whose backing chain the same batch reads (a disk refreshed with its snapshots) is read once: the chain
 * starts with it, so its own `qemu-img info` is left out (readImageInfo takes the chain's top instead).
 */
const readsItsChain = (r: ImageRequest, chains: Set<string>) => !("chain" in r) && r.format === "qcow2" && chains.has(r.image);

const readBatched = batchedReads<ImageRequest>("read disk images", (script, requests) => {
  const unique = new Map(requests.map((r) => [sectionOf(r), r]));
  const chains = new Set(requests.filter((r) => "chain" in r).map((r) => r.image));
  for (const [section, r] of unique) {
    if ("chain" in r) script.captureCode(section, CHAIN_INFO, { image: r.image, ...r.chain });
    else if (!readsItsChain(r, chains)) script.captureCode(section, INFO_IF_PRESENT, { image: r.image, format: r.format });
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
  const sections = await readBatched(host, request);
  const text = sections[sectionOf(request)];
  if (text === undefined) return topOfChain(host, image, sections[`chain ${image}`] ?? "");
  return infoIfPresent(text);
}

/** What INFO_IF_PRESENT printed: nothing for a device that is not there, else qemu-img's JSON (or its error). */
const infoIfPresent = (text: string) => (text.trim() === "" ? undefined : parseImageInfo(text));

/** The top image of a chain read in the same batch; where that chain could not be read, the image on its own. */
async function topOfChain(host: CommandRunner, image: string, chainText: string): Promise<ImageInfo | undefined> {
  if (chainText.trim() === "") return undefined;
  const read = parseImageChain(chainText);
  if ("images" in read) {
    const { filename: _, ...top } = read.images[0];
    return top;
  }
  const { sections } = await host.run(new Script(`read disk image ${image}`)
    .captureCode("image", INFO_IF_PRESENT, { image, format: "qcow2" }));
  return infoIfPresent(sections.image);
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
