import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { RequestCounters } from "./counters";
import { FaultController } from "./faults";

export interface SimRequest {
  method: string;
  /** The request target exactly as received: path and query string. */
  url: string;
  /** The path without query string, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request arrived. */
  receivedAt: number;
  /** Reads the whole body as UTF-8; rejects with BodyTooLargeError beyond `limitBytes`. */
  readBody(limitBytes: number): Promise<string>;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON; omitted for no body. */
  body?: unknown;
}

export interface SimServerOptions {
  /** Port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  handle: (request: SimRequest) => SimResponse | Promise<SimResponse>;
  /** The provider's JSON error body for a status, used for injected faults and unexpected exceptions. */
  errorBody: (status: number) => unknown;
  /** Endpoint name for the request counters, e.g. "ListImages". */
  classify?: (request: SimRequest) => string;
  /** Headers the provider adds to every response, given the serialised body (e.g. Content-MD5). */
  responseHeaders?: (request: SimRequest, status: number, body: string | undefined) => Record<string, string>;
  /** Seeded randomness for probabilistic faults. */
  random?: () => number;
}

export interface SimServer {
  url: string;
  port: number;
  faults: FaultController;
  counters: RequestCounters;
  close(): Promise<void>;
}

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/** A JSON HTTP server on 127.0.0.1 with fault injection and per-endpoint request counters. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const faults = new FaultController(options.random);
  const counters = new RequestCounters();

  const server = createServer((incoming, outgoing) => {
    serve(incoming, outgoing).catch(() => outgoing.destroy());
  });

  async function serve(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    let request = toSimRequest(incoming);
    counters.increment(options.classify?.(request) ?? `${request.method} ${request.path}`);

    const { latencyMs, action } = faults.match(request.method, request.path);
    if (latencyMs > 0) {
      // A slow upstream stalls once it has the whole request, so it still acts on it after the caller gave up.
      request = { ...request, readBody: bufferedBody(await readAll(incoming)) };
      await delay(latencyMs);
    }
    if (action?.kind === "reset") {
      incoming.socket.destroy();
      return;
    }

    let response: SimResponse;
    if (action?.kind === "status") {
      response = { status: action.status, headers: action.headers, body: action.body ?? options.errorBody(action.status) };
    } else if (action?.kind === "throttle") {
      const headers = action.retryAfter === undefined ? undefined : { "retry-after": String(action.retryAfter) };
      response = { status: 429, headers, body: options.errorBody(429) };
    } else {
      try {
        response = await options.handle(request);
      } catch {
        response = { status: 500, body: options.errorBody(500) };
      }
    }

    let body = response.body === undefined ? undefined : JSON.stringify(response.body);
    if (action?.kind === "malformed") body = body === undefined ? "{" : body.slice(0, Math.ceil(body.length / 2));
    const headers: Record<string, string> = {
      ...response.headers,
      ...options.responseHeaders?.(request, response.status, body),
    };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    outgoing.writeHead(response.status, headers);

    if (action?.kind === "truncate" && body !== undefined) {
      const bytes = Buffer.from(body);
      outgoing.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => incoming.socket.destroy());
      return;
    }
    outgoing.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    counters,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function toSimRequest(incoming: IncomingMessage): SimRequest {
  const url = incoming.url ?? "/";
  const queryStart = url.indexOf("?");
  return {
    method: (incoming.method ?? "GET").toUpperCase(),
    url,
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: new URLSearchParams(queryStart === -1 ? "" : url.slice(queryStart + 1)),
    headers: incoming.headers,
    receivedAt: Date.now(),
    readBody: (limitBytes) => readBody(incoming, limitBytes),
  };
}

async function readAll(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function bufferedBody(body: Buffer): SimRequest["readBody"] {
  return async (limitBytes) => {
    if (body.length > limitBytes) throw new BodyTooLargeError(`request body exceeds ${limitBytes} bytes`);
    return body.toString("utf8");
  };
}

async function readBody(incoming: IncomingMessage, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new BodyTooLargeError(`request body exceeds ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
