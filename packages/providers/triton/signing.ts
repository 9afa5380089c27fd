/**
 * HTTP Signature auth (draft-cavage) as CloudAPI verifies it, in the format node-triton sends:
 *
 *   Authorization: Signature keyId="/<login>/keys/<md5 fp>",algorithm="rsa-sha256",
 *                  headers="(request-target) date",signature="<base64>"
 */
import { createHash, sign, type KeyObject } from "node:crypto";
import { ConfigError } from "../../core/config";
import { readPrivateKey, sshPublicKey } from "./ssh-keys";

/** Header names that may be signed. `(request-target)` is `<lowercase method> <path?query>`. */
export type SignedHeaderName = "(request-target)" | "date";

export interface TritonSignerOptions {
  /** Account login (the keyId and paths use it, never `my`). */
  account: string;
  /** RBAC sub-user login; the key then belongs to that user. */
  user?: string;
  /** Private key text: PEM (PKCS#1, PKCS#8, SEC1) or OpenSSH. */
  privateKey: string;
  passphrase?: string;
  /**
   * The registered key's name, or its fingerprint in any form ssh-keygen or node-triton prints
   * (`aa:bb:…`, `MD5:aa:bb:…`, `SHA256:…`). A fingerprint must match `privateKey` and is sent in
   * the MD5 form CloudAPI looks keys up by. Default: the key's MD5 fingerprint.
   */
  keyId?: string;
  /** Default `["(request-target)", "date"]`; `["date"]` is the older form CloudAPI also accepts. */
  signedHeaders?: SignedHeaderName[];
  /** For tests of clock skew. */
  now?: () => Date;
}

export interface SignedRequestHeaders {
  date: string;
  authorization: string;
}

export interface TritonSigner {
  /** e.g. `/jdoe/keys/aa:bb:…` or `/jdoe/users/ci/keys/aa:bb:…`. */
  readonly keyId: string;
  /** e.g. `rsa-sha256`, `ecdsa-sha256`, `ed25519-sha512`. */
  readonly algorithm: string;
  /** MD5 fingerprint of the public key, colon hex. */
  readonly fingerprint: string;
  /** `path` is the request target exactly as sent, query string included. */
  sign(request: { method: string; path: string }): SignedRequestHeaders;
}

export function createTritonSigner(options: TritonSignerOptions): TritonSigner {
  const key = readTritonKey(options.privateKey, options.passphrase);
  const { algorithm, hash } = signatureAlgorithm(key);
  const publicKey = sshPublicKey(key);
  const fingerprint = colonHex(createHash("md5").update(publicKey).digest());
  const keyId = formatKeyId(options.account, options.user, keyNameFor(options.keyId, publicKey, fingerprint));
  const signedHeaders = options.signedHeaders ?? ["(request-target)", "date"];
  const now = options.now ?? (() => new Date());

  return {
    keyId,
    algorithm,
    fingerprint,
    sign({ method, path }) {
      const date = now().toUTCString();
      const text = signingString(signedHeaders, { method, path, headers: { date } });
      // Ed25519 hashes internally (Node wants `null`); ECDSA signatures are DER, Node's default.
      const signature = sign(key.asymmetricKeyType === "ed25519" ? null : hash, Buffer.from(text), key).toString("base64");
      const authorization =
        `Signature keyId="${keyId}",algorithm="${algorithm}",` +
        `headers="${signedHeaders.join(" ")}",signature="${signature}"`;
      return { date, authorization };
    },
  };
}

export function formatKeyId(account: string, user: string | undefined, key: string): string {
  return user ? `/${account}/users/${user}/keys/${key}` : `/${account}/keys/${key}`;
}

/**
 * The string that is signed: one `name: value` line per listed header, joined by "\n".
 * `(request-target)` is the lowercased method and the raw request target.
 */
export function signingString(
  names: readonly string[],
  request: { method: string; path: string; headers: Record<string, string | undefined> },
): string {
  return names
    .map((name) => {
      if (name === "(request-target)") return `(request-target): ${request.method.toLowerCase()} ${request.path}`;
      const value = request.headers[name];
      if (value === undefined) throw new Error(`${name} was not in the request`);
      return `${name}: ${value}`;
    })
    .join("\n");
}

function readTritonKey(text: string, passphrase: string | undefined): KeyObject {
  try {
    return readPrivateKey(text, passphrase);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // The reader's messages name the problem (format, missing passphrase) without echoing key material.
    throw new ConfigError(`Triton private key could not be read: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The HTTP Signature algorithm, `<key type>-<hash>` with the hash node-triton (through sshpk) signs with:
 * sha256 for RSA, the curve's own size for ECDSA, sha512 for Ed25519.
 */
function signatureAlgorithm(key: KeyObject): { algorithm: string; hash: string } {
  const type = key.asymmetricKeyType;
  if (type === "rsa") return { algorithm: "rsa-sha256", hash: "sha256" };
  if (type === "ed25519") return { algorithm: "ed25519-sha512", hash: "sha512" };
  const curve = type === "ec" ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (curve === "prime256v1") return { algorithm: "ecdsa-sha256", hash: "sha256" };
  if (curve === "secp521r1") return { algorithm: "ecdsa-sha512", hash: "sha512" };
  // CloudAPI lists ecdsa-sha384 but verifies with http-signature 1.4, which knows only sha1, sha256 and
  // sha512 (TritonDataCenter/node-http-signature lib/utils.js), so every P-384 signature would be refused.
  if (curve === "secp384r1") {
    throw new ConfigError("Triton private key is ECDSA P-384, which CloudAPI cannot verify (ecdsa-sha384): use an RSA, ECDSA P-256/P-521 or Ed25519 key");
  }
  throw new ConfigError(`Triton private key type ${curve ?? type} is not supported: use an RSA, ECDSA P-256/P-521 or Ed25519 key`);
}

/** A keyId that is a fingerprint must be this key's; the MD5 form is sent. Anything else is a key name. */
function keyNameFor(keyId: string | undefined, publicKey: Buffer, md5: string): string {
  if (keyId === undefined) return md5;
  const fingerprint = parseFingerprint(keyId);
  if (!fingerprint) return keyId;
  if (!createHash(fingerprint.algorithm).update(publicKey).digest().equals(fingerprint.hash)) {
    throw new ConfigError(`Triton keyId ${keyId} is not the fingerprint of the given private key`);
  }
  return md5;
}

const hashAlgorithms = new Set(["md5", "sha1", "sha256", "sha384", "sha512"]);

/**
 * The fingerprint forms ssh-keygen and node-triton print, read as sshpk's Fingerprint.parse reads them
 * (joyent/node-sshpk lib/fingerprint.js): `<ALG>:<base64>` (e.g. `SHA256:…`) and colon hex MD5 with an
 * optional `MD5:` prefix. Undefined for anything else.
 */
function parseFingerprint(text: string): { algorithm: string; hash: Buffer } | undefined {
  const parts = text.split(":");
  if (parts.length === 2) {
    const [algorithm, base64] = [(parts[0] as string).toLowerCase(), parts[1] as string];
    if (!hashAlgorithms.has(algorithm) || !/^[A-Za-z0-9+/=]+$/.test(base64)) return undefined;
    return { algorithm, hash: Buffer.from(base64, "base64") };
  }
  if (parts.length < 3) return undefined;
  const octets = parts[0]?.toLowerCase() === "md5" ? parts.slice(1) : parts;
  if (!octets.every((octet) => /^[A-Fa-f0-9]{1,2}$/.test(octet))) return undefined;
  return { algorithm: "md5", hash: Buffer.from(octets.map((octet) => octet.padStart(2, "0")).join(""), "hex") };
}

function colonHex(bytes: Buffer): string {
  return bytes.toString("hex").replace(/(..)(?!$)/g, "$1:");
}
