/**
 * Simulator side of CloudAPI's HTTP Signature check (TritonDataCenter/sdc-cloudapi lib/authorization.js
 * and lib/auth.js, parsed as http-signature 1.4 does). Signing strings are rebuilt and verified here with
 * node:crypto, independently of the client's signing code, so the two check each other.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import sshpk from "sshpk";
import type { SimRequest } from "../kit";

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

/** The algorithms CloudAPI passes to the parser (lib/authorization.js OPTIONS.algorithms); hmac-* is not among them. */
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
  // A scheme other than Signature is not parsed at all, so the request is simply unauthenticated.
  if (!header || !/^signature\s/i.test(header)) return invalidCredentials("You must make authenticated requests to use CloudAPI");

  const parsed = parseAuthorization(header);
  if (typeof parsed === "string") return invalidHeader(parsed);
  const { keyId, algorithm, signature } = parsed.params;
  if (!keyId) return invalidHeader("keyId was not specified");
  if (!algorithm) return invalidHeader("algorithm was not specified");
  if (!signature) return invalidHeader("signature was not specified");
  const checked = checkSignedRequest(request, parsed.params, algorithm.toLowerCase(), options);
  if (typeof checked === "string") return invalidHeader(checked);

  const keyHolder = findKey(keyId, accounts);
  if ("status" in keyHolder) return keyHolder;
  const { account, user, key } = keyHolder;
  if (checked.keyType !== key.type) return invalidCredentials();
  const valid = verify(
    key.type === "ed25519" ? null : checked.hash,
    Buffer.from(checked.text),
    key.keyObject,
    Buffer.from(signature, "base64"),
  );
  if (!valid) return invalidCredentials();
  return { ok: true, account, user };
}

/**
 * What http-signature 1.4's parser checks before any key is looked up, in its order (lib/parser.js):
 * the algorithm's form and hash (it knows sha1, sha256, sha512), the signed headers exist, the date's
 * skew, the date is signed, and last the algorithm is one CloudAPI allows (so hmac-* fails here).
 * Returns the signing string, or the reason for a 400 InvalidHeader.
 */
function checkSignedRequest(
  request: SimRequest,
  params: Record<string, string>,
  algorithm: string,
  options: { now: number; clockSkewSeconds: number },
): { text: string; keyType: string; hash: string } | string {
  const [keyType = "", hash = "", ...extra] = algorithm.split("-");
  const knownForm = extra.length === 0 && ["rsa", "dsa", "ecdsa", "ed25519", "hmac"].includes(keyType);
  if (!knownForm || !["sha1", "sha256", "sha512"].includes(hash)) return `${algorithm} is not supported`;
  const headers = flatHeaders(request);
  const dateHeader = headers["x-date"] ? "x-date" : "date";
  const signedHeaders = (params.headers ?? dateHeader).toLowerCase().split(" ").filter(Boolean);
  const text = buildSigningString(signedHeaders, request, headers);
  if (!text.ok) return text.reason;
  const dateValue = headers[dateHeader];
  if (dateValue !== undefined) {
    const skewMs = Math.abs(options.now - new Date(dateValue).getTime());
    if (!(skewMs <= options.clockSkewSeconds * 1000)) {
      return `clock skew of ${skewMs / 1000}s was greater than ${options.clockSkewSeconds}s`;
    }
  }
  if (!signedHeaders.includes(dateHeader)) return `${dateHeader} was not a signed header`;
  if (!supportedAlgorithms.has(algorithm)) return `${algorithm} is not a supported algorithm`;
  return { text: text.value, keyType, hash };
}

/** draft-cavage signing string: `(request-target): <method> <url>`, `request-line`, or `name: value` lines. */
function buildSigningString(
  names: readonly string[],
  request: SimRequest,
  headers: Record<string, string | undefined>,
): { ok: true; value: string } | { ok: false; reason: string } {
  const lines: string[] = [];
  for (const name of names) {
    if (name === "(request-target)") lines.push(`(request-target): ${request.method.toLowerCase()} ${request.url}`);
    else if (name === "request-line") lines.push(`${request.method} ${request.url} HTTP/1.1`);
    else if (headers[name] === undefined) return { ok: false, reason: `${name} was not in the request` };
    else lines.push(`${name}: ${headers[name]}`);
  }
  return { ok: true, value: lines.join("\n") };
}

/** keyId `/<login>/keys/<key>` or `/<login>/users/<user>/keys/<key>`; the key by fingerprint or name. */
function findKey(
  keyId: string,
  accounts: ReadonlyMap<string, SimAccount>,
): { account: SimAccount; user: string | undefined; key: SimKey } | Extract<AuthOutcome, { ok: false }> {
  const parts = keyId.split("/");
  const isAccountKey = parts.length === 4 && parts[2] === "keys";
  const isUserKey = parts.length === 6 && parts[2] === "users" && parts[4] === "keys";
  if (parts[0] !== "" || !(isAccountKey || isUserKey)) return invalidCredentials(`Invalid KeyId ${keyId} in authorization header`);
  const account = accounts.get(parts[1] ?? "");
  const user = isUserKey ? parts[3] : undefined;
  const keyHolder = user === undefined ? account : account?.users.get(user);
  const keyName = parts[parts.length - 1];
  const key = keyHolder?.keys.find((candidate) => candidate.fingerprint === keyName || candidate.name === keyName);
  if (!account || !key) return invalidCredentials();
  return { account, user, key };
}

/** Parses `Signature k="v",k2="v2"` (numbers allowed unquoted); returns a reason string when malformed. */
function parseAuthorization(header: string): { params: Record<string, string> } | string {
  const match = /^Signature\s+(.*)$/is.exec(header.trim());
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
