/**
 * What the console needs from the API, over HTTP on the local stack: GET /me (the token's name and scopes),
 * GET /images/counts (per source and state, from each source's LATEST run), and `tag.KEY=VALUE` filters on
 * GET /images, each refused with a 400 naming its own `tag.KEY`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageCountsSchema, MeSchema } from "../../packages/api/schemas";
import { writeImageContent } from "../../packages/store/inventory";
import { normaliseImage } from "../../packages/store/normalise";
import { emptyCounts, recordRun } from "../../packages/store/runs";
import { seedInventory, sources, startApi, times, type Api } from "./harness";

const tokens = [
  { name: "ops", token: "ops-token-0123456789abcdef-console", scopes: ["read", "jobs"] },
  { name: "viewer", token: "viewer-token-0123456789abcdef-console", scopes: ["read"] },
];
let api: Api;

/** Triton images in us-east-1 with tags of each JSON type IMGAPI allows (string, number, boolean). */
const tagged = [
  { id: "7a000001-1111-4222-8333-444455556666", tags: { team: "web", build: 7, certified: true } },
  { id: "7a000002-1111-4222-8333-444455556666", tags: { team: "web", build: 8, certified: false } },
  { id: "7a000003-1111-4222-8333-444455556666", tags: { team: "db", build: "7", "triton.cns.services": "db" } },
];

beforeAll(async () => {
  api = await startApi({ tokens: JSON.stringify(tokens) });
  await seedInventory(api.table);
  for (const { id, tags } of tagged) {
    const image = { id, name: `tagged-${id.slice(7, 8)}`, version: "1.0.0", type: "zone-dataset", os: "smartos", public: false, state: "active" as const, tags, files: [], requirements: {} };
    await writeImageContent(api.table, sources.east, normaliseImage({ provider: "triton", image }), times.observed, "sync:seed");
  }
});
afterAll(() => api?.close());

const as = (token: string) => ({ token });
const ids = async (query: string) => ((await (await api.get(`/images?${query}&limit=1000`, as(tokens[0]!.token))).json()) as { items: { id: string }[] }).items.map((i) => i.id).toSorted();

describe("GET /me", () => {
  it("names the calling token and its scopes, never the token", async () => {
    for (const { name, token, scopes } of tokens) {
      const response = await api.get("/me", as(token));
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(MeSchema.parse(JSON.parse(text))).toEqual({ name, scopes });
      expect(text).not.toContain(token);
    }
    expect((await api.get("/me", { token: null })).status).toBe(401);
  });
});

describe("GET /images/counts", () => {
  it("sums each source's counts from its LATEST run, reading one item per source", async () => {
    const run = { trigger: "manual" as const, status: "ok" as const, durationMs: 1, counts: emptyCounts(), writes: 0, superseded: 0 };
    const at = new Date(Date.now() + 1000).toISOString();
    await recordRun(api.table, { ...run, provider: "triton", sourceId: sources.east, runId: "counted-east", startedAt: at, finishedAt: at, inventory: { at, states: { active: 20, disabled: 2 }, removed: 2 } });
    await recordRun(api.table, { ...run, provider: "coxedge", sourceId: sources.edge, runId: "counted-edge", startedAt: at, finishedAt: at, inventory: { at, states: { active: 4, creating: 1 }, removed: 1 } });
    // A later run that listed nothing (it failed) keeps the counts of the last listing.
    const later = new Date(Date.now() + 2000).toISOString();
    await recordRun(api.table, { ...run, provider: "coxedge", sourceId: sources.edge, runId: "failed-edge", status: "failed", error: "upstream 503", startedAt: later, finishedAt: later });

    const response = await api.get("/images/counts", as(tokens[1]!.token));
    expect(response.status).toBe(200);
    const body = ImageCountsSchema.parse(await response.json());
    expect(body.items).toEqual([
      { provider: "coxedge", source: sources.edge, at, states: { active: 4, creating: 1 }, removed: 1, present: 5 },
      { provider: "triton", source: sources.east, at, states: { active: 20, disabled: 2 }, removed: 2, present: 22 },
    ]);
    expect(body.total).toEqual({ states: { active: 24, creating: 1, disabled: 2 }, present: 27, removed: 3 });
  });
});

describe("GET /images with tag.KEY=VALUE", () => {
  it("matches a tag's value as text, whatever its JSON type, and combines tags with AND", async () => {
    const [web1, web2, db] = tagged.map((t) => t.id);
    expect(await ids("tag.team=web")).toEqual([web1, web2]);
    expect(await ids("tag.build=7")).toEqual([web1, db]);
    expect(await ids("tag.certified=true")).toEqual([web1]);
    expect(await ids("tag.team=web&tag.build=8")).toEqual([web2]);
    expect(await ids("tag.triton.cns.services=db")).toEqual([db]);
    expect(await ids("tag.team=nobody")).toEqual([]);
    // Only Triton images have tags: a tag filter narrows the listing to Triton's.
    expect(await ids("tag.role=os&provider=triton")).toEqual(await ids("tag.role=os"));
  });

  it("refuses a bad tag filter with a 400 naming its tag.KEY", async () => {
    const cases: [string, string, string][] = [
      ["tag.=x", "tag.", "must name a tag: tag.KEY=VALUE"],
      ["tag.team=", "tag.team", "must not be empty"],
      [`tag.team=${"x".repeat(257)}`, "tag.team", "must be at most 256 characters"],
      [`tag.${"k".repeat(129)}=x`, `tag.${"k".repeat(129)}`, "the tag key must be at most 128 characters"],
      ["tag.team=web&provider=coxedge", "tag.team", "applies to Triton images only, but the query asks for Cox Edge images"],
      ["tag.team=web&family=ubuntu", "tag.team", "applies to Triton images only, but the query asks for Cox Edge images"],
      ["tags.team=web", "tags.team", "unknown parameter"],
      [Array.from({ length: 11 }, (_, n) => `tag.k${n}=v`).join("&"), "tag.k10", "at most 10 tag filters may be given"],
    ];
    for (const [query, name, reason] of cases) {
      const response = await api.get(`/images?${query}`, as(tokens[0]!.token));
      expect(response.status, query).toBe(400);
      const problem = (await response.json()) as { invalidParams: { name: string; in: string; reason: string }[] };
      expect(problem.invalidParams, query).toEqual([{ name, in: "query", reason }]);
    }
  });

  it("binds a page's cursor to its tag filters", async () => {
    const first = (await (await api.get("/images?tag.team=web&limit=1", as(tokens[0]!.token))).json()) as { nextCursor: string };
    const cursor = encodeURIComponent(first.nextCursor);
    expect((await api.get(`/images?tag.team=web&limit=1&cursor=${cursor}`, as(tokens[0]!.token))).status).toBe(200);
    expect((await api.get(`/images?tag.team=db&limit=1&cursor=${cursor}`, as(tokens[0]!.token))).status).toBe(400);
  });
});

describe("OpenAPI", () => {
  it("documents /me, /images/counts and the tag filters", async () => {
    const document = (await (await api.get("/openapi.json", as(tokens[1]!.token))).json()) as { paths: Record<string, Record<string, { description?: string }>> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/me", "/images/counts"]));
    expect(document.paths["/images"]?.get?.description).toContain("tag.KEY=VALUE");
  });
});
