/**
 * Simulator side of CloudAPI's HTTP Signature check (notes §5.4). Verification uses node:crypto
 * directly, independent of the client's signing code, so the two check each other.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import sshpk from "sshpk";
import type { SimRequest } from "../kit";
import { signingString } from "../../providers/triton/signing";

export interface SimKey {
  /** Key name as registered (defaults to the fingerprint). */
  name: string;
  /** MD5 fingerprint, colon hex. */
  fingerprint: string;
  /** OpenSSH public key line. */
  openssh: string;
  type: "rsa" | "ecdsa" | "ed25519";
  keyObject: KeyObject;
}

export interface SimAccount {
  login: string;
  uuid: string;
  keys: SimKey[];
  /** RBAC sub-users by login; they act on behalf of this account. */
  users: Map<string, { login: string; uuid: string; keys: SimKey[] }>;
}

export type AuthOutcome =
  | { ok: true; account: SimAccount; user: string | undefined }
  | { ok: false; status: number; code: string; message: string };

/** Algorithms CloudAPI's SIGN_ALGOS allows. */
const supportedAlgorithms = new Set([
  "rsa-sha1",
  "rsa-sha256",
  "rsa-sha384",
  "rsa-sha512",
  "dsa-sha1",
  "dsa-sha256",
  "ecdsa-sha256",
  "ecdsa-sha384",
  "ecdsa-sha512",
  "ed25519-sha512",
]);

const invalidCredentials = (message = "Invalid authorization credentials supplied") =>
  ({ ok: false, status: 401, code: "InvalidCredentials", message }) as const;
const invalidHeader = (reason: string) =>
  ({ ok: false, status: 400, code: "InvalidHeader", message: `Authorization header invalid: ${reason}` }) as const;

export function simKeyFromOpenSsh(openssh: string, name?: string): SimKey {
  const parsed = sshpk.parseKey(openssh, "ssh");
  const fingerprint = parsed.fingerprint("md5").toString("hex");
  if (parsed.type !== "rsa" && parsed.type !== "ecdsa" && parsed.type !== "ed25519") {
    throw new Error(`unsupported key type ${parsed.type}`);
  }
  return { name: name ?? fingerprint, fingerprint, openssh, type: parsed.type, keyObject: toKeyObject(parsed) };
}

/** Authenticates a request against the registered accounts, in CloudAPI's order of checks. */
export function authenticate(
  request: SimRequest,
  accounts: ReadonlyMap<string, SimAccount>,
  options: { now: number; clockSkewSeconds: number },
): AuthOutcome {
  const header = request.headers.authorization;
  if (!header) return invalidCredentials("You must make authenticated requests to use CloudAPI");

  const parsed = parseAuthorization(header);
  if (typeof parsed === "string") return invalidHeader(parsed);
  const { keyId, algorithm, signature } = parsed.params;
  if (!keyId) return invalidHeader("keyId was not specified");
  if (!algorithm) return invalidHeader("algorithm was not specified");
  if (!signature) return invalidHeader("signature was not specified");

  // http-signature 1.4 (which CloudAPI parses with) only knows these hashes, so rsa-sha384 fails here.
  const [keyType, hash] = algorithm.toLowerCase().split("-");
  if (!keyType || !["rsa", "dsa", "ecdsa", "ed25519", "hmac"].includes(keyType) || !["sha1", "sha256", "sha512"].includes(hash ?? "")) {
    return invalidHeader(`${algorithm} is not supported`);
  }

  const dateHeader = request.headers["x-date"] ? "x-date" : "date";
  const signedHeaders = (parsed.params.headers ?? dateHeader).toLowerCase().split(" ").filter(Boolean);
  let text: string;
  try {
    text = signingString(signedHeaders, { method: request.method, path: request.url, headers: flatHeaders(request) });
  } catch (error) {
    return invalidHeader(error instanceof Error ? error.message : "bad signing string");
  }
  const dateValue = flatHeaders(request)[dateHeader];
  if (dateValue !== undefined) {
    const skewMs = Math.abs(options.now - new Date(dateValue).getTime());
    if (!(skewMs <= options.clockSkewSeconds * 1000)) {
      return invalidHeader(`clock skew of ${skewMs / 1000}s was greater than ${options.clockSkewSeconds}s`);
    }
  }
  if (!signedHeaders.includes(dateHeader)) return invalidHeader(`${dateHeader} was not a signed header`);

  if (!supportedAlgorithms.has(algorithm.toLowerCase())) {
    return invalidCredentials(`${algorithm.toUpperCase()} is not a supported signing algorithm`);
  }

  const parts = keyId.split("/");
  const isAccountKey = parts.length === 4 && parts[2] === "keys";
  const isUserKey = parts.length === 6 && parts[2] === "users" && parts[4] === "keys";
  if (parts[0] !== "" || !(isAccountKey || isUserKey)) {
    return invalidCredentials(`Invalid KeyId ${keyId} in authorization header`);
  }
  const account = accounts.get(parts[1] ?? "");
  const userLogin = isUserKey ? parts[3] : undefined;
  const keyHolder = userLogin === undefined ? account : account?.users.get(userLogin);
  const keyName = parts[parts.length - 1];
  const key = keyHolder?.keys.find((candidate) => candidate.fingerprint === keyName || candidate.name === keyName);
  if (!account || !key) return invalidCredentials();

  if (keyType !== key.type) return invalidCredentials();
  const valid = verify(
    key.type === "ed25519" ? null : (hash ?? null),
    Buffer.from(text),
    key.keyObject,
    Buffer.from(signature, "base64"),
  );
  if (!valid) return invalidCredentials();
  return { ok: true, account, user: userLogin };
}

/** Parses `Signature k="v",k2="v2"` (numbers allowed unquoted); returns a reason string when malformed. */
function parseAuthorization(header: string): { params: Record<string, string> } | string {
  const match = /^Signature\s+(.*)$/s.exec(header.trim());
  if (!match) return 'scheme was not "Signature"';
  const params: Record<string, string> = {};
  const paramPattern = /\s*([A-Za-z]+)=(?:"([^"]*)"|(\d+))\s*(?:,|$)/gy;
  const rest = match[1] ?? "";
  let consumed = 0;
  for (let param = paramPattern.exec(rest); param; param = paramPattern.exec(rest)) {
    params[param[1] ?? ""] = param[2] ?? param[3] ?? "";
    consumed = paramPattern.lastIndex;
    if (consumed === rest.length) break;
  }
  if (consumed !== rest.length) return "bad param format";
  return { params };
}

function flatHeaders(request: SimRequest): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  return flat;
}

/** OpenSSH public key → KeyObject. Ed25519 goes through JWK because sshpk's PKCS#8 predates RFC 8410. */
function toKeyObject(key: sshpk.Key): KeyObject {
  if (key.type === "ed25519") {
    const point = (key.part as Record<string, { data: Buffer } | undefined>).A;
    if (!point) throw new Error("Ed25519 key has no public point");
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: point.data.toString("base64url") }, format: "jwk" });
  }
  return createPublicKey(key.toString("pkcs8"));
}
