import * as fs from "fs";
import * as path from "path";

/** The Node lines pulumi-lvm supports (those @pulumi/pulumi supports), as test/host/node.sh installs them. */
export const NODE_LINES = [22, 24] as const;

/** The `node` binary of a supported line; fails (never skips) when node.sh has not installed it. */
export function nodeBinary(line: number): string {
  const bin = path.join(process.env.NODE_LINES_DIR ?? "/opt/pulumi-lvm/node", String(line), "bin", "node");
  if (!fs.existsSync(bin)) throw new Error(`Node ${line} is not installed at ${bin}: run bash test/host/node.sh (as root)`);
  return bin;
}
