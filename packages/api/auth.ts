/**
 * Bearer tokens with scopes. Every configured token is compared, each in constant time on hashes (so
 * neither lengths nor which token matched leak through timing); an unknown token is 401, a known one
 * without the scope a route needs is 403. A caller is known by the token's name, never by the token.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiTokenConfig, TokenScope } from "../core/config";
import { ApiProblem } from "./problem";

export interface Caller {
  /** The token's name, for logs. */
  name: string;
  scopes: readonly TokenScope[];
  /** Keys this caller's page cursors, so a cursor works only for the token it was issued to. */
  secret: string;
}

const digest = (value: string) => createHash("sha256").update(value).digest();
const unauthorized = (message: string) => new ApiProblem(401, message, undefined, { "www-authenticate": 'Bearer realm="imagesync"' });

export function bearerAuthenticator(tokens: readonly ApiTokenConfig[]): (authorization: string | undefined) => Caller {
  const known = tokens.map((entry) => ({ digest: digest(entry.token), caller: { name: entry.name, scopes: entry.scopes, secret: entry.token } }));
  return (authorization) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    if (presented === undefined) {
      throw unauthorized(authorization ? "The bearer token is not valid" : "An Authorization: Bearer token is required");
    }
    const presentedDigest = digest(presented);
    let match: Caller | undefined;
    // No early exit: every token is compared, whichever matches.
    for (const entry of known) if (timingSafeEqual(presentedDigest, entry.digest)) match = entry.caller;
    if (!match) throw unauthorized("The bearer token is not valid");
    return match;
  };
}

/** 403 unless the caller's token has the scope the route needs. */
export function requireScope(caller: Caller, scope: TokenScope): void {
  if (!caller.scopes.includes(scope)) {
    throw new ApiProblem(403, `The token "${caller.name}" does not have the "${scope}" scope this request needs`);
  }
}
