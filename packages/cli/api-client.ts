/** The CLI's HTTP API client: bearer token, JSON, and problem+json errors turned into readable messages. */
import { useRunningLocalRuntime } from "../local/runtime-info";
import { UsageError } from "./command";

export interface ApiTarget {
  url: string;
  token: string;
}

/** The API answered with a problem; `invalidParams` name the offending fields. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly invalidParams: { name: string; in: string; reason: string }[] = [],
  ) {
    super(message);
  }
}

/** Flags win, then IMAGESYNC_API_URL / IMAGESYNC_API_TOKEN, then the running `npm start` runtime. */
export function resolveTarget(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ApiTarget {
  if (!(flags.url ?? env.IMAGESYNC_API_URL) || !(flags.token ?? env.IMAGESYNC_API_TOKEN)) useRunningLocalRuntime(env);
  const url = flags.url ?? env.IMAGESYNC_API_URL;
  const token = flags.token ?? env.IMAGESYNC_API_TOKEN;
  if (!url || !token) {
    throw new UsageError("No API to talk to: pass --url and --token, set IMAGESYNC_API_URL and IMAGESYNC_API_TOKEN, or start the local runtime (npm start)");
  }
  if (!URL.canParse(url)) throw new UsageError(`--url: not a URL: ${url}`);
  return { url: url.replace(/\/+$/, ""), token: token.trim() };
}

export interface Reply<T> {
  status: number;
  /** Undefined on 304 Not Modified. */
  body: T;
  etag?: string;
}

export async function request<T>(
  target: ApiTarget,
  method: "GET" | "POST",
  path: string,
  options: { body?: unknown; etag?: string } = {},
): Promise<Reply<T>> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        ...(options.etag ? { "if-none-match": options.etag } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new ApiError(0, `cannot reach ${target.url}: ${(error as Error).cause ?? (error as Error).message}`);
  }
  const etag = response.headers.get("etag") ?? undefined;
  if (response.status === 304) return { status: 304, body: undefined as T, etag };
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(response.status, `${method} ${path}: HTTP ${response.status} with a body that is not JSON`);
  }
  if (response.status >= 400) {
    const problem = body as { detail?: string; title?: string; invalidParams?: ApiError["invalidParams"] } | undefined;
    throw new ApiError(response.status, problem?.detail ?? problem?.title ?? `HTTP ${response.status}`, problem?.invalidParams);
  }
  return { status: response.status, body: body as T, etag };
}
