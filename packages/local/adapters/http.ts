/**
 * Serves a Lambda handler over HTTP the way API Gateway HTTP API does with payload format 2.0: the route
 * table is the one infra/ deploys, unmatched paths get API Gateway's own 404, and the handler's result is
 * mapped back to an HTTP response with the same rules (a plain object becomes a 200 JSON body). A request
 * API Gateway would refuse before any function runs (a bad percent-escape or NUL in the path or query, a
 * request line or headers over its 10 KiB limit, a body over 10 MB) gets a 400/413 problem+json, and no
 * request, however malformed, can stop the server.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { invoke, type FunctionSettings, type LambdaHandler } from "./lambda";

export type HttpHandler = LambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 | string | object>;

interface Route {
  routeKey: string;
  method: string;
  segments: string[];
}

export interface RouteMatch {
  routeKey: string;
  pathParameters?: Record<string, string>;
}

/** API Gateway picks the most specific route: literal segments beat parameters, which beat a greedy tail. */
export function routeMatcher(routeKeys: readonly string[]): (method: string, path: string) => RouteMatch | undefined {
  const routes: Route[] = routeKeys.map((routeKey) => {
    const [method, template] = routeKey.split(" ") as [string, string];
    return { routeKey, method, segments: template.split("/").filter(Boolean) };
  });
  const specificity = (route: Route) =>
    route.segments.map((s) => (s.endsWith("+}") ? "0" : s.startsWith("{") ? "1" : "2")).join("");
  routes.sort((a, b) => specificity(b).localeCompare(specificity(a)));

  return (method, path) => {
    const parts = path.split("/").filter(Boolean);
    for (const route of routes) {
      if (route.method !== method && route.method !== "ANY") continue;
      const params = matchSegments(route.segments, parts);
      if (params) return Object.keys(params).length ? { routeKey: route.routeKey, pathParameters: params } : { routeKey: route.routeKey };
    }
    return undefined;
  };
}

/** A request refused before routing, with the reason that goes into its problem+json `detail`. */
export class MalformedRequestError extends Error {
  override readonly name = "MalformedRequestError";
}

/** Decodes one path or query component; a bad escape or a NUL is a malformed request, as API Gateway refuses it. */
function decodeComponent(component: string, where: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(component);
  } catch {
    throw new MalformedRequestError(`the ${where} has an invalid percent-escape`);
  }
  if (decoded.includes("\0")) throw new MalformedRequestError(`the ${where} contains a NUL character`);
  return decoded;
}

/** Checks the query string the way API Gateway decodes it, before the handler sees it. */
export function checkQueryString(search: string): void {
  for (const pair of search.replace(/^\?/, "").split("&")) {
    for (const part of pair.split("=")) decodeComponent(part.replaceAll("+", " "), "query string");
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, segment] of template.entries()) {
    const greedy = /^\{(.+)\+\}$/.exec(segment);
    if (greedy) {
      if (i >= parts.length) return undefined;
      params[greedy[1] as string] = parts.slice(i).map((part) => decodeComponent(part, "path")).join("/");
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    const param = /^\{(.+)\}$/.exec(segment);
    if (param) params[param[1] as string] = decodeComponent(part, "path");
    else if (segment !== part) return undefined;
  }
  return parts.length === template.length ? params : undefined;
}

const textContentType = /^(text\/|application\/(json|[a-z.+-]*\+json|xml|x-www-form-urlencoded|javascript))/i;

export function toApiGatewayEvent(request: IncomingMessage, body: Buffer, match: RouteMatch): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") cookies.push(...String(value).split(/;\s*/).filter(Boolean));
    else headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const isBase64Encoded = body.length > 0 && !textContentType.test(headers["content-type"] ?? "");
  const now = new Date();
  const method = request.method ?? "GET";
  return {
    version: "2.0",
    routeKey: match.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: (headers.host ?? "local").split(".")[0] as string,
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: match.routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isBase64Encoded ? body.toString("base64") : body.toString("utf8") } : {}),
    isBase64Encoded,
  };
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string | object | undefined): void {
  // Payload 2.0: a result without statusCode is treated as a 200 JSON body.
  const structured =
    typeof result === "object" && result !== null && "statusCode" in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : { statusCode: 200, headers: { "content-type": "application/json" }, body: typeof result === "string" ? result : JSON.stringify(result) };
  for (const [name, value] of Object.entries(structured.headers ?? {})) response.setHeader(name, String(value));
  if (structured.cookies?.length) response.setHeader("set-cookie", structured.cookies);
  response.statusCode = structured.statusCode ?? 200;
  const body = structured.body ?? "";
  response.end(structured.isBase64Encoded ? Buffer.from(body, "base64") : body);
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

const problemTitles: Record<number, string> = { 400: "Bad Request", 413: "Content Too Large" };

/** An RFC 9457 problem, as the API answers its own errors. */
function sendProblem(response: ServerResponse, status: number, detail: string): void {
  const body = JSON.stringify({ type: "about:blank", title: problemTitles[status] ?? "Error", status, detail });
  response.writeHead(status, { "content-type": "application/problem+json", "content-length": Buffer.byteLength(body) }).end(body);
}

/** API Gateway HTTP API refuses a request line plus headers over 10 KiB. */
const maxHeaderBytes = 10 * 1024;

/** A function serving some of the API's routes (the console's files beside the API's handler). */
export interface HttpFunction {
  routes: readonly string[];
  handler: HttpHandler;
  settings: FunctionSettings;
}

export interface HttpAdapter {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function startHttpAdapter(options: {
  handler: HttpHandler;
  routes: readonly string[];
  settings: FunctionSettings;
  /** More functions on their own routes of the same API. */
  also?: readonly HttpFunction[];
  port?: number;
  /** API Gateway's payload limit is 10 MB. */
  maxBodyBytes?: number;
  onError?: (error: unknown) => void;
}): Promise<HttpAdapter> {
  const functions: HttpFunction[] = [{ routes: options.routes, handler: options.handler, settings: options.settings }, ...(options.also ?? [])];
  const functionOf = new Map(functions.flatMap((fn) => fn.routes.map((routeKey) => [routeKey, fn] as const)));
  const match = routeMatcher([...functionOf.keys()]);
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) {
        // The rest of the body is left unread, so this connection cannot carry another request: the client
        // must not reuse it (it would meet a reset), hence `connection: close` on the answer.
        response.setHeader("connection", "close");
        return sendProblem(response, 413, `the body is larger than ${maxBodyBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    let route: RouteMatch | undefined;
    try {
      const url = new URL(request.url ?? "/", "http://localhost");
      checkQueryString(url.search);
      route = match(request.method ?? "GET", url.pathname);
    } catch (error) {
      if (error instanceof MalformedRequestError || error instanceof TypeError) return sendProblem(response, 400, `Malformed request: ${(error as Error).message}`);
      throw error;
    }
    if (!route) return sendJson(response, 404, { message: "Not Found" });
    const target = functionOf.get(route.routeKey) as HttpFunction;
    try {
      writeResult(response, await invoke(target.handler, toApiGatewayEvent(request, Buffer.concat(chunks), route), target.settings));
    } catch (error) {
      // API Gateway hides function errors behind a generic 500; the detail goes to the function's log.
      options.onError?.(error);
      sendJson(response, 500, { message: "Internal Server Error" });
    }
  }

  const server = createServer({ maxHeaderSize: maxHeaderBytes }, (request, response) => {
    serve(request, response).catch((error: unknown) => {
      // Whatever went wrong (a socket error mid-body, a bug here), this request ends and the server goes on.
      options.onError?.(error);
      if (!response.headersSent) sendJson(response, 500, { message: "Internal Server Error" });
      else response.destroy();
    });
  });
  // Requests Node's parser refuses (a request line or headers over the limit, bad framing) never reach `serve`.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const detail = tooLarge ? `Malformed request: the request line and headers exceed ${maxHeaderBytes} bytes` : "Malformed request";
    const body = JSON.stringify({ type: "about:blank", title: "Bad Request", status: 400, detail });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((listening) => server.listen(options.port ?? 0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
