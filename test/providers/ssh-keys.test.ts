/**
 * Private keys in OpenSSH's own format (openssh-key-v1) and PEM, read with node:crypto: keys written by
 * `ssh-keygen` (when installed) and by an encoder here that follows openssh/openssh-portable PROTOCOL.key,
 * checked against what ssh-keygen and sshpk (an independent reader) say about the same keys. Integration
 * tier because it runs ssh-keygen.
 */
import { execFileSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import sshpk from "sshpk";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../packages/core/config";
import { tritonClientFor } from "../../packages/providers/triton/client";
import { createTritonSigner } from "../../packages/providers/triton/signing";
import { readPrivateKey, sshPublicKey } from "../../packages/providers/triton/ssh-keys";

interface KeyCase {
  label: string;
  generate: () => KeyObject;
  /** The HTTP Signature algorithm; undefined for P-384, which the signer refuses. */
  algorithm: string | undefined;
  keygen: string[];
}

const ec = (namedCurve: string) => generateKeyPairSync("ec", { namedCurve }).privateKey;
const keyCases: KeyCase[] = [
  { label: "ed25519", generate: () => generateKeyPairSync("ed25519").privateKey, algorithm: "ed25519-sha512", keygen: ["-t", "ed25519"] },
  { label: "rsa", generate: () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, algorithm: "rsa-sha256", keygen: ["-t", "rsa", "-b", "2048"] },
  { label: "ecdsa P-256", generate: () => ec("P-256"), algorithm: "ecdsa-sha256", keygen: ["-t", "ecdsa", "-b", "256"] },
  { label: "ecdsa P-384", generate: () => ec("P-384"), algorithm: undefined, keygen: ["-t", "ecdsa", "-b", "384"] },
  { label: "ecdsa P-521", generate: () => ec("P-521"), algorithm: "ecdsa-sha512", keygen: ["-t", "ecdsa", "-b", "521"] },
];

// RFC 4251 section 5 types, written independently of the reader under test.
const uint32 = (value: number) => Buffer.from([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
const sshString = (value: string | Buffer) => Buffer.concat([uint32(Buffer.byteLength(value)), Buffer.from(value)]);
function mpint(base64url: string | undefined): Buffer {
  const bytes = Buffer.from(base64url ?? "", "base64url");
  return sshString((bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes);
}

const sshCurves: Record<string, string> = { "P-256": "nistp256", "P-384": "nistp384", "P-521": "nistp521" };

/** The public blob and the private fields (type name first) as sshkey.c writes them. */
function sshFields(jwk: JsonWebKey): { publicBlob: Buffer; privateFields: Buffer } {
  const raw = (name: "x" | "y" | "d") => Buffer.from(jwk[name] ?? "", "base64url");
  if (jwk.kty === "OKP") {
    const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(raw("x"))]);
    return { publicBlob, privateFields: Buffer.concat([publicBlob, sshString(Buffer.concat([raw("d"), raw("x")]))]) };
  }
  if (jwk.kty === "RSA") {
    const publicBlob = Buffer.concat([sshString("ssh-rsa"), mpint(jwk.e), mpint(jwk.n)]);
    const fields = [jwk.n, jwk.e, jwk.d, jwk.qi, jwk.p, jwk.q].map(mpint);
    return { publicBlob, privateFields: Buffer.concat([sshString("ssh-rsa"), ...fields]) };
  }
  const curve = sshCurves[jwk.crv ?? ""] ?? "";
  const point = Buffer.concat([Buffer.of(4), raw("x"), raw("y")]);
  const publicBlob = Buffer.concat([sshString(`ecdsa-sha2-${curve}`), sshString(curve), sshString(point)]);
  return { publicBlob, privateFields: Buffer.concat([publicBlob, mpint(jwk.d)]) };
}

interface Encoding {
  /** `aes256-ctr` writes the header of a passphrase-protected key (the body is then random). */
  cipher?: string;
  /** Damage to make: check numbers that differ, another key's public blob, or a cut-off body. */
  damage?: "check" | "public" | "truncate";
  /** Replaces the private fields, e.g. with another key type's. */
  privateFields?: Buffer;
}

/** `key` as an unencrypted OpenSSH private key file (PROTOCOL.key), or damaged as asked. */
function opensshText(key: KeyObject, encoding: Encoding = {}): string {
  const fields = sshFields(key.export({ format: "jwk" }));
  const publicBlob = encoding.damage === "public" ? sshFields(generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" })).publicBlob : fields.publicBlob;
  const check = randomBytes(4);
  let section = Buffer.concat([check, encoding.damage === "check" ? Buffer.from(check.map((byte) => byte ^ 1)) : check, encoding.privateFields ?? fields.privateFields, sshString("test key")]);
  for (let pad = 1; section.length % 8 !== 0; pad++) section = Buffer.concat([section, Buffer.of(pad)]);
  const encrypted = encoding.cipher !== undefined;
  const kdfOptions = encrypted ? Buffer.concat([sshString(randomBytes(16)), uint32(16)]) : Buffer.alloc(0);
  let body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString(encoding.cipher ?? "none"),
    sshString(encrypted ? "bcrypt" : "none"),
    sshString(kdfOptions),
    uint32(1),
    sshString(publicBlob),
    sshString(encrypted ? randomBytes(section.length) : section),
  ]);
  if (encoding.damage === "truncate") body = body.subarray(0, body.length - 40);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join("\n");
}

/** sshpk's MD5 fingerprint of the key: the reference for ours. */
function referenceFingerprint(key: KeyObject): string {
  const spki = createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
  return sshpk.parseKey(spki, "pem").fingerprint("md5").toString("hex");
}

/** The lines of base64 a leak of the key would show. */
function keyLines(text: string): string[] {
  return text.split("\n").filter((line) => line.length >= 40 && !line.startsWith("-----"));
}

function failure(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure");
}

describe("OpenSSH private keys (encoded here after PROTOCOL.key)", () => {
  it.each(keyCases)("reads $label as the same key, with sshpk's fingerprint and the signer's algorithm", ({ generate, algorithm }) => {
    const original = generate();
    const read = readPrivateKey(opensshText(original));
    // Every private parameter, the RSA CRT exponents the reader computes included.
    expect(read.export({ format: "jwk" })).toEqual(original.export({ format: "jwk" }));
    expect(sshPublicKey(read)).toEqual(sshFields(original.export({ format: "jwk" })).publicBlob);
    if (!algorithm) return;
    const signer = createTritonSigner({ account: "alice", privateKey: opensshText(original) });
    expect(signer.fingerprint).toBe(referenceFingerprint(original));
    expect(signer.algorithm).toBe(algorithm);
  });

  it("refuses an encrypted key with a ConfigError naming the field and how to convert it", () => {
    const text = opensshText(generateKeyPairSync("ed25519").privateKey, { cipher: "aes256-ctr" });
    const error = failure(() => createTritonSigner({ account: "alice", privateKey: text, passphrase: "secret" }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/privateKey\) is an encrypted OpenSSH key/);
    expect(error.message).toContain("ssh-keygen -p -m PEM -f <key file>");
    expect(error.message).toContain('ssh-keygen -p -N "" -f <key file>');
  });

  it("names the source and the field when a configured key is encrypted", () => {
    const privateKey = opensshText(generateKeyPairSync("ed25519").privateKey, { cipher: "aes256-ctr" });
    const source = { id: "triton-dc-alice", datacenter: "dc", url: "http://127.0.0.1:9", account: "alice", privateKey, timeoutMs: 1_000, maxAttempts: 1, concurrency: 1 };
    const error = failure(() => tritonClientFor(source));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^Invalid configuration: TritonSources triton-dc-alice: Triton private key \(privateKey\) is an encrypted OpenSSH key/);
  });

  const damages: [label: string, text: () => string, reason: RegExp][] = [
    ["a cut-off body", () => opensshText(generateKeyPairSync("ed25519").privateKey, { damage: "truncate" }), /truncated/],
    ["check numbers that differ", () => opensshText(ec("P-256"), { damage: "check" }), /check numbers differ/],
    ["another key's public half", () => opensshText(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, { damage: "public" }), /public key does not match/],
    ["a DSA key", () => opensshText(generateKeyPairSync("ed25519").privateKey, { privateFields: Buffer.concat([sshString("ssh-dss"), randomBytes(64)]) }), /type ssh-dss is not supported/],
    ["not a key at all", () => "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n", /not openssh-key-v1/],
  ];
  it.each(damages)("refuses %s without showing key material", (_label, text, reason) => {
    const keyText = text();
    const error = failure(() => createTritonSigner({ account: "alice", privateKey: keyText }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^Triton private key could not be read: /);
    expect(error.message).toMatch(reason);
    const shown = inspect(error, { depth: 8, showHidden: true });
    for (const line of keyLines(keyText)) expect(shown).not.toContain(line.slice(0, 40));
  });
});

describe("PEM private keys", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const p256 = ec("P-256");
  const pems: [label: string, text: string, key: KeyObject][] = [
    ["PKCS#1", rsa.export({ type: "pkcs1", format: "pem" }).toString(), rsa],
    ["PKCS#8", rsa.export({ type: "pkcs8", format: "pem" }).toString(), rsa],
    ["SEC1", p256.export({ type: "sec1", format: "pem" }).toString(), p256],
  ];
  it.each(pems)("reads %s with sshpk's fingerprint", (_label, text, key) => {
    expect(createTritonSigner({ account: "alice", privateKey: text }).fingerprint).toBe(referenceFingerprint(key));
  });

  it("opens an encrypted PEM with its passphrase, and says so when none was given", () => {
    const text = rsa.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }).toString();
    expect(createTritonSigner({ account: "alice", privateKey: text, passphrase: "secret" }).fingerprint).toBe(referenceFingerprint(rsa));
    expect(() => createTritonSigner({ account: "alice", privateKey: text })).toThrow("Triton private key could not be read: it is encrypted and no passphrase was given");
  });

  it("refuses other key types and text that is no key", () => {
    const dsa = generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => createTritonSigner({ account: "alice", privateKey: dsa })).toThrow("Triton private key type dsa is not supported");
    expect(() => createTritonSigner({ account: "alice", privateKey: "not a key" })).toThrow(
      "Triton private key could not be read: it is not a PEM (PKCS#1, PKCS#8, SEC1) or OpenSSH private key",
    );
  });
});

describe("keyId", () => {
  const key = generateKeyPairSync("ed25519").privateKey;
  const privateKey = key.export({ type: "pkcs8", format: "pem" }).toString();
  const reference = sshpk.parseKey(createPublicKey(key).export({ type: "spki", format: "pem" }).toString(), "pem");
  const md5 = reference.fingerprint("md5").toString("hex");

  it("takes each fingerprint form ssh-keygen prints, sends the MD5 form, and passes names through", () => {
    const forms = [md5, `MD5:${md5}`, md5.toUpperCase(), reference.fingerprint("sha256").toString(), reference.fingerprint("sha512").toString()];
    for (const keyId of forms) expect(createTritonSigner({ account: "alice", privateKey, keyId }).keyId).toBe(`/alice/keys/${md5}`);
    expect(createTritonSigner({ account: "alice", privateKey, keyId: "laptop" }).keyId).toBe("/alice/keys/laptop");
  });

  it("refuses a fingerprint of another key", () => {
    const other = sshpk.parseKey(createPublicKey(ec("P-256")).export({ type: "spki", format: "pem" }).toString(), "pem").fingerprint("sha256").toString();
    expect(() => createTritonSigner({ account: "alice", privateKey, keyId: other })).toThrow(/is not the fingerprint of the given private key/);
  });
});

const hasSshKeygen = (() => {
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
    return true;
  } catch (error) {
    return (error as { code?: string }).code !== "ENOENT";
  }
})();

describe.runIf(hasSshKeygen)("keys written by ssh-keygen", () => {
  const directory = mkdtempSync(join(tmpdir(), "imagesync-ssh-keys-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function keygen(name: string, args: string[], passphrase = ""): { privateKey: string; publicLine: string } {
    const file = join(directory, name);
    execFileSync("ssh-keygen", ["-q", ...args, "-N", passphrase, "-C", "test", "-f", file], { stdio: "ignore" });
    return { privateKey: readFileSync(file, "utf8"), publicLine: readFileSync(`${file}.pub`, "utf8") };
  }

  it.each(keyCases)("reads $label with ssh-keygen's public key and MD5 fingerprint", ({ label, keygen: args, algorithm }) => {
    const name = label.replace(/\W+/g, "-");
    const { privateKey, publicLine } = keygen(name, args);
    expect(privateKey).toContain("-----BEGIN OPENSSH PRIVATE KEY-----");
    expect(sshPublicKey(readPrivateKey(privateKey)).toString("base64")).toBe(publicLine.split(" ")[1]);
    if (!algorithm) return;
    const listed = execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", join(directory, `${name}.pub`)], { encoding: "utf8" });
    const signer = createTritonSigner({ account: "alice", privateKey });
    expect(listed).toContain(`MD5:${signer.fingerprint} `);
    expect(signer.algorithm).toBe(algorithm);
  });

  it("refuses a passphrase-protected key with the ConfigError", () => {
    const { privateKey } = keygen("encrypted", ["-t", "ed25519"], "a passphrase");
    const error = failure(() => readPrivateKey(privateKey, "a passphrase"));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("ssh-keygen -p -m PEM -f <key file>");
  });
});
