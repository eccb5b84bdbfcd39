import { CommandRunner, Script } from "../command";
import { ImageInfo, INFO_IF_PRESENT, parseImageInfo } from "./info";

interface Batch {
  images: Map<string, { image: string; format: string }>;
  sections: Promise<Record<string, string>>;
}

const pending = new WeakMap<CommandRunner, Batch>();

/**
 * `qemu-img info` of an image on a block device of a host (-U: also while a VM has it open), or undefined when the
 * device is not there (an inactive or removed LV). Batched like readHostLvm: every caller asking for the same host
 * in the same turn of the event loop (a refresh of many disks) shares one round trip.
 */
export async function readImageInfo(host: CommandRunner, image: string, format: string): Promise<ImageInfo | undefined> {
  let batch = pending.get(host);
  if (!batch) {
    const images: Batch["images"] = new Map();
    const sections = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      pending.delete(host);
      const script = new Script("read disk images");
      for (const [section, vars] of images) script.captureCode(section, INFO_IF_PRESENT, vars);
      return host.run(script).then((r) => r.sections);
    });
    batch = { images, sections };
    pending.set(host, batch);
  }
  const section = `image ${format} ${image}`;
  batch.images.set(section, { image, format });
  const text = (await batch.sections)[section] ?? "";
  return text.trim() === "" ? undefined : parseImageInfo(text);
}
