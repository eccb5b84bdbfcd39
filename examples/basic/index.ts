import * as pulumi from "@pulumi/pulumi";
import { VolumeGroup } from "pulumi-lvm";

const config = new pulumi.Config();

// One connection for every resource on this host: pulumi-lvm opens a single SSH connection and shares it.
const connection = {
  host: config.require("host"),
  port: config.getNumber("port") ?? 22,
  user: config.get("user") ?? "root",
  privateKey: config.requireSecret("privateKey"),
  hostKey: config.require("hostKey"),
};

const vg = new VolumeGroup("data", {
  connection,
  name: config.get("vgName") ?? "demo",
  devices: config.requireObject<string[]>("devices"),
  tags: ["managed-by-pulumi-lvm"],
});

export const volumeGroup = vg.name;
export const sizeBytes = vg.sizeBytes;
export const freeBytes = vg.freeBytes;
export const physicalVolumes = vg.pvs;
