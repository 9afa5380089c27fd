/**
 * The console's one way to the API: same origin, with the bearer token from this tab's session storage in
 * the Authorization header, never in a URL or a cookie. A 401 means the token is no longer accepted: the
 * app asks for one again.
 */
const tokenKey = "imagesync.token";

export interface InvalidParam {
  name: string;
  in: string;
  reason: string;
}

/** An API problem (RFC 9457): status, detail, and each offending field. */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly detail: string,
    readonly invalidParams: InvalidParam[] = [],
  ) {
    super(detail);
  }
}

export const session = {
  token: (): string | null => sessionStorage.getItem(tokenKey),
  keep: (token: string) => sessionStorage.setItem(tokenKey, token),
  forget: () => sessionStorage.removeItem(tokenKey),
};

let unauthorized: () => void = () => undefined;
/** What to do when the API refuses the stored token. */
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}

export type Query = Record<string, string | undefined> | URLSearchParams;

/** `path?query`, leaving out empty values. */
export function withQuery(path: string, query: Query = {}): string {
  const entries = query instanceof URLSearchParams ? [...query] : Object.entries(query);
  const params = new URLSearchParams(entries.filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The query with a page's cursor added (none for the first page). */
export function pageQuery(query: Query, cursor: string | undefined): URLSearchParams {
  const params = new URLSearchParams(query instanceof URLSearchParams ? query : Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
  if (cursor) params.set("cursor", cursor);
  return params;
}

/** One request; resolves with the JSON body, or throws an ApiError. `token` checks a token before it is kept. */
export async function request<T>(method: "GET" | "POST", path: string, options: { body?: unknown; signal?: AbortSignal; token?: string } = {}): Promise<T> {
  const token = options.token ?? session.token() ?? "";
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  const init: RequestInit = { method, headers, signal: options.signal, credentials: "omit" };
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (response.ok) return body as T;
  if (response.status === 401 && options.token === undefined) unauthorized();
  const detail = typeof body.detail === "string" ? body.detail : `${response.status} ${response.statusText}`;
  throw new ApiError(response.status, detail, Array.isArray(body.invalidParams) ? (body.invalidParams as InvalidParam[]) : []);
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>("GET", withQuery(path, query), { signal });

/** The image's API path; a Cox Edge id's slashes stay path separators, as the API expects. */
export const imagePath = (provider: string, id: string) => `/images/${[provider, ...id.split("/")].map(encodeURIComponent).join("/")}`;
