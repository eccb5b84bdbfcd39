import * as fs from "fs";
import * as path from "path";

export const README = path.resolve(__dirname, "..", "..", "..", "README.md");

/** The fenced block that follows the marker `<!-- <marker> -->` in README.md, as a user would paste it. */
export function readmeBlock(marker: string): string {
  const lines = fs.readFileSync(README, "utf8").split("\n");
  const at = lines.findIndex((l) => l.trim() === `<!-- ${marker} -->`);
  if (at < 0 || !lines[at + 1]?.startsWith("```")) throw new Error(`README.md has no fenced block after <!-- ${marker} -->`);
  const end = lines.findIndex((l, i) => i > at + 1 && l.startsWith("```"));
  return lines.slice(at + 2, end).join("\n") + "\n";
}
