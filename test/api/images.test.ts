/** GET /images and GET /images/{provider}/{id+} over HTTP against DynamoDB Local. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageDetailSchema, ImageListSchema, ImageSummarySchema } from "../../packages/api/schemas";
import * as z from "../../packages/core/zod";
import { writeImageContent } from "../../packages/store/inventory";
import { normaliseImage } from "../../packages/store/normalise";
import { acmeOwner, listAll, seedInventory, sources, startApi, times, type Api, type Seeded } from "./harness";

let api: Api;
let seeded: (Seeded & { view: ReturnType<typeof normaliseImage>["view"] })[];

beforeAll(async () => {
  api = await startApi();
  seeded = (await seedInventory(api.table)).map((s) => ({ ...s, view: normaliseImage(s.document).view }));
});
afterAll(() => api?.close());

const order = (s: { provider: string; source: string; id: string }) => `${s.provider}#${s.source}#${s.id}`;
const expectedIds = (match: (s: (typeof seeded)[number]) => boolean) => seeded.filter(match).map(order).toSorted();

describe("GET /images", () => {
  const present = (s: Seeded) => !s.removed;
  const cases: [string, (s: (typeof seeded)[number]) => boolean][] = [
    ["", present],
    ["state=all", () => true],
    ["state=removed", (s) => s.removed],
    ["state=active", (s) => present(s) && s.view.state === "active"],
    ["state=disabled", (s) => present(s) && s.view.state === "disabled"],
    ["state=creating&provider=coxedge", (s) => present(s) && s.view.state === "creating"],
    ["provider=triton", (s) => present(s) && s.provider === "triton"],
    ["provider=coxedge&state=all", (s) => s.provider === "coxedge"],
    [`source=${sources.west}`, (s) => present(s) && s.source === sources.west],
    [`provider=triton&source=${sources.east}&state=removed`, (s) => s.removed && s.source === sources.east],
    ["name=ubuntu-20.04", (s) => present(s) && s.view.name === "ubuntu-20.04"],
    ["name=~ubuntu", (s) => present(s) && s.view.name.includes("ubuntu")],
    ["os=linux", (s) => present(s) && s.view.os === "linux"],
    ["os=linux&state=active", (s) => present(s) && s.view.os === "linux" && s.view.state === "active"],
    [`os=smartos&source=${sources.east}&state=all`, (s) => s.view.os === "smartos" && s.source === sources.east],
    ["os=windows&provider=triton&public=true", (s) => present(s) && s.view.os === "windows" && s.view.public === true],
    ["version=20.1.0", (s) => present(s) && s.view.version === "20.1.0"],
    ["public=true", (s) => present(s) && s.view.public === true],
    ["public=false&state=all", (s) => s.view.public === false],
    [`owner=${acmeOwner}`, (s) => present(s) && s.view.owner === acmeOwner],
    ["type=zvol", (s) => present(s) && s.view.type === "zvol"],
    ["imageType=default&state=all", (s) => s.provider === "coxedge" && s.view.type === "default"],
    ["imageType=custom", (s) => present(s) && s.provider === "coxedge" && s.view.type === "custom"],
    ["family=web-frontend", (s) => present(s) && s.provider === "coxedge" && s.view.os === "web-frontend"],
    ["tag=v20240101", (s) => present(s) && s.provider === "coxedge" && s.view.version === "v20240101"],
    ["family=ubuntu-2004-lts&tag=v20240601", (s) => present(s) && s.view.os === "ubuntu-2004-lts" && s.view.version === "v20240601"],
    ["name=no-such-image", () => false],
  ];

  it.each(cases)("?%s pages through exactly the matching images, in order", async (query, match) => {
    const expected = expectedIds(match);
    const { items } = await listAll(api, query, 4);
    expect(items.map((item) => order(item as never))).toEqual(expected);
    if (query !== "name=no-such-image") expect(expected.length).toBeGreaterThan(0);
  });

  it("pages across segments with no duplicate or gap, at every page size", async () => {
    const expected = expectedIds((s) => !s.removed);
    for (const limit of [1, 2, 3, 7, 1000]) {
      const { items, pages } = await listAll(api, "", limit);
      expect(items.map((item) => order(item as never))).toEqual(expected);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / limit));
    }
    // A source without a provider spans both providers' key ranges.
    const { items } = await listAll(api, `source=${sources.edge}&state=all`, 2);
    expect(items).toHaveLength(6);
  });

  it("answers the documented shape: the summary view with effective lastSeenAt, never keys or raw documents", async () => {
    const response = await api.get("/images?limit=1000&state=all");
    expect(response.headers.get("content-type")).toBe("application/json");
    const body = ImageListSchema.parse(await response.json());
    for (const item of body.items) expect(z.strictObject(ImageSummarySchema.shape).safeParse(item).success).toBe(true);
    const live = body.items.find((i) => i.source === sources.east && !i.removedAt);
    const tomb = body.items.find((i) => i.removedAt);
    // A live image was seen by the source's last good snapshot; a tombstone when it was last there.
    expect(live?.lastSeenAt).toBe(times.snapshot);
    expect(tomb).toMatchObject({ lastSeenAt: times.observed, removedAt: times.removed });
  });

  it("default limit is 100", async () => {
    const body = (await (await api.get("/images?state=all")).json()) as { items: unknown[]; nextCursor?: string };
    expect(body.items).toHaveLength(seeded.length);
    expect(body.nextCursor).toBeUndefined();
  });

  it("rejects a tampered, truncated or foreign cursor with 400 naming cursor", async () => {
    const first = (await (await api.get("/images?limit=2")).json()) as { nextCursor: string };
    const [payload, signature] = first.nextCursor.split(".") as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, "base64url").toString()) as { segment: number; key: Record<string, string> };
    const forged = Buffer.from(JSON.stringify({ ...decoded, key: { ...decoded.key, sk: "zzz" } })).toString("base64url");
    for (const cursor of [`${forged}.${signature}`, first.nextCursor.slice(0, -3), "garbage", `${payload}.`, `${first.nextCursor}.x`]) {
      const response = await api.get(`/images?limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect((await response.json()) as object).toMatchObject({ status: 400, invalidParams: [{ name: "cursor", in: "query" }] });
    }
    // Valid, but issued for other filters.
    const other = await api.get(`/images?limit=2&provider=triton&cursor=${encodeURIComponent(first.nextCursor)}`);
    expect(other.status).toBe(400);
    // The genuine one works.
    expect((await api.get(`/images?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)).status).toBe(200);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=abc", "limit"],
    ["limit=2.5", "limit"],
    ["provider=aws", "provider"],
    ["public=yes", "public"],
    ["state=gone", "state"],
    ["imageType=shared", "imageType"],
    ["os=", "os"],
    ["name=~", "name"],
    ["colour=blue", "colour"],
    ["os=linux&os=smartos", "os"],
    ["provider=triton&family=ubuntu", "family"],
    ["os=linux&family=ubuntu", "family"],
  ])("?%s → 400 naming %s", async (query, name) => {
    const response = await api.get(`/images?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await response.json()) as { detail: string; invalidParams: { name: string; in: string }[] };
    expect(problem.invalidParams[0]).toMatchObject({ name, in: "query" });
    expect(problem.detail).toContain(name);
  });

  it("is never fooled by expression syntax in values (placeholders only)", async () => {
    for (const value of ["linux OR attribute_exists(pk)", "#name", ":hash", ") OR (1=1"]) {
      const response = await api.get(`/images?os=${encodeURIComponent(value)}&name=${encodeURIComponent(`~${value}`)}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { items: unknown[] }).items).toEqual([]);
    }
  });
});

describe("GET /images/{provider}/{id+}", () => {
  const triton1 = () => seeded.find((s) => s.provider === "triton" && s.source === sources.east && s.id.startsWith("00000001")) as Seeded;

  it("returns one image with sightings in every source, the first present source by id shown", async () => {
    const response = await api.get(`/images/triton/${triton1().id}`);
    expect(response.status).toBe(200);
    const body = z.strictObject(ImageDetailSchema.shape).parse(await response.json());
    expect(body).toMatchObject({ provider: "triton", id: triton1().id, source: sources.west, name: "base-64-lts", raw: { id: triton1().id } });
    expect(body.seenIn).toEqual([{ source: sources.west }, { source: sources.east }]);
    expect(body.firstSeenAt).toBe(times.observed);

    const east = (await (await api.get(`/images/triton/${triton1().id}?source=${sources.east}`)).json()) as { source: string };
    expect(east.source).toBe(sources.east);
  });

  it("shows a tombstone with removedAt and its expiry", async () => {
    const removed = seeded.find((s) => s.removed && s.provider === "triton") as Seeded;
    const body = (await (await api.get(`/images/triton/${removed.id}`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ removedAt: times.removed, seenIn: [{ source: sources.east, removedAt: times.removed }] });
    expect(body.expiresAt).toBe(Date.parse(times.removed) / 1000 + 30 * 86_400);
  });

  it("handles Cox Edge ids with slashes, raw or percent-encoded", async () => {
    const image = seeded.find((s) => s.provider === "coxedge" && s.id.includes("web-frontend/v1.2.3")) as Seeded;
    expect(image.id.split("/")).toHaveLength(3);
    for (const path of [image.id, encodeURIComponent(image.id)]) {
      const response = await api.get(`/images/coxedge/${path}`);
      expect(response.status).toBe(200);
      expect((await response.json()) as object).toMatchObject({ id: image.id, provider: "coxedge", source: sources.edge, os: "web-frontend", version: "v1.2.3" });
    }
  });

  it("404s with a problem body naming the image", async () => {
    for (const path of ["/images/triton/no-such-id", "/images/coxedge/a/b/c", `/images/triton/${triton1().id}?source=${sources.edge}`]) {
      const response = await api.get(path);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(((await response.json()) as { detail: string }).detail).toMatch(/^No (triton|coxedge) image /);
    }
  });

  it("400s on an unknown provider, naming the path parameter", async () => {
    const response = await api.get("/images/aws/ami-123");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { invalidParams: unknown[] }).invalidParams).toEqual([{ name: "provider", in: "path", reason: expect.any(String) }]);
  });
});

describe("ETag / If-None-Match", () => {
  it("answers 304 for a current tag and 200 with a new tag after a change", async () => {
    const image = seeded.find((s) => s.provider === "triton" && s.source === sources.east && !s.removed) as Seeded & { document: { provider: "triton" } };
    const path = `/images/triton/${image.id}?source=${sources.east}`;
    const first = await api.get(path);
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");

    const again = await api.get(path, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(await again.text()).toBe("");
    expect((await api.get(path, { headers: { "if-none-match": `"other", W/${etag}` } })).status).toBe(304);

    const list = await api.get("/images?limit=3");
    expect((await api.get("/images?limit=3", { headers: { "if-none-match": list.headers.get("etag") as string } })).status).toBe(304);

    const changed = { ...image.document.image, description: "changed" };
    await writeImageContent(api.table, sources.east, normaliseImage({ provider: "triton", image: changed }), new Date().toISOString(), "sync:test");
    const after = await api.get(path, { headers: { "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
    expect(((await after.json()) as { description: string }).description).toBe("changed");
  });
});
