// Lets code anywhere in this repository (tests, examples, and the serialized provider that Pulumi's plugin
// loads with the program folder as its working directory) `require("pulumi-lvm")` exactly as an installed
// user would, without publishing: node_modules/pulumi-lvm -> the repository root.
const fs = require("fs");
const path = require("path");
const root = path.resolve(__dirname, "..", "..");
const link = path.join(root, "node_modules", "pulumi-lvm");
try {
  if (fs.readlinkSync(link) === "..") process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {}
fs.symlinkSync("..", link, "dir");
