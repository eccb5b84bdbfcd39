import { HostResolver } from "../../provider/dynamic/provider";

/** A host resolver that fails the test if anything tries to reach a host. */
export const noHost: HostResolver = () => {
  throw new Error("a host was contacted, but this input should never reach one");
};

export const CONNECTION = {
  host: "192.0.2.10",
  privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-material\n-----END OPENSSH PRIVATE KEY-----\n",
  hostKey: "SHA256:" + "A".repeat(43),
};
