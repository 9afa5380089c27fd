/** Auth, sources, jobs over HTTP, the OpenAPI document, CORS and the read cache, against the local stack. */
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { JobSchema, RunListSchema, SourceListSchema } from "../../packages/api/schemas";
import { sqsClient } from "../../packages/core/aws";
import * as z from "../../packages/core/zod";
import { apiRoutes } from "../../packages/core/resources";
import { writeImageContent } from "../../packages/store/inventory";
import { normaliseImage } from "../../packages/store/normalise";
import { emptyCounts, recordRun } from "../../packages/store/runs";
import { secrets, seedInventory, sources, startApi, times, type Api } from "./harness";

let api: Api;

beforeAll(async () => {
  api = await startApi();
  await seedInventory(api.table);
});
afterAll(() => api?.close());

/** A concrete request for each route template. */
function sample(routeKey: string): { method: string; path: string } {
  const [method, template] = routeKey.split(" ") as [string, string];
  return { method, path: template.replace("{provider}", "triton").replace(/\{\w+\+?\}/g, "x") };
}

describe("authentication", () => {
  it.each(apiRoutes.filter((r) => r !== "GET /healthz"))("%s needs the bearer token", async (routeKey) => {
    const { method, path } = sample(routeKey);
    for (const authorization of [undefined, "Bearer wrong-token-of-some-length", `Basic ${api.token}`, `Bearer ${api.token}x`, "Bearer"]) {
      const response = await fetch(`${api.url}${path}`, { method, headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="imagesync"');
      const text = await response.text();
      expect(text).not.toContain(api.token);
      expect(text).not.toContain("wrong-token");
    }
  });

  it("serves /healthz without a token", async () => {
    const response = await fetch(`${api.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("accepts the token case-insensitively on the scheme", async () => {
    expect((await api.get("/sources", { token: null, headers: { authorization: `bearer ${api.token}` } })).status).toBe(200);
  });
});

describe("token scopes and rotation", () => {
  const tokens = {
    viewer: { name: "viewer", token: "viewer-token-0123456789abcdef", scopes: ["read"] },
    ci: { name: "ci", token: "ci-token-0123456789abcdef-new", scopes: ["read", "jobs"] },
    /** The token being rotated out: still valid until removed from the list. */
    ciOld: { name: "ci-old", token: "ci-token-0123456789abcdef-old", scopes: ["read", "jobs"] },
  };
  let scoped: Api;
  beforeAll(async () => {
    scoped = await startApi({ tokens: JSON.stringify(Object.values(tokens)) });
    await seedInventory(scoped.table);
  });
  afterAll(() => scoped?.close());
  const job = { provider: "triton", source: sources.east, action: "delete", params: { imageId: "2b683a82-a066-11e3-97ab-2faa44701c5a" } };
  const post = (token: string) =>
    fetch(`${scoped.url}/jobs`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(job) });

  it("lets a read token read everything and refuses it POST /jobs with 403 problem+json naming the scope", async () => {
    for (const path of ["/images?limit=1", "/sources", "/jobs", `/sources/${sources.east}/runs`]) {
      expect((await scoped.get(path, { token: tokens.viewer.token })).status).toBe(200);
    }
    const warnings = vi.spyOn(console, "warn");
    const refused = await post(tokens.viewer.token);
    expect(refused.status).toBe(403);
    // The log names the token, never shows it (the leak guard checks the latter for the whole suite).
    const logged = warnings.mock.calls.map((args) => String(args[0])).find((line) => line.includes("request refused"));
    warnings.mockRestore();
    expect(JSON.parse(logged ?? "{}")).toMatchObject({ message: "request refused", token: "viewer", status: 403 });
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    const body = await refused.json();
    expect(body).toMatchObject({ status: 403, detail: 'The token "viewer" does not have the "jobs" scope this request needs' });
    expect(JSON.stringify(body)).not.toContain(tokens.viewer.token);
  });

  it("accepts every listed token, so a new one can replace an old one without downtime", async () => {
    expect((await post(tokens.ci.token)).status).toBe(202);
    expect((await post(tokens.ciOld.token)).status).toBe(202);
    expect((await scoped.get("/sources", { token: "ci-token-0123456789abcdef-xxx" })).status).toBe(401);
    // The single-token configuration of the other tests is no longer valid here.
    expect((await scoped.get("/sources", { token: scoped.token })).status).toBe(401);
  });

  it("binds a page cursor to the token it was issued to", async () => {
    const first = (await (await scoped.get("/images?limit=1", { token: tokens.ci.token })).json()) as { nextCursor: string };
    const next = `/images?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`;
    expect((await scoped.get(next, { token: tokens.ci.token })).status).toBe(200);
    expect((await scoped.get(next, { token: tokens.viewer.token })).status).toBe(400);
  });
});

describe("GET /sources and /sources/{id}/runs", () => {
  it("lists every configured source with its latest run, and no credential", async () => {
    const response = await api.get("/sources");
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const secret of [secrets.tritonKey, secrets.coxedgeKey, "privateKey", "apiKey"]) expect(text).not.toContain(secret);
    const body = SourceListSchema.parse(JSON.parse(text));
    expect(body.items.map((s) => s.id)).toEqual([sources.idle, sources.edge, sources.west, sources.east]);
    expect(body.items.find((s) => s.id === sources.east)).toMatchObject({
      provider: "triton",
      datacenter: "us-east-1",
      account: "acme",
      url: "https://us-east-1.example.test",
      latestRun: { status: "ok", counts: { seen: 22 }, lastOkSnapshotAt: times.snapshot },
    });
    expect(body.items.find((s) => s.id === sources.edge)).toMatchObject({ provider: "coxedge", environment: "prod", service: "edge-services" });
    expect(body.items.find((s) => s.id === sources.idle)?.latestRun).toBeNull();
  });

  it("pages a source's runs newest first with a signed cursor", async () => {
    const base = { provider: "triton" as const, sourceId: sources.west, trigger: "manual" as const, durationMs: 1, counts: emptyCounts(), writes: 0, superseded: 0 };
    for (const n of [1, 2, 3]) {
      const at = new Date(Date.now() + n * 1000).toISOString();
      await recordRun(api.table, { ...base, runId: `extra-${n}`, status: n === 2 ? "failed" : "ok", error: n === 2 ? "upstream 503" : undefined, startedAt: at, finishedAt: at });
    }
    const runIds: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await api.get(`/sources/${sources.west}/runs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(response.status).toBe(200);
      const page = RunListSchema.parse(await response.json());
      runIds.push(...page.items.map((r) => r.runId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(runIds).toEqual(["extra-3", "extra-2", "extra-1", `run-${sources.west}`]);

    const first = RunListSchema.parse(await (await api.get(`/sources/${sources.west}/runs?limit=1`)).json());
    const foreign = await api.get(`/sources/${sources.east}/runs?cursor=${encodeURIComponent(first.nextCursor as string)}`);
    expect(foreign.status).toBe(400);
    expect(((await foreign.json()) as { invalidParams: { name: string }[] }).invalidParams[0]?.name).toBe("cursor");
  });

  it("has no runs for a configured idle source, and 404s for an unknown one", async () => {
    expect(await (await api.get(`/sources/${sources.idle}/runs`)).json()).toEqual({ items: [] });
    const unknown = await api.get("/sources/nope/runs");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toContain("nope");
    expect((await api.get(`/sources/${sources.east}/runs?limit=101`)).status).toBe(400);
  });
});

describe("jobs", () => {
  const clone = (imageId: string, jobId?: string) => ({
    ...(jobId ? { jobId } : {}),
    provider: "triton",
    source: sources.east,
    action: "clone",
    params: { imageId },
  });
  const imageId = "2b683a82-a066-11e3-97ab-2faa44701c5a";

  it("accepts a job with 202 and a Location, queues the same message, and shows it queued", async () => {
    const response = await api.post("/jobs", clone(imageId, "api-job-1"));
    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toBe("/jobs/api-job-1");
    expect(await response.json()).toEqual({ jobId: "api-job-1", state: "queued", created: true, location: "/jobs/api-job-1" });

    const { Messages = [] } = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: api.queues.jobQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    expect(Messages.map((m) => JSON.parse(m.Body as string))).toContainEqual(clone(imageId, "api-job-1"));

    const job = await api.get("/jobs/api-job-1");
    expect(job.status).toBe(200);
    expect(z.strictObject(JobSchema.shape).parse(await job.json())).toMatchObject({ jobId: "api-job-1", state: "queued", request: clone(imageId), attempts: 0 });
  });

  it("is idempotent on the job id and the Idempotency-Key header; a reused id with another job conflicts", async () => {
    expect((await api.post("/jobs", clone(imageId, "api-job-2"))).status).toBe(202);
    const again = await api.post("/jobs", clone(imageId, "api-job-2"));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ jobId: "api-job-2", created: false });

    const other = await api.post("/jobs", clone("3b683a82-a066-11e3-97ab-2faa44701c5a", "api-job-2"));
    expect(other.status).toBe(409);
    expect(other.headers.get("content-type")).toBe("application/problem+json");

    const keyed = await api.post("/jobs", clone(imageId), { "idempotency-key": "api-job-3" });
    expect(keyed.status).toBe(202);
    expect(keyed.headers.get("location")).toBe("/jobs/api-job-3");
    expect((await api.post("/jobs", clone(imageId), { "idempotency-key": "api-job-3" })).status).toBe(200);

    const mismatch = await api.post("/jobs", clone(imageId, "api-job-4"), { "idempotency-key": "api-job-5" });
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as { invalidParams: unknown[] }).invalidParams).toEqual([{ name: "idempotency-key", in: "header", reason: expect.any(String) }]);
  });

  it.each([
    [{ provider: "triton", source: "s", action: "create", params: { name: "n", version: "1" } }, "params.machine"],
    [{ provider: "triton", source: "s", action: "clone", params: { imageId: "not-a-uuid" } }, "params.imageId"],
    [{ provider: "triton", source: "s", action: "explode", params: {} }, "action"],
    [{ provider: "aws", source: "s", action: "clone", params: {} }, "provider"],
    [{ provider: "coxedge", source: "s", action: "create", params: { family: "Bad_Family", tag: "v1", workloadId: "w", instanceName: "i" } }, "params.family"],
    [{ provider: "triton", action: "clone", params: { imageId } }, "source"],
    [{ ...clone(imageId), jobId: "bad id!" }, "jobId"],
  ])("rejects an invalid job with 400 naming the field (%#)", async (body, field) => {
    const response = await api.post("/jobs", body);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { invalidParams: { name: string; in: string }[] };
    expect(problem.invalidParams).toContainEqual(expect.objectContaining({ name: field, in: "body" }));
  });

  it("rejects bodies that are not JSON", async () => {
    expect((await api.post("/jobs", "{not json")).status).toBe(400);
    expect((await api.post("/jobs", "provider=triton", { "content-type": "application/x-www-form-urlencoded" })).status).toBe(415);
  });

  it("lists recent jobs newest first, filtered by state and provider, with a signed cursor", async () => {
    for (const n of [1, 2, 3]) expect((await api.post("/jobs", clone(imageId, `list-job-${n}`))).status).toBe(202);
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await api.get(`/jobs?state=queued&provider=triton&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: { jobId: string }[]; nextCursor?: string };
      ids.push(...page.items.map((j) => j.jobId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids.slice(0, 3)).toEqual(["list-job-3", "list-job-2", "list-job-1"]);
    expect(new Set(ids).size).toBe(ids.length);

    expect(await (await api.get("/jobs?provider=coxedge")).json()).toEqual({ items: [] });
    expect((await api.get("/jobs?state=sleeping")).status).toBe(400);
    const first = (await (await api.get("/jobs?limit=1")).json()) as { nextCursor: string };
    expect((await api.get(`/jobs?limit=1&state=failed&cursor=${encodeURIComponent(first.nextCursor)}`)).status).toBe(400);
  });

  it("404s for an unknown job and 400s for a malformed id", async () => {
    expect((await api.get("/jobs/no-such-job")).status).toBe(404);
    const bad = await api.get("/jobs/bad%20id");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { invalidParams: { name: string; in: string }[] }).invalidParams[0]).toMatchObject({ name: "id", in: "path" });
  });
});

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document with exactly the deployed routes", async () => {
    const response = await api.get("/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown[] }>> };
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");

    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.toSorted()).toEqual(apiRoutes.map((r) => r.replace("{id+}", "{id}")).toSorted());
    expect(document.paths["/healthz"]?.get?.security).toEqual([]);
    expect(document.paths["/images"]?.get?.security).toBeUndefined();
  });

  it("documents every query parameter the router accepts", async () => {
    const document = (await (await api.get("/openapi.json")).json()) as { paths: Record<string, Record<string, { parameters: { name: string; in: string }[] }>> };
    const names = document.paths["/images"]?.get?.parameters.filter((p) => p.in === "query").map((p) => p.name);
    expect(names).toEqual(["provider", "source", "name", "os", "version", "public", "state", "owner", "type", "imageType", "family", "tag", "limit", "cursor"]);
  });
});

describe("CORS and the read cache", () => {
  let cached: Api;
  beforeAll(async () => {
    cached = await startApi({ cacheTtlMs: 500, corsOrigins: "https://console.example.test" });
    await seedInventory(cached.table);
  });
  afterAll(() => cached?.close());

  it("allows only the configured origins", async () => {
    const allowed = await cached.get("/images?limit=1", { headers: { origin: "https://console.example.test" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://console.example.test");
    expect(allowed.headers.get("access-control-expose-headers")).toBe("etag, location");
    const other = await cached.get("/images?limit=1", { headers: { origin: "https://evil.example.test" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect((await api.get("/images?limit=1", { headers: { origin: "https://console.example.test" } })).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("reuses an inventory read for its time-to-live only", async () => {
    const path = `/images?source=${sources.west}&limit=10`;
    const before = (await (await cached.get(path)).json()) as { items: { description?: string; version: string }[] };
    const image = normaliseImage({ provider: "triton", image: { id: "ffffffff-1111-4222-8333-444455556666", name: "late", version: "1", requirements: {}, os: "linux" } });
    await writeImageContent(cached.table, sources.west, image, new Date().toISOString(), "sync:test");
    expect(await (await cached.get(path)).json()).toEqual(before);
    await new Promise((r) => setTimeout(r, 600));
    const after = (await (await cached.get(path)).json()) as { items: unknown[] };
    expect(after.items).toHaveLength(before.items.length + 1);
  });
});
