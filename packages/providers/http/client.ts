import { createHash, hash, randomUUID } from "node:crypto";
import pLimit, { type LimitFunction } from "p-limit";
import * as z from "../../core/zod";
import { formatIssuePath } from "../../core/issues";
import {
  errorForStatus,
  UpstreamError,
  UpstreamNetworkError,
  UpstreamResponseError,
  UpstreamThrottledError,
  type UpstreamErrorDetails,
} from "./errors";
import { backoffMs, parseRetryAfter, retryPolicy, type RetryOptions, type RetryPolicy } from "./retry";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a provider's error mapper gets for a non-2xx response. */
export interface UpstreamErrorResponse {
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown;
  headers: Record<string, string>;
  /** Prefilled with source, operation, method, path, status, requestId and retryAfterMs. */
  details: UpstreamErrorDetails & { status: number };
}

export type ErrorMapper = (response: UpstreamErrorResponse) => UpstreamError;

/** A request as it goes on the wire, for signing. `path` includes the query string. */
export interface OutgoingRequest {
  method: HttpMethod;
  path: string;
  headers: Record<string, string>;
}

export interface HttpClientOptions {
  /** Base URL; may include a path prefix. */
  baseUrl: string;
  /** Names the upstream in errors, e.g. "triton". */
  source: string;
  /** Per attempt, covering connect, headers and body. Default 30 s. */
  timeoutMs?: number;
  /** Max requests in flight to this upstream (and so connections in use). Default 8. */
  concurrency?: number;
  retry?: RetryOptions;
  /** Headers sent on every request, e.g. Accept-Version. Not for credentials: they belong in `authorize`. */
  defaultHeaders?: Record<string, string>;
  /** Header carrying a fresh request id per call (the same across its retries), e.g. "x-request-id". */
  requestIdHeader?: string;
  /**
   * Adds auth headers. Called for every attempt so that signed dates stay fresh; keeping the
   * credential in this closure keeps it out of inspectable client state and out of errors.
   */
  authorize?: (request: OutgoingRequest) => Record<string, string>;
  /**
   * Applied to the response's text and header values before anything reads them, to remove a credential the
   * upstream echoes (in an error body, a Request-Id, ...), so it reaches no error, log or result.
   */
  redact?: (text: string) => string;
  /** Maps non-2xx responses to typed errors. Default: `errorForStatus` with `code`/`message` from the body. */
  mapError?: ErrorMapper;
  /** Told about each retry before it sleeps; for logs and metrics. Never sees request headers. */
  onRetry?: (event: { attempt: number; delayMs: number; error: UpstreamError }) => void;
}

export interface RequestOptions<S extends z.core.$ZodType> {
  /** Endpoint name used in errors, e.g. "GetImage". */
  operation: string;
  method: HttpMethod;
  /** Path below the base URL, starting with "/", without query string. */
  path: string;
  /** Undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Validates the parsed JSON body (undefined when the body is empty). */
  schema: S;
  /**
   * Whether repeating the request is harmless. Non-idempotent requests (default: POST, PATCH) are
   * retried only when the upstream certainly did not act on them: 429 or connection refused.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** This call's per-attempt timeout, when it differs from the client's. */
  timeoutMs?: number;
}

export interface HttpResponse<T> {
  status: number;
  headers: Record<string, string>;
  data: T;
  /** The upstream's request id (Request-Id header), or the one we sent. */
  requestId: string | undefined;
  /** SHA-256 (base64url) of the body's bytes as received: the sync tells an unchanged listing by it. */
  bodyDigest: string;
}

/**
 * Sent on every request. Also how the tests' leak guard (test/support/leak-guard.ts) tells the upstream
 * answers this client reads, and redacts itself, from the responses a test reads.
 */
export const upstreamUserAgent = "imagesync";

/**
 * Calls one upstream with Node's global `fetch`, whose dispatcher keeps connections alive and pools them
 * per origin; `concurrency` bounds how many this client uses at once.
 */
export class HttpClient {
  readonly source: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly limit: LimitFunction;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: HttpClientOptions) {
    const url = new URL(options.baseUrl);
    this.source = options.source;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.limit = pLimit(options.concurrency ?? 8);
    this.retry = retryPolicy(options.retry);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request<S extends z.core.$ZodType>(options: RequestOptions<S>): Promise<HttpResponse<z.output<S>>> {
    if (this.closed) throw new Error(`${this.source} HTTP client is closed`);
    const pending = this.requestWithRetries(options);
    this.inFlight.add(pending);
    try {
      return await pending;
    } finally {
      this.inFlight.delete(pending);
    }
  }

  /**
   * Refuses new requests and waits for those in flight (retries included). The connections stay in Node's
   * shared pool, which closes them once idle.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.inFlight);
  }

  private async requestWithRetries<S extends z.core.$ZodType>(options: RequestOptions<S>): Promise<HttpResponse<z.output<S>>> {
    const idempotent = options.idempotent ?? !(options.method === "POST" || options.method === "PATCH");
    const requestId = this.options.requestIdHeader ? randomUUID() : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.limit(() => this.attempt(options, requestId));
      } catch (error) {
        if (!(error instanceof UpstreamError) || !this.shouldRetry(error, idempotent, attempt)) throw error;
        const delayMs = backoffMs(this.retry, attempt, error.retryAfterMs);
        this.options.onRetry?.({ attempt, delayMs, error });
        await this.retry.sleep(delayMs);
      }
    }
  }

  private shouldRetry(error: UpstreamError, idempotent: boolean, attempt: number): boolean {
    if (!error.retryable || attempt >= this.retry.maxAttempts) return false;
    if ((error.retryAfterMs ?? 0) > this.retry.maxRetryAfterMs) return false;
    // A throttled request (429, or Triton's documented 420) was not acted on, so even a POST may repeat.
    return idempotent || error instanceof UpstreamThrottledError || error.code === "ECONNREFUSED";
  }

  private async attempt<S extends z.core.$ZodType>(
    options: RequestOptions<S>,
    requestId: string | undefined,
  ): Promise<HttpResponse<z.output<S>>> {
    const fullPath = this.basePath + options.path;
    const pathWithQuery = fullPath + queryString(options.query);
    const details = { source: this.source, operation: options.operation, method: options.method, path: fullPath };
    const url = new URL(pathWithQuery, this.origin);
    // fetch sends the URL as WHATWG parsing leaves it: a path it rewrites (`..` segments) would reach another
    // resource than the one asked for (and signed for), so it is refused.
    if (url.pathname + url.search !== pathWithQuery) throw new TypeError(`${this.source} ${options.operation}: path ${JSON.stringify(fullPath)} is not canonical`);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);

    const headers: Record<string, string> = {
      accept: "application/json",
      // fetch would otherwise ask for gzip and decode it, while Content-MD5 covers the bytes as sent.
      "accept-encoding": "identity",
      "user-agent": upstreamUserAgent,
      ...this.options.defaultHeaders,
      ...options.headers,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (requestId && this.options.requestIdHeader) headers[this.options.requestIdHeader] = requestId;
    Object.assign(headers, this.options.authorize?.({ method: options.method, path: pathWithQuery, headers }));

    const { status, headers: responseHeaders, raw } = await this.exchange(url, { method: options.method, headers, body }, { ...details, requestId }, options);

    const responseDetails = {
      ...details,
      status,
      requestId: responseHeaders["request-id"] ?? responseHeaders["x-request-id"] ?? requestId,
    };
    // HEAD responses describe a body they do not carry.
    const expectedMd5 = options.method === "HEAD" ? undefined : responseHeaders["content-md5"];
    if (expectedMd5 && createHash("md5").update(raw).digest("base64") !== expectedMd5) {
      throw new UpstreamResponseError({ ...responseDetails, retryable: true }, "body does not match Content-MD5");
    }

    const text = this.options.redact ? this.options.redact(raw.toString("utf8")) : raw.toString("utf8");
    if (status < 200 || status >= 300) {
      const errorDetails = { ...responseDetails, retryAfterMs: parseRetryAfter(responseHeaders["retry-after"]) };
      const mapError = this.options.mapError ?? defaultErrorMapper;
      throw mapError({ body: parseJsonOrUndefined(text), headers: responseHeaders, details: errorDetails });
    }

    let json: unknown;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch (error) {
        // A cut-off transfer through a proxy looks like this, so another attempt may succeed.
        throw new UpstreamResponseError({ ...responseDetails, retryable: true, cause: error }, "invalid JSON body");
      }
    }
    const parsed = z.safeParse(options.schema, json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const issuePath = issue ? formatIssuePath(issue.path) : "";
      const summary = `unexpected response body at ${issuePath || "(root)"}: ${issue?.message ?? "invalid"}`;
      throw new UpstreamResponseError({ ...responseDetails, retryable: false, issuePath }, summary);
    }
    return { status, headers: responseHeaders, data: parsed.data, requestId: responseDetails.requestId, bodyDigest: hash("sha256", raw, "base64url") };
  }

  /** One request and its whole body, within the attempt's timeout; transport failures become UpstreamNetworkError. */
  private async exchange(
    url: URL,
    init: { method: HttpMethod; headers: Record<string, string>; body: string | undefined },
    details: UpstreamErrorDetails,
    options: Pick<RequestOptions<z.core.$ZodType>, "signal" | "timeoutMs">,
  ): Promise<{ status: number; headers: Record<string, string>; raw: Buffer }> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      // Redirects are the caller's to see (Triton's GetDatacenter answers 302), as with any other status.
      const response = await fetch(url, { ...init, signal, redirect: "manual" });
      const headers = flattenHeaders(response.headers, this.options.redact);
      return { status: response.status, headers, raw: Buffer.from(await response.arrayBuffer()) };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (timeout.aborted) throw new UpstreamNetworkError({ ...details, code: "ETIMEDOUT", cause: error }, `timed out after ${timeoutMs} ms`);
      const { code, reason } = networkFailure(error);
      throw new UpstreamNetworkError({ ...details, code, cause: error }, `network error (${reason})`);
    }
  }
}

/** Reads `code`, `message` and `errors` the way most JSON APIs send them. */
export function defaultErrorMapper({ body, details }: UpstreamErrorResponse): UpstreamError {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  return errorForStatus({
    ...details,
    code: typeof fields.code === "string" ? fields.code : undefined,
    upstreamMessage: typeof fields.message === "string" ? fields.message : undefined,
  });
}

function queryString(query: RequestOptions<z.core.$ZodType>["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.append(name, String(value));
  }
  const encoded = params.toString();
  return encoded ? `?${encoded}` : "";
}

/** Header names come lower-cased; a repeated header's values are joined as HTTP allows. */
function flattenHeaders(headers: Headers, redact = (text: string) => text): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of headers) flat[name] = flat[name] === undefined ? redact(value) : `${flat[name]}, ${redact(value)}`;
  return flat;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * fetch rejects with a generic TypeError ("fetch failed", "terminated") whose `cause` is the socket's
 * error: its code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET) and message are the useful ones.
 */
function networkFailure(error: unknown): { code: string; reason: string } {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return {
    code: typeof code === "string" ? code : "ENETWORK",
    reason: cause instanceof Error ? cause.message : String(cause),
  };
}
