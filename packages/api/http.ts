/**
 * The API's own request/response shapes (no Lambda types): the router turns API Gateway events into an
 * `ApiRequest` and an `ApiResult` back into a payload-2.0 result.
 */
import { createHash } from "node:crypto";

export interface ApiResult {
  status: number;
  /** Serialised as JSON; absent for 304. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A JSON body serialised once, with its entity tag: cached responses reuse both. */
export interface Representation {
  json: string;
  etag: string;
}

export function represent(body: unknown): Representation {
  const json = JSON.stringify(body);
  // Strong validator over the exact bytes; 20 bytes of SHA-1 is plenty to tell versions apart.
  return { json, etag: `"${createHash("sha1").update(json).digest("base64url")}"` };
}

/** RFC 9110 If-None-Match: a list of (possibly weak) tags or `*`; weak comparison applies to GET. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
