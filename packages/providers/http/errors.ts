/**
 * Typed errors for calls to upstream cloud APIs.
 *
 * Errors carry only what is safe to log: the operation, method, path, status, the upstream's own
 * error code and message, and the request id. Request headers (and so credentials) never reach them.
 */

export interface UpstreamErrorDetails {
  /** Which upstream, e.g. "triton" or "coxedge". */
  source: string;
  /** Endpoint name, e.g. "ListImages". */
  operation: string;
  method: string;
  /** Request path without the query string. */
  path: string;
  status?: number;
  /** The upstream's error code, e.g. "ResourceNotFound", or a network error code such as "ECONNRESET". */
  code?: string;
  /** The upstream's error message, verbatim. */
  upstreamMessage?: string;
  requestId?: string;
  /** Delay the upstream asked for (Retry-After), in ms. */
  retryAfterMs?: number;
  /** Per-field validation errors from the upstream body, if it sent any. */
  fieldErrors?: UpstreamFieldError[];
  cause?: unknown;
}

export interface UpstreamFieldError {
  field: string;
  code?: string;
  message?: string;
}

export class UpstreamError extends Error {
  override name = "UpstreamError";
  readonly source: string;
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly upstreamMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly fieldErrors: UpstreamFieldError[];
  /** Whether repeating the same request may succeed. */
  readonly retryable: boolean = false;

  constructor(details: UpstreamErrorDetails, summary?: string) {
    super(describe(details, summary), details.cause === undefined ? undefined : { cause: details.cause });
    this.source = details.source;
    this.operation = details.operation;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.code = details.code;
    this.upstreamMessage = details.upstreamMessage;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
    this.fieldErrors = details.fieldErrors ?? [];
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      source: this.source,
      operation: this.operation,
      method: this.method,
      path: this.path,
      status: this.status,
      code: this.code,
      upstreamMessage: this.upstreamMessage,
      requestId: this.requestId,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      fieldErrors: this.fieldErrors.length > 0 ? this.fieldErrors : undefined,
    };
  }
}

/** 401, bad or expired signature, unknown key or API key. */
export class UpstreamAuthError extends UpstreamError {
  override name = "UpstreamAuthError";
}

/** Authenticated, but not allowed to do this (403, or the upstream's "not the owner" errors). */
export class UpstreamPermissionError extends UpstreamError {
  override name = "UpstreamPermissionError";
}

export class UpstreamNotFoundError extends UpstreamError {
  override name = "UpstreamNotFoundError";
}

/** The request conflicts with the resource's current state (e.g. already exists, has dependents). */
export class UpstreamConflictError extends UpstreamError {
  override name = "UpstreamConflictError";
}

/** The upstream rejected the request's parameters. */
export class UpstreamValidationError extends UpstreamError {
  override name = "UpstreamValidationError";
}

export class UpstreamThrottledError extends UpstreamError {
  override name = "UpstreamThrottledError";
  override readonly retryable = true;
}

/** 5xx. Retryable unless the upstream says the feature is not implemented (501). */
export class UpstreamServerError extends UpstreamError {
  override name = "UpstreamServerError";
  override readonly retryable: boolean;
  constructor(details: UpstreamErrorDetails, summary?: string) {
    super(details, summary);
    this.retryable = details.status !== 501;
  }
}

/** Connection refused or reset, socket closed mid-response, or timeout. */
export class UpstreamNetworkError extends UpstreamError {
  override name = "UpstreamNetworkError";
  override readonly retryable = true;
}

/**
 * The upstream answered, but not with what we expect: invalid JSON, a Content-MD5 mismatch, or a
 * body that does not match the schema. `issuePath` names the offending field for schema mismatches.
 */
export class UpstreamResponseError extends UpstreamError {
  override name = "UpstreamResponseError";
  override readonly retryable: boolean;
  readonly issuePath: string | undefined;
  constructor(details: UpstreamErrorDetails & { issuePath?: string; retryable: boolean }, summary: string) {
    super(details, summary);
    this.issuePath = details.issuePath;
    this.retryable = details.retryable;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issuePath: this.issuePath };
  }
}

/**
 * The default mapping from an HTTP error status to an error class. Provider mappers call this and
 * override the class only where the upstream's `code` says more than its status.
 */
export function errorForStatus(details: UpstreamErrorDetails & { status: number }): UpstreamError {
  const { status } = details;
  if (status === 401) return new UpstreamAuthError(details);
  if (status === 403) return new UpstreamPermissionError(details);
  if (status === 404) return new UpstreamNotFoundError(details);
  if (status === 409) return new UpstreamConflictError(details);
  if (status === 400 || status === 422) return new UpstreamValidationError(details);
  if (status === 429) return new UpstreamThrottledError(details);
  if (status >= 500) return new UpstreamServerError(details);
  return new UpstreamError(details);
}

function describe(details: UpstreamErrorDetails, summary: string | undefined): string {
  const parts = [`${details.source} ${details.operation} (${details.method} ${details.path})`];
  if (details.status !== undefined) parts.push(`HTTP ${details.status}`);
  if (summary) parts.push(summary);
  if (details.code) parts.push(details.code);
  if (details.upstreamMessage) parts.push(details.upstreamMessage);
  if (details.requestId) parts.push(`request-id ${details.requestId}`);
  return parts.join(": ");
}
