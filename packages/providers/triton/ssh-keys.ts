/**
 * SSH key formats with node:crypto: private keys as PEM (PKCS#1, PKCS#8, SEC1, read by OpenSSL) or in
 * OpenSSH's own format, and public keys in SSH wire format (what CloudAPI fingerprints). Errors name the
 * problem, never key material.
 *
 * OpenSSH's format ("-----BEGIN OPENSSH PRIVATE KEY-----", openssh-key-v1) is openssh/openssh-portable
 * PROTOCOL.key, with each key's fields as sshkey.c (sshkey_private_serialize_opt) writes them and the wire
 * types of RFC 4251 section 5:
 *
 *   "openssh-key-v1\0" string cipher  string kdf  string kdfoptions  uint32 keys (1)
 *   string publickey   string privatekeys = uint32 check, uint32 check (equal), keytype, fields, comment, padding
 *
 *   ssh-ed25519           string public (32 bytes)  string private (seed 32 bytes + public)
 *   ssh-rsa               mpint n, e, d, iqmp (q⁻¹ mod p), p, q
 *   ecdsa-sha2-nistpNNN   string "nistpNNN"  string Q (0x04 ‖ x ‖ y)  mpint d
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { ConfigError } from "../../core/config";

/** OpenSSH curve names ↔ JWK curves, with the byte length of a coordinate or scalar. */
const curves = [
  { ssh: "nistp256", jwk: "P-256", bytes: 32 },
  { ssh: "nistp384", jwk: "P-384", bytes: 48 },
  { ssh: "nistp521", jwk: "P-521", bytes: 66 },
] as const;

const opensshArmor = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const opensshMagic = "openssh-key-v1\0";

/**
 * A private key from PEM or OpenSSH text. `passphrase` opens an encrypted PEM key; an encrypted OpenSSH key
 * is a ConfigError saying how to convert it (decrypting one needs bcrypt_pbkdf, which node:crypto lacks).
 */
export function readPrivateKey(text: string, passphrase?: string): KeyObject {
  const openssh = opensshArmor.exec(text);
  if (openssh) return readOpenSshKey(Buffer.from(openssh[1] ?? "", "base64"));
  if (passphrase === undefined && /^(-----BEGIN ENCRYPTED|Proc-Type: 4,ENCRYPTED)/m.test(text)) {
    throw new Error("it is encrypted and no passphrase was given");
  }
  try {
    return createPrivateKey(passphrase === undefined ? text : { key: text, passphrase });
  } catch (error) {
    const reason = (error as { code?: string }).code === "ERR_OSSL_UNSUPPORTED" ? "it is not a PEM (PKCS#1, PKCS#8, SEC1) or OpenSSH private key" : (error as Error).message;
    throw new Error(reason, { cause: error });
  }
}

/** The public key in SSH wire format (RFC 4253 section 6.6; RFC 5656 for ECDSA, RFC 8709 for Ed25519). */
export function sshPublicKey(key: KeyObject): Buffer {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  const field = (name: "n" | "e" | "x" | "y") => Buffer.from(jwk[name] ?? "", "base64url");
  if (jwk.kty === "RSA") return Buffer.concat([sshString("ssh-rsa"), sshMpint(field("e")), sshMpint(field("n"))]);
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return Buffer.concat([sshString("ssh-ed25519"), sshString(field("x"))]);
  const curve = curves.find((known) => known.jwk === jwk.crv);
  if (jwk.kty === "EC" && curve) {
    const point = Buffer.concat([Buffer.of(4), field("x"), field("y")]);
    return Buffer.concat([sshString(`ecdsa-sha2-${curve.ssh}`), sshString(curve.ssh), sshString(point)]);
  }
  throw new Error(`${key.asymmetricKeyType} keys have no SSH form here`);
}

function readOpenSshKey(data: Buffer): KeyObject {
  if (!data.subarray(0, opensshMagic.length).equals(Buffer.from(opensshMagic))) throw new Error("OpenSSH key: not openssh-key-v1");
  const reader = new SshReader(data, opensshMagic.length);
  const cipher = reader.text();
  const kdf = reader.text();
  reader.bytes(); // kdfoptions
  if (cipher !== "none" || kdf !== "none") {
    throw new ConfigError(
      `Triton private key (privateKey) is an encrypted OpenSSH key, which this client does not decrypt: remove its passphrase ` +
        `(ssh-keygen -p -N "" -f <key file>) or convert it to PEM (ssh-keygen -p -m PEM -f <key file>)`,
    );
  }
  if (reader.uint32() !== 1) throw new Error("OpenSSH key: the file must hold exactly one key");
  const publicBlob = reader.bytes();
  const secrets = new SshReader(reader.bytes());
  if (secrets.uint32() !== secrets.uint32()) throw new Error("OpenSSH key: check numbers differ (corrupted)");
  const key = createPrivateKey({ key: privateJwk(secrets), format: "jwk" });
  // The public half stored beside the private one must be the key's own, or the file is damaged.
  if (!sshPublicKey(key).equals(publicBlob)) throw new Error("OpenSSH key: the public key does not match the private key");
  return key;
}

/** The key's fields after its type name, as a JWK node:crypto imports. */
function privateJwk(reader: SshReader): JsonWebKey {
  const type = reader.text();
  if (type === "ssh-ed25519") {
    const publicKey = reader.bytes();
    const seed = reader.bytes().subarray(0, 32); // the private field is seed ‖ public key
    return { kty: "OKP", crv: "Ed25519", x: publicKey.toString("base64url"), d: seed.toString("base64url") };
  }
  if (type === "ssh-rsa") {
    // Read in this order (object literals evaluate left to right).
    return rsaJwk({ n: reader.mpint(), e: reader.mpint(), d: reader.mpint(), iqmp: reader.mpint(), p: reader.mpint(), q: reader.mpint() });
  }
  const curve = curves.find((known) => type === `ecdsa-sha2-${known.ssh}`);
  if (curve) {
    if (reader.text() !== curve.ssh) throw new Error(`OpenSSH key: ${type} names another curve`);
    const point = reader.bytes();
    if (point.length !== 1 + 2 * curve.bytes || point[0] !== 4) throw new Error(`OpenSSH key: ${type} public point is not uncompressed`);
    const coordinate = (start: number) => point.subarray(start, start + curve.bytes).toString("base64url");
    const d = leftPad(reader.mpint(), curve.bytes).toString("base64url");
    return { kty: "EC", crv: curve.jwk, x: coordinate(1), y: coordinate(1 + curve.bytes), d };
  }
  // Named only when it reads like an algorithm name: a damaged file could put key bytes here.
  const named = /^[a-z0-9@.-]{1,64}$/.test(type) ? `type ${type}` : "of an unknown type";
  throw new Error(`OpenSSH key ${named} is not supported (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 are)`);
}

/** OpenSSH stores no CRT exponents: dp = d mod (p−1), dq = d mod (q−1) (RFC 8017 section 3.2). */
function rsaJwk(parts: Record<"n" | "e" | "d" | "iqmp" | "p" | "q", Buffer>): JsonWebKey {
  const [d, p, q] = [parts.d, parts.p, parts.q].map((part) => BigInt(`0x${part.toString("hex") || "0"}`)) as [bigint, bigint, bigint];
  const encode = (value: Buffer | bigint) => (typeof value === "bigint" ? unsignedBytes(value) : value).toString("base64url");
  return {
    kty: "RSA",
    n: encode(parts.n),
    e: encode(parts.e),
    d: encode(parts.d),
    p: encode(parts.p),
    q: encode(parts.q),
    dp: encode(d % (p - 1n)),
    dq: encode(d % (q - 1n)),
    qi: encode(parts.iqmp),
  };
}

/** Reads RFC 4251 types from a buffer, refusing to read past its end. */
class SshReader {
  constructor(
    private readonly data: Buffer,
    private offset = 0,
  ) {}

  uint32(): number {
    this.need(4);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(): Buffer {
    const length = this.uint32();
    this.need(length);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string {
    return this.bytes().toString("latin1");
  }

  /** A non-negative mpint as unsigned big-endian bytes without leading zeros. */
  mpint(): Buffer {
    const value = this.bytes();
    if (value.length > 0 && (value[0] as number) & 0x80) throw new Error("OpenSSH key: negative integer");
    const first = value.findIndex((byte) => byte !== 0);
    return first === -1 ? Buffer.alloc(0) : value.subarray(first);
  }

  private need(length: number): void {
    if (this.offset + length > this.data.length) throw new Error("OpenSSH key: truncated");
  }
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "latin1") : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An unsigned integer as an mpint: a zero byte first when the top bit is set, so it does not read as negative. */
function sshMpint(unsigned: Buffer): Buffer {
  const first = unsigned.findIndex((byte) => byte !== 0);
  const trimmed = first === -1 ? Buffer.alloc(0) : unsigned.subarray(first);
  return sshString(trimmed.length > 0 && (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed);
}

function unsignedBytes(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
}

function leftPad(value: Buffer, length: number): Buffer {
  if (value.length > length) throw new Error("OpenSSH key: private scalar too long for its curve");
  return Buffer.concat([Buffer.alloc(length - value.length), value]);
}
