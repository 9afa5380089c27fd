import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { upstreamFailure } from "../support/upstream";
import { z } from "zod";
import {
  backoffMs,
  HttpClient,
  parseRetryAfter,
  retryPolicy,
  UpstreamNetworkError,
  UpstreamNotFoundError,
  UpstreamResponseError,
  UpstreamServerError,
  UpstreamThrottledError,
  upstreamUserAgent,
  type HttpClientOptions,
} from "../../packages/providers/http";
import { startSimServer, TokenBucketLimiter, type SimServer } from "../../packages/simulators/kit";

const secret = "Bearer s3cr3t-token-that-must-never-leak";
const itemSchema = z.object({ items: z.array(z.object({ name: z.string(), size: z.number() })) });
const goodBody = { items: [{ name: "a", size: 1 }, { name: "b", size: 2 }] };

let sim: SimServer;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  sim = await startSimServer({
    errorBody: (status) => ({ code: `E${status}`, message: `failure ${status}` }),
    classify: (request) => request.path,
    responseHeaders: (request): Record<string, string> =>
      request.path === "/bad-md5" ? { "content-md5": "AAAAAAAAAAAAAAAAAAAAAA==" } : {},
    handle: async (request) => {
      if (request.path === "/missing") return { status: 404, body: { code: "ResourceNotFound", message: "no such thing" } };
      if (request.path === "/drifted") return { status: 200, body: { items: [{ name: "a", size: 1 }, { name: "b", size: "2" }] } };
      if (request.path === "/slow") {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await delay(30);
        inFlight -= 1;
      }
      return { status: 200, body: goodBody };
    },
  });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.faults.clear();
  sim.counters.reset();
});

/** A client whose retry sleeps are recorded instead of waited for. */
function makeClient(overrides: Partial<HttpClientOptions> = {}) {
  const sleeps: number[] = [];
  const client = new HttpClient({
    baseUrl: sim.url,
    source: "test",
    timeoutMs: 2_000,
    retry: { maxAttempts: 4, baseDelayMs: 10, sleep: async (ms) => void sleeps.push(ms) },
    authorize: () => ({ authorization: secret }),
    ...overrides,
  });
  return { client, sleeps };
}

function get(client: HttpClient, path = "/items") {
  return client.request({ operation: "ListThings", method: "GET", path, schema: itemSchema });
}


describe("HttpClient", () => {
  it("returns zod-validated data with status and request id", async () => {
    const { client } = makeClient({ requestIdHeader: "x-request-id" });
    const response = await get(client);
    expect(response.status).toBe(200);
    expect(response.data).toEqual(goodBody);
    expect(response.requestId).toMatch(/^[0-9a-f-]{36}$/);
    await client.close();
  });

  it("keeps connections alive across requests", async () => {
    const ports: number[] = [];
    const server = createServer((request, response) => {
      ports.push(request.socket.remotePort ?? -1);
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(goodBody));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, source: "test", concurrency: 1 });
    for (let index = 0; index < 6; index++) await get(client);
    // fetch returns a connection to its pool a tick after the body is read, so back-to-back requests may
    // alternate between two kept-alive connections; without keep-alive there would be six.
    expect(new Set(ports).size).toBeLessThanOrEqual(2);
    await client.close();
    server.closeAllConnections();
    server.close();
  });

  it("sends no compression request, names itself, and hands redirects back instead of following them", async () => {
    const seen: { url?: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const server = createServer((request, response) => {
      seen.push({ url: request.url, headers: request.headers });
      response.writeHead(302, { location: "/elsewhere" }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = new HttpClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, source: "test" });
    const error = await upstreamFailure(get(client));
    expect(error.status).toBe(302);
    expect(seen.map((request) => request.url)).toEqual(["/items"]);
    expect(seen[0]?.headers).toMatchObject({ "accept-encoding": "identity", "user-agent": upstreamUserAgent });
    await client.close();
    server.closeAllConnections();
    server.close();
  });

  it("refuses a path that URL parsing would rewrite, without sending it", async () => {
    const { client } = makeClient();
    await expect(get(client, "/a/../items")).rejects.toThrow(/is not canonical/);
    expect(sim.counters.total).toBe(0);
    await client.close();
  });

  it("retries even a POST when the connection was refused, and names the refusal", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const retries: number[] = [];
    const client = new HttpClient({
      baseUrl: `http://127.0.0.1:${port}`,
      source: "test",
      retry: { maxAttempts: 3, sleep: async () => {} },
      onRetry: (event) => retries.push(event.attempt),
    });
    const error = await upstreamFailure(client.request({ operation: "Create", method: "POST", path: "/items", body: {}, schema: itemSchema }));
    expect(error).toBeInstanceOf(UpstreamNetworkError);
    expect(error.code).toBe("ECONNREFUSED");
    expect(error.message).toMatch(/network error \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    expect(retries).toEqual([1, 2]);
    await client.close();
  });

  it("close() waits for requests in flight and refuses new ones", async () => {
    const { client } = makeClient();
    sim.faults.latency(100, { times: 1 });
    const pending = get(client);
    await delay(20);
    let settled = false;
    void pending.then(() => (settled = true));
    await client.close();
    expect(settled).toBe(true);
    expect((await pending).data).toEqual(goodBody);
    await expect(get(client)).rejects.toThrow("test HTTP client is closed");
  });

  it("retries 5xx with backoff and then succeeds", async () => {
    const retries: number[] = [];
    const { client, sleeps } = makeClient({ onRetry: (event) => retries.push(event.attempt) });
    sim.faults.status(503, { times: 2 });
    const response = await get(client);
    expect(response.data).toEqual(goodBody);
    expect(sim.counters.get("/items")).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(sleeps).toHaveLength(2);
    await client.close();
  });

  it("gives up after maxAttempts with the last error", async () => {
    const { client, sleeps } = makeClient();
    sim.faults.status(502);
    const error = await upstreamFailure(get(client));
    expect(error).toBeInstanceOf(UpstreamServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("E502");
    expect(error.upstreamMessage).toBe("failure 502");
    expect(error.retryable).toBe(true);
    expect(sim.counters.get("/items")).toBe(4);
    expect(sleeps).toHaveLength(3);
    await client.close();
  });

  it("honours Retry-After in seconds", async () => {
    const { client, sleeps } = makeClient();
    sim.faults.throttle(2, { times: 1 });
    await get(client);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2_000);
    await client.close();
  });

  it("honours Retry-After as an HTTP date", async () => {
    const { client, sleeps } = makeClient();
    sim.faults.throttle(new Date(Date.now() + 5_000).toUTCString(), { times: 1 });
    await get(client);
    expect(sleeps[0]).toBeGreaterThan(3_000);
    expect(sleeps[0]).toBeLessThanOrEqual(5_000);
    await client.close();
  });

  it("does not wait for a Retry-After beyond maxRetryAfterMs", async () => {
    const { client, sleeps } = makeClient({
      retry: { maxAttempts: 4, maxRetryAfterMs: 1_000, sleep: async (ms) => void sleeps.push(ms) },
    });
    sim.faults.throttle(120);
    const error = await upstreamFailure(get(client));
    expect(error).toBeInstanceOf(UpstreamThrottledError);
    expect(error.retryAfterMs).toBe(120_000);
    expect(sim.counters.get("/items")).toBe(1);
    await client.close();
  });

  it("retries a reset connection and a truncated body", async () => {
    const { client } = makeClient();
    sim.faults.reset({ times: 1 });
    sim.faults.truncate({ times: 1 });
    expect((await get(client)).data).toEqual(goodBody);
    expect(sim.counters.get("/items")).toBe(3);
    await client.close();
  });

  it("reports a persistent reset as a network error", async () => {
    const { client } = makeClient({ retry: { maxAttempts: 2, sleep: async () => {} } });
    sim.faults.reset();
    const error = await upstreamFailure(get(client));
    expect(error).toBeInstanceOf(UpstreamNetworkError);
    expect(error.retryable).toBe(true);
    expect(error.code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    await client.close();
  });

  it("times out slow responses", async () => {
    const { client } = makeClient({ timeoutMs: 50, retry: { maxAttempts: 2, sleep: async () => {} } });
    sim.faults.latency(300);
    const error = await upstreamFailure(get(client));
    expect(error).toBeInstanceOf(UpstreamNetworkError);
    expect(error.code).toBe("ETIMEDOUT");
    expect(error.message).toContain("timed out after 50 ms");
    expect(sim.counters.get("/items")).toBe(2);
    await client.close();
  });

  it("reports malformed JSON as a response error", async () => {
    const { client } = makeClient({ retry: { maxAttempts: 1 } });
    sim.faults.malformed();
    const error = await upstreamFailure(get(client));
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect(error.message).toContain("invalid JSON body");
    await client.close();
  });

  it("names the field path when the body does not match the schema, without retrying", async () => {
    const { client } = makeClient();
    const error = await upstreamFailure(get(client, "/drifted"));
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect((error as UpstreamResponseError).issuePath).toBe("items[1].size");
    expect(error.message).toContain("items[1].size");
    expect(error.retryable).toBe(false);
    expect(sim.counters.get("/drifted")).toBe(1);
    await client.close();
  });

  it("rejects a body whose Content-MD5 does not match", async () => {
    const { client } = makeClient({ retry: { maxAttempts: 1 } });
    const error = await upstreamFailure(get(client, "/bad-md5"));
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect(error.message).toContain("Content-MD5");
    await client.close();
  });

  it("maps error bodies to typed errors by default", async () => {
    const { client } = makeClient({ requestIdHeader: "x-request-id" });
    const error = await upstreamFailure(get(client, "/missing"));
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect(error).toMatchObject({ status: 404, code: "ResourceNotFound", upstreamMessage: "no such thing", retryable: false });
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.counters.get("/missing")).toBe(1);
    await client.close();
  });

  it("retries non-idempotent requests only when the upstream did not act (429)", async () => {
    const { client } = makeClient();
    const post = () => client.request({ operation: "Create", method: "POST", path: "/items", body: {}, schema: itemSchema });
    sim.faults.status(503, { times: 1 });
    expect(await upstreamFailure(post())).toBeInstanceOf(UpstreamServerError);
    expect(sim.counters.get("/items")).toBe(1);
    sim.faults.throttle(undefined, { times: 1 });
    expect((await post()).data).toEqual(goodBody);
    expect(sim.counters.get("/items")).toBe(3);
    await client.close();
  });

  it("limits concurrent requests per client", async () => {
    const { client } = makeClient({ concurrency: 2 });
    maxInFlight = 0;
    await Promise.all(Array.from({ length: 6 }, () => get(client, "/slow")));
    expect(maxInFlight).toBe(2);
    await client.close();
  });

  it("never puts credentials in errors, their JSON, inspection or retry events", async () => {
    const events: unknown[] = [];
    const { client } = makeClient({ timeoutMs: 50, onRetry: (event) => events.push(event) });
    sim.faults.status(500, { times: 1, pathPrefix: "/missing" });
    sim.faults.reset({ times: 4, pathPrefix: "/items" });
    sim.faults.latency(200, { pathPrefix: "/slow" });
    const errors = [
      await upstreamFailure(get(client, "/missing")),
      await upstreamFailure(get(client, "/items")),
      await upstreamFailure(get(client, "/drifted")),
      await upstreamFailure(get(client, "/slow")),
    ];
    for (const error of [...errors, ...events]) {
      for (const text of [String(error), JSON.stringify(error), inspect(error, { depth: 8, showHidden: true })]) {
        expect(text).not.toContain("s3cr3t");
      }
    }
    expect(events.length).toBeGreaterThan(0);
    await client.close();
  });
});

describe("retry policy", () => {
  it("uses full jitter below an exponentially growing cap", () => {
    const high = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffMs(high, retry, undefined))).toEqual([99, 199, 399, 799, 999, 999]);
    const low = retryPolicy({ baseDelayMs: 100, random: () => 0 });
    expect(backoffMs(low, 3, undefined)).toBe(0);
    expect(backoffMs(low, 3, 1_500)).toBe(1_500);
  });

  it("parses Retry-After as seconds or HTTP date", () => {
    const now = Date.parse("2024-05-01T12:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3_000);
    expect(parseRetryAfter("Wed, 01 May 2024 12:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Wed, 01 May 2024 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("simulator infrastructure", () => {
  it("applies faults by method, path prefix, count and probability", async () => {
    const { client } = makeClient({ retry: { maxAttempts: 1 } });
    sim.faults.status(500, { method: "POST" });
    sim.faults.status(500, { pathPrefix: "/other" });
    expect((await get(client)).status).toBe(200);
    sim.faults.clear();
    sim.faults.status(500, { probability: 0 });
    expect((await get(client)).status).toBe(200);
    sim.faults.status(418, { times: 1, probability: 1 });
    expect((await upstreamFailure(get(client))).status).toBe(418);
    expect((await get(client)).status).toBe(200);
    expect(sim.faults.fired).toBe(1);
    await client.close();
  });

  it("adds latency", async () => {
    const { client } = makeClient();
    sim.faults.latency(80, { times: 1 });
    const started = Date.now();
    await get(client);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    await client.close();
  });

  it("token bucket allows a burst, then refills at the rate", () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ burst: 3, rate: 2, now: () => now });
    expect([1, 2, 3, 4].map(() => limiter.take("alice"))).toEqual([true, true, true, false]);
    expect(limiter.take("bob")).toBe(true);
    now = 500;
    expect(limiter.take("alice")).toBe(true);
    expect(limiter.take("alice")).toBe(false);
  });
});
