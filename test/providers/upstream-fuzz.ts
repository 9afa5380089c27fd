/**
 * A tiny upstream for property tests: a local HTTP server that answers every request with the answer the
 * test set last (status, headers, body, or a transport fault), and answers for it: random JSON, valid
 * documents of each endpoint mutated, truncated JSON, huge arrays, deep nesting, garbage. A body or header
 * may echo the credential the client sent (`echo` markers), as a careless upstream's error might.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import * as z from "../../packages/core/zod";
import { ImageListResponseSchema } from "../../packages/providers/coxedge/schemas";
import { mutation, mutate } from "../jobs/messages-fuzz";

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** `short`: promises more bytes than it sends, then closes; `stall`: sends half and waits; `reset`: drops the socket. */
  transport: "normal" | "short" | "stall" | "reset";
}

/** Replaced, in body and headers, with the credential the request carried. */
export const echo = "@@ECHO@@";

export interface FuzzUpstream {
  url: string;
  answer: Answer;
  requests: number;
  /** The credential header of the last request (what an echo marker became). */
  lastCredential: string;
  /** An answer for this request instead of `answer`, when it returns one. */
  override?: (url: string) => Answer | undefined;
  close(): Promise<void>;
}

function credential(request: IncomingMessage): string {
  return String(request.headers["mc-api-key"] ?? request.headers.authorization ?? "");
}

export async function startFuzzUpstream(): Promise<FuzzUpstream> {
  const upstream: Omit<FuzzUpstream, "url" | "close"> = { answer: { status: 200, headers: {}, body: "[]", transport: "normal" }, requests: 0, lastCredential: "" };
  const server: Server = createServer((request, response) => {
    upstream.requests++;
    upstream.lastCredential = credential(request);
    const { status, headers, body, transport } = upstream.override?.(request.url ?? "") ?? upstream.answer;
    const text = Buffer.from(body.replaceAll(echo, upstream.lastCredential));
    request.resume();
    if (transport === "reset") return void request.socket.destroy();
    const echoed = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.replaceAll(echo, upstream.lastCredential)]));
    if (status === 204) return void response.writeHead(status, echoed).end();
    response.writeHead(status, { ...echoed, "content-length": String(transport === "normal" ? text.length : text.length + 10) });
    if (transport === "normal") return void response.end(text);
    response.write(text.subarray(0, Math.floor(text.length / 2)));
    if (transport === "short") setTimeout(() => request.socket.destroy(), 5);
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  return Object.assign(upstream, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  });
}

const uuid = "2b683a82-a066-11e3-97ab-2faa44701c5a";
export const validDocuments = {
  tritonImage: { id: uuid, name: "base-64", version: "1.0.0", os: "smartos", type: "zone-dataset", requirements: {}, state: "active", public: true, published_at: "2024-01-01T00:00:00Z", files: [{ compression: "gzip", sha1: "a", size: 1 }], tags: { role: "os" } },
  coxedgeImage: { id: `${uuid}/ubuntu/v1`, stackId: uuid, family: "ubuntu", tag: "v1", slug: "s", createdAt: "2024-01-01T00:00:00Z", description: "", reference: "r", status: "READY" },
  exportResult: { manta_url: "https://manta", image_path: "/a/stor/i", manifest_path: "/a/stor/m" },
  task: { data: { id: "task-1", status: "SUCCESS", result: { id: "x" } } },
  taskStarted: { taskId: "task-1", taskStatus: "PENDING" },
};

/** A valid body for each kind of endpoint. */
export function validBodies(): unknown[] {
  const { tritonImage, coxedgeImage, exportResult, task, taskStarted } = validDocuments;
  return [[tritonImage], tritonImage, exportResult, { data: [coxedgeImage], metadata: { recordCount: 1 } }, { data: coxedgeImage }, task, taskStarted, { taskId: "t", taskStatus: "FAILED" }];
}

/** Huge or deep bodies, made once: 100k-element arrays (invalid at the start or only at the end), 100k levels of nesting. */
const extremeBodies = memo(() => {
  const { tritonImage, coxedgeImage } = validDocuments;
  const small = { id: tritonImage.id, name: "n", version: "1", requirements: {} };
  return [
    `[${Array(100_000).fill("0").join(",")}]`,
    JSON.stringify([...Array.from({ length: 100_000 }, () => small), { id: 1 }]),
    JSON.stringify({ data: Array(100_000).fill(null), metadata: { recordCount: 100_000 } }),
    JSON.stringify({ data: Array.from({ length: 20_000 }, () => coxedgeImage), metadata: { recordCount: 20_000 } }),
    `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
    JSON.stringify({ ...tritonImage, tags: { deep: 0 } }).replace('"deep":0', `"deep":${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`),
    JSON.stringify([{ ...tritonImage, description: "x".repeat(2_000_000) }]),
  ];
});

function memo<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

/** Sprinkles the echo marker into a JSON text's strings. */
const withEcho = (text: string, at: number) => text.replace(/"([^"\\]{0,20})"/g, (match, inner: string, offset: number) => (offset % 7 === at % 7 ? `"${inner}${echo}"` : match));

export function upstreamBody(): fc.Arbitrary<string> {
  const valid = fc.constantFrom(...validBodies());
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([doc, ms]) => JSON.stringify(mutate(doc, ms)) ?? "") },
    { weight: 2, arbitrary: valid.map((doc) => JSON.stringify(doc)) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.nat()).map(([doc, cut]) => JSON.stringify(doc).slice(0, cut % 120)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 100 }) },
    { weight: 2, arbitrary: fc.tuple(fc.oneof(valid, fc.jsonValue({ maxDepth: 2 })), fc.nat()).map(([doc, at]) => withEcho(JSON.stringify(doc), at)) },
    { weight: 1, arbitrary: fc.constantFrom(`{"errors":[{"code":"${echo}","errorCode":"${echo}","field":"${echo}","message":"${echo}"}],"message":"${echo}"}`, `{"code":"${echo}","message":"${echo}","errors":[{"field":"${echo}","code":"${echo}"}]}`) },
    { weight: 1, arbitrary: fc.nat().map((n) => extremeBodies()[n % extremeBodies().length] as string) },
  );
}

export function answer(): fc.Arbitrary<Answer> {
  const status = fc.oneof({ weight: 6, arbitrary: fc.constant(200) }, { weight: 2, arbitrary: fc.constantFrom(201, 202, 204, 301, 400, 401, 403, 404, 409, 410, 420, 422, 429, 500, 501, 503) });
  const headers = fc.record(
    { "content-type": fc.constantFrom("application/json", "text/html", "application/json; charset=latin1"), "request-id": fc.constantFrom("req-1", echo), "retry-after": fc.constantFrom("0", "1", "abc", "Wed, 21 Oct 2015 07:28:00 GMT", "99999"), "content-md5": fc.constantFrom("AAAAAAAAAAAAAAAAAAAAAA==", "") },
    { requiredKeys: [] },
  );
  // A stall costs the client's whole timeout (per attempt), so it is the rarest.
  const transport = fc.oneof(
    { weight: 150, arbitrary: fc.constant("normal" as const) },
    { weight: 6, arbitrary: fc.constantFrom("short" as const, "reset" as const) },
    { weight: 1, arbitrary: fc.constant("stall" as const) },
  );
  return fc.record({ status, headers, body: upstreamBody(), transport });
}

/** A Cox Edge listing the client accepts: a count above the images listed means a partial list. */
export const CoxEdgeListing = ImageListResponseSchema.check(z.refine((listing) => listing.metadata.recordCount <= listing.data.length));

/** Whether an endpoint with this schema should accept the answer (echo markers filled with `echoed`). */
export function acceptable(sent: Answer, echoed: string, schema: z.ZodMiniType): boolean {
  // A 204 carries no body, so only a reset can spoil it.
  const transport = sent.status === 204 && sent.transport !== "reset" ? "normal" : sent.transport;
  if (transport !== "normal" || sent.status < 200 || sent.status >= 300) return false;
  const text = sent.status === 204 ? "" : sent.body.replaceAll(echo, echoed);
  const md5 = sent.headers["content-md5"];
  if (md5 && createHash("md5").update(text).digest("base64") !== md5) return false;
  try {
    return schema.safeParse(text === "" ? undefined : JSON.parse(text)).success;
  } catch {
    return false;
  }
}
