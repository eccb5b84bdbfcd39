// The state file: resources in dependency order (a resource always comes after the ones it depends on, its parent
// and its deletedWith target) and
// the stack outputs. Secret values are stored the way Pulumi's passphrase secrets provider stores them,
// `{"4dabf…": "1b47…", "ciphertext": "…"}`, here with AES-256-GCM and a random key in `<state>.key` (0600).
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isSecret, Props, secret, SECRET_SIG, SIG_KEY } from "./values";

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  id: string;
  inputs: Props;
  outputs: Props;
  parent: string;
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  /** The `deletedWith` option: when that resource is deleted in the same operation, this one is only dropped. */
  deletedWith?: string;
  additionalSecretOutputs: string[];
  /** Set when a create or update failed after the object came to exist; the next `up` updates it again. */
  initErrors?: string[];
  /** The old copy of a create-before-delete replacement, deleted at the end of `up`. */
  delete?: boolean;
}

export interface StackState {
  resources: ResourceState[];
  outputs: Props;
}

export class StateFile {
  private key?: Buffer;
  constructor(readonly file: string) {}

  load(): StackState {
    if (!fs.existsSync(this.file)) return { resources: [], outputs: {} };
    return this.walk(JSON.parse(fs.readFileSync(this.file, "utf8")), (v) => this.decrypt(v)) as StackState;
  }

  /** Atomic: a crash leaves either the previous or the new state, never half a file. */
  save(state: StackState): void {
    const text = JSON.stringify(this.walk(state, (v) => this.encrypt(v)), null, 2);
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(tmp, text + "\n");
    fs.renameSync(tmp, this.file);
  }

  private walk(v: unknown, onSecret: (s: Record<string, unknown>) => unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.walk(x, onSecret));
    if (typeof v !== "object" || v === null) return v;
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return onSecret(o);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, this.walk(x, onSecret)]));
  }

  private encrypt(s: Record<string, unknown>) {
    if (!isSecret(s)) return s;
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.secretKey(), iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(s.value ?? null), "utf8"), cipher.final()]);
    return { [SIG_KEY]: SECRET_SIG, ciphertext: `v1:${Buffer.concat([iv, cipher.getAuthTag(), data]).toString("base64")}` };
  }

  private decrypt(s: Record<string, unknown>) {
    if (typeof s.ciphertext !== "string") return s;
    const raw = Buffer.from(s.ciphertext.replace(/^v1:/, ""), "base64");
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.secretKey(), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return secret(JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8")));
  }

  private secretKey(): Buffer {
    if (this.key) return this.key;
    const keyFile = `${this.file}.key`;
    if (!fs.existsSync(keyFile)) {
      fs.mkdirSync(path.dirname(keyFile), { recursive: true });
      fs.writeFileSync(keyFile, crypto.randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    }
    return (this.key = Buffer.from(fs.readFileSync(keyFile, "utf8").trim(), "hex"));
  }
}
