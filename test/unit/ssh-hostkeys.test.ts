import * as assert from "assert";
import { createHmac, generateKeyPairSync, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConnection } from "../../provider/ssh/connection";
import {
  checkHostKey, fingerprint, hostKeyAlgorithms, hostKeyPolicy, hostMatches, parseKnownHosts, parsePublicKeyLine,
} from "../../provider/ssh/hostKeys";

// Made with `ssh-keygen -t ed25519`; fingerprint from `ssh-keygen -lf`, hashed entry from `ssh-keygen -H`.
const KEY_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWa9WUQiPD7Z/Vx1yRr4ojuMgt6UZiWRAGp2UFFU82U test";
const KEY_FINGERPRINT = "SHA256:74FUvgLYuu3SLBfeiFOMAuXmB18DIFN0+tn+rLiyZ3Q";
const OPENSSH_HASHED = "|1|Q6Xm1kgNXhq6KxTEdcDgwJnCcSc=|45edqqz3c2bb61vmzxbVoa4OIdg="; // for [10.1.2.3]:2222

const key = parsePublicKeyLine(KEY_LINE)!;

/** A fresh ed25519 public key as an OpenSSH key line. */
function newKeyLine(): string {
  const x = Buffer.from(generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x!, "base64url");
  const field = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length);
    return Buffer.concat([length, b]);
  };
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(x)]).toString("base64")}`;
}

function hashedName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

describe("ssh host keys", () => {
  it("parses a public key line and computes OpenSSH's SHA256 fingerprint", () => {
    assert.strictEqual(key.type, "ssh-ed25519");
    assert.strictEqual(fingerprint(key.blob), KEY_FINGERPRINT);
  });

  it("rejects malformed key lines", () => {
    assert.strictEqual(parsePublicKeyLine("ssh-ed25519"), undefined);
    assert.strictEqual(parsePublicKeyLine("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIHWa9WUQiPD7Z/Vx1yRr4ojuMgt6UZiWRAGp2UFFU82U"), undefined);
    assert.strictEqual(parsePublicKeyLine("ssh-ed25519 not*base64"), undefined);
  });

  it("matches plain names, comma lists, [host]:port, wildcards and negation", () => {
    assert.ok(hostMatches("example.org", "example.org", 22));
    assert.ok(hostMatches("a.example,EXAMPLE.org,10.0.0.1", "example.org", 22));
    assert.ok(!hostMatches("example.org", "example.org", 2222), "a plain entry is for port 22 only");
    assert.ok(hostMatches("[example.org]:2222", "example.org", 2222));
    assert.ok(!hostMatches("[example.org]:2222", "example.org", 22));
    assert.ok(hostMatches("*.example.org", "db.example.org", 22));
    assert.ok(!hostMatches("*.example.org,!db.example.org", "db.example.org", 22));
    assert.ok(!hostMatches("exampleXorg", "example.org", 22), "a dot is not a wildcard");
  });

  it("matches hashed entries (HMAC-SHA1 of the name, keyed by the salt)", () => {
    assert.ok(hostMatches(OPENSSH_HASHED, "10.1.2.3", 2222));
    assert.ok(!hostMatches(OPENSSH_HASHED, "10.1.2.3", 22));
    const hashed = hashedName("build.example.org");
    assert.ok(hostMatches(hashed, "build.example.org", 22));
    assert.ok(!hostMatches(hashed, "other.example.org", 22));
  });

  it("parses known_hosts lines with markers, comments and junk", () => {
    const entries = parseKnownHosts([
      "# a comment", "", `a.example ${KEY_LINE}`, `@revoked * ${KEY_LINE}`, `@cert-authority *.example ${KEY_LINE}`,
      "broken line", `@unknown-marker x ${KEY_LINE}`, `   ${OPENSSH_HASHED} ${KEY_LINE}`,
    ].join("\n"));
    assert.deepStrictEqual(entries.map((e) => [e.marker, e.hosts, e.line]), [
      [undefined, "a.example", 3], ["revoked", "*", 4], ["cert-authority", "*.example", 5], [undefined, OPENSSH_HASHED, 8],
    ]);
  });

  describe("verification", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-hostkeys-"));
    const knownHosts = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const policyFor = (fields: Record<string, unknown>) => hostKeyPolicy(parseConnection({ host: "10.1.2.3", port: 2222, ...fields }));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("accepts a key pinned as a line or as a fingerprint, refuses another loudly", async () => {
      for (const hostKey of [KEY_LINE, KEY_FINGERPRINT]) {
        const policy = await policyFor({ hostKey });
        assert.strictEqual(checkHostKey(policy, key.blob), undefined);
        const refusal = checkHostKey(policy, parsePublicKeyLine(newKeyLine())!.blob);
        assert.match(refusal!, /^HOST KEY MISMATCH: .*ssh-ed25519 key SHA256:.* possible man-in-the-middle/s);
      }
    });

    it("refuses an unknown key, printing its fingerprint and how to pin it", async () => {
      const policy = await policyFor({ knownHostsPath: path.join(dir, "missing") });
      const refusal = checkHostKey(policy, key.blob)!;
      assert.match(refusal, /unknown host key/);
      assert.ok(refusal.includes(`hostKey: "${KEY_FINGERPRINT}"`), refusal);
      assert.ok(refusal.includes(`[10.1.2.3]:2222 ${key.type} ${key.blob.toString("base64")}`), refusal);
    });

    it("trusts known_hosts entries (hashed too), refuses revoked keys and other keys", async () => {
      const plain = await policyFor({ knownHostsPath: knownHosts("plain", `other.host ${newKeyLine()}\n[10.1.2.3]:2222 ${KEY_LINE}\n`) });
      assert.strictEqual(checkHostKey(plain, key.blob), undefined);
      const hashed = await policyFor({ knownHostsPath: knownHosts("hashed", `${hashedName("[10.1.2.3]:2222")} ${KEY_LINE}\n`) });
      assert.strictEqual(checkHostKey(hashed, key.blob), undefined);

      const revoked = await policyFor({ knownHostsPath: knownHosts("revoked", `[10.1.2.3]:2222 ${KEY_LINE}\n@revoked * ${KEY_LINE}\n`) });
      assert.match(checkHostKey(revoked, key.blob)!, /marks @revoked \(line 2\)/);

      const changed = await policyFor({ knownHostsPath: knownHosts("changed", `[10.1.2.3]:2222 ${newKeyLine()}\n`) });
      assert.match(checkHostKey(changed, key.blob)!, /HOST KEY MISMATCH.*lists ssh-ed25519 SHA256:\S+ \(line 1\)/s);
    });

    it("skips the check only when told to", async () => {
      assert.strictEqual(checkHostKey(await policyFor({ insecureSkipHostKeyCheck: true }), key.blob), undefined);
    });

    it("asks the server for the key types it can verify", async () => {
      assert.deepStrictEqual(hostKeyAlgorithms(await policyFor({ hostKey: KEY_LINE })), ["ssh-ed25519"]);
      assert.strictEqual(hostKeyAlgorithms(await policyFor({ hostKey: KEY_FINGERPRINT })), undefined);
      const rsa = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7";
      const file = knownHosts("types", `[10.1.2.3]:2222 ssh-rsa ${rsa}\n[10.1.2.3]:2222 ${KEY_LINE}\n`);
      assert.deepStrictEqual(hostKeyAlgorithms(await policyFor({ knownHostsPath: file })), ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519"]);
    });
  });
});
