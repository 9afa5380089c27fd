/**
 * HTTP Signature auth (draft-cavage) as CloudAPI verifies it, in the format node-triton sends:
 *
 *   Authorization: Signature keyId="/<login>/keys/<md5 fp>",algorithm="rsa-sha256",
 *                  headers="(request-target) date",signature="<base64>"
 */
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import sshpk from "sshpk";

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
  const key = parsePrivateKey(options.privateKey, options.passphrase);
  // CloudAPI lists ecdsa-sha384 but verifies with http-signature 1.4, which knows only sha1, sha256 and
  // sha512 (TritonDataCenter/node-http-signature lib/utils.js), so every P-384 signature would be refused.
  if (key.type === "ecdsa" && key.curve === "nistp384") {
    throw new Error("Triton private key is ECDSA P-384, which CloudAPI cannot verify (ecdsa-sha384): use an RSA, ECDSA P-256/P-521 or Ed25519 key");
  }
  const hash = key.defaultHashAlgorithm();
  const algorithm = `${key.type}-${hash}`;
  const nodeKey = toNodeKey(key);
  const keyId = formatKeyId(options.account, options.user, keyNameFor(options.keyId, key));
  const signedHeaders = options.signedHeaders ?? ["(request-target)", "date"];
  const now = options.now ?? (() => new Date());

  return {
    keyId,
    algorithm,
    fingerprint: key.fingerprint("md5").toString("hex"),
    sign({ method, path }) {
      const date = now().toUTCString();
      const text = signingString(signedHeaders, { method, path, headers: { date } });
      // Ed25519 hashes internally (Node wants `null`); ECDSA signatures are DER, Node's default.
      const signature = sign(key.type === "ed25519" ? null : hash, Buffer.from(text), nodeKey).toString("base64");
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

/** MD5 fingerprint (colon hex) of an OpenSSH public key line, as CloudAPI names keys. */
export function md5Fingerprint(publicKey: string): string {
  return sshpk.parseKey(publicKey, "ssh").fingerprint("md5").toString("hex");
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

function parsePrivateKey(text: string, passphrase: string | undefined): sshpk.PrivateKey {
  try {
    return sshpk.parsePrivateKey(text, "auto", passphrase === undefined ? undefined : { passphrase });
  } catch (error) {
    // sshpk's message names the problem (format, missing passphrase) without echoing key material.
    const reason = error instanceof Error ? error.message : "unreadable";
    throw new Error(`Triton private key could not be read: ${reason}`, { cause: error });
  }
}

function keyNameFor(keyId: string | undefined, key: sshpk.PrivateKey): string {
  const md5 = key.fingerprint("md5").toString("hex");
  if (keyId === undefined) return md5;
  let fingerprint: sshpk.Fingerprint;
  try {
    fingerprint = sshpk.parseFingerprint(keyId);
  } catch {
    return keyId; // not a fingerprint, so a key name
  }
  if (!fingerprint.matches(key)) throw new Error(`Triton keyId ${keyId} is not the fingerprint of the given private key`);
  return md5;
}

function toNodeKey(key: sshpk.PrivateKey): KeyObject {
  if (key.type === "ed25519") {
    // sshpk's PKCS#8 output for Ed25519 predates RFC 8410 and Node rejects it; JWK is unambiguous.
    const jwk = {
      kty: "OKP",
      crv: "Ed25519",
      d: partData(key, "k").toString("base64url"),
      x: partData(key, "A").toString("base64url"),
    };
    return createPrivateKey({ key: jwk, format: "jwk" });
  }
  if (key.type !== "rsa" && key.type !== "ecdsa") throw new Error(`unsupported Triton key type ${key.type}`);
  return createPrivateKey(key.toString("pkcs8"));
}

function partData(key: sshpk.PrivateKey, name: string): Buffer {
  const part = (key.part as Record<string, { data: Buffer } | undefined>)[name];
  if (!part) throw new Error(`Ed25519 key has no ${name} part`);
  return part.data;
}
