/**
 * Adapts API Gateway HTTP API (payload 2.0) events to the route table: routes are picked by the event's
 * `routeKey` (the exact strings of `apiRoutes`), then the bearer token, query, path and body are checked
 * before a route sees them, and results become JSON with an ETag (304 on If-None-Match) or problem+json.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type * as z from "../core/zod";
import { ConfigLoader } from "../core/config";
import { logger } from "../core/observability";
import { bearerAuthenticator, requireScope, type Caller } from "./auth";
import { TtlCache } from "./cache";
import { cursorCodec, type CursorCodec } from "./cursor";
import { matchesIfNoneMatch, represent, type ApiResult, type Representation } from "./http";
import { ApiProblem, fromZodError, invalidParam, type ParamLocation } from "./problem";
import type { ApiContext, ApiRoute, RouteSpec } from "./route";
import { routes } from "./routes";

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApiHandlerOptions {
  config?: ConfigLoader;
  /**
   * How long a cacheable read is reused within this process. One second removes repeated DynamoDB reads of a
   * hot page under load while staying within the staleness an eventually consistent GSI read has anyway.
   */
  cacheTtlMs?: number;
}

const readHeaders = { "content-type": "application/json", "cache-control": "private, no-cache" };

function validate(location: ParamLocation, schema: z.ZodMiniType | undefined, input: unknown): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZodError(location, parsed.error);
  return parsed.data;
}

/** Parsed from the raw query string: API Gateway's `queryStringParameters` merges repeats with commas. */
function queryParameters(raw: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    if (name in params) throw invalidParam("query", name, "given more than once");
    params[name] = value;
  }
  return params;
}

function jsonBody(event: APIGatewayProxyEventV2): unknown {
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(event.headers["content-type"] ?? "")) {
    throw new ApiProblem(415, "The request body must be JSON (Content-Type: application/json)");
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : (event.body ?? "");
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiProblem(400, "The request body is not valid JSON", [{ name: "(root)", in: "body", reason: "not valid JSON" }]);
  }
}

function problemResult(problem: ApiProblem): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: problem.status,
    headers: { "content-type": "application/problem+json", ...problem.headers },
    body: JSON.stringify(problem.body()),
  };
}

function readResult(representation: Representation, ifNoneMatch: string | undefined): APIGatewayProxyStructuredResultV2 {
  const headers = { ...readHeaders, etag: representation.etag };
  return matchesIfNoneMatch(ifNoneMatch, representation.etag)
    ? { statusCode: 304, headers }
    : { statusCode: 200, headers, body: representation.json };
}

export function createApiHandler(options: ApiHandlerOptions = {}): ApiHandler {
  const config = options.config ?? new ConfigLoader();
  const cache = new TtlCache<Representation>(options.cacheTtlMs ?? 1000, 500);
  // Built on first use: the tokens are a secret the health check must not depend on.
  let authenticate: ((header: string | undefined) => Caller) | undefined;
  const cursorsByCaller = new Map<string, CursorCodec>();
  const cursorsFor = (caller: Caller | undefined): CursorCodec => {
    if (!caller) return cursorCodec("public routes issue no cursors");
    let codec = cursorsByCaller.get(caller.name);
    if (!codec) cursorsByCaller.set(caller.name, (codec = cursorCodec(caller.secret)));
    return codec;
  };

  async function dispatch(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const spec = routes[event.routeKey as ApiRoute] as RouteSpec | undefined;
    if (!spec) throw new ApiProblem(404, `No route ${event.routeKey}`);
    let caller: Caller | undefined;
    if (!spec.public) {
      authenticate ??= bearerAuthenticator(config.apiTokens());
      caller = authenticate(event.headers.authorization);
      logger.appendKeys({ token: caller.name });
      requireScope(caller, spec.scope ?? "read");
    }
    const context: ApiContext = { config, cursors: cursorsFor(caller), caller };

    const input = {
      query: validate("query", spec.query, queryParameters(event.rawQueryString ?? "")),
      path: validate("path", spec.path, event.pathParameters ?? {}),
      body: spec.body ? validate("body", spec.body, jsonBody(event)) : undefined,
      headers: event.headers,
    };
    const isRead = event.requestContext.http.method === "GET";
    // Validated inputs (defaults applied, keys in schema order), so equivalent requests share an entry.
    const cacheKey = spec.cacheable ? `${event.routeKey} ${JSON.stringify([input.path, input.query])}` : undefined;
    const cached = cacheKey === undefined ? undefined : cache.get(cacheKey);
    if (cached) return readResult(cached, event.headers["if-none-match"]);

    const result: ApiResult = await spec.handle(input, context);
    if (isRead && result.status === 200) {
      const representation = represent(result.body);
      if (cacheKey !== undefined) cache.set(cacheKey, representation);
      return readResult(representation, event.headers["if-none-match"]);
    }
    return {
      statusCode: result.status,
      headers: { "content-type": "application/json", ...result.headers },
      ...(result.body === undefined ? {} : { body: JSON.stringify(result.body) }),
    };
  }

  return async (event) => {
    try {
      return await dispatch(event);
    } catch (error) {
      if (error instanceof ApiProblem) {
        if (error.status === 401 || error.status === 403) logger.warn("request refused", { routeKey: event.routeKey, status: error.status, detail: error.detail });
        return problemResult(error);
      }
      logger.error("request failed", { routeKey: event.routeKey, error: error as Error });
      return problemResult(new ApiProblem(500, `Internal error (request ${event.requestContext.requestId})`));
    } finally {
      logger.removeKeys(["token"]);
    }
  };
}
