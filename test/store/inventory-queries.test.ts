/**
 * Image listings over many sources' partitions on DynamoDB Local: following `next` from page to page yields
 * every matching image exactly once, in `<provider>#<sourceId>#<upstreamId>` order, for every filter and page
 * size, also when pages end early on the time budget or a source is added between two pages; and a page reads
 * the sources in order only until it is full.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import type { Provider } from "../../packages/core/resources";
import type { TritonImage } from "../../packages/providers/triton/schemas";
import { buildImage, environmentStack } from "../../packages/simulators/coxedge/catalog";
import { writeImageContent, writeTombstone, type SourceRef } from "../../packages/store/inventory";
import { listImages, type ImageFilter, type PagePosition } from "../../packages/store/inventory-queries";
import { itemKeys } from "../../packages/store/keys";
import { normaliseImage, type UpstreamDocument } from "../../packages/store/normalise";
import type { Table } from "../../packages/store/table";
import { tableForThisFile } from "../support/stack";

const testTable = tableForThisFile();
// Recent, so DynamoDB Local's TTL does not delete the tombstones (they expire 30 days after removal).
const observedAt = new Date(Date.now() - 2 * 86_400_000).toISOString();
const removedAt = new Date(Date.now() - 86_400_000).toISOString();

// 'triton-a-b' sorts after 'triton-a' ('#' < '-'), the order one index over everything had.
const sources: SourceRef[] = [
  { provider: "triton", sourceId: "triton-a" },
  { provider: "triton", sourceId: "triton-a-b" },
  { provider: "triton", sourceId: "triton-c" },
  { provider: "coxedge", sourceId: "coxedge-a" },
  { provider: "coxedge", sourceId: "coxedge-z" },
];
const late: SourceRef = { provider: "triton", sourceId: "triton-b" };

interface Stored extends SourceRef {
  upstreamId: string;
  os?: string;
  state: string;
  name: string;
  removed: boolean;
}

function documentOf(source: SourceRef, n: number): UpstreamDocument {
  if (source.provider === "coxedge") {
    const family = ["web", "db"][n % 2] as string;
    return { provider: "coxedge", image: buildImage(environmentStack(source.sourceId), { family, tag: `v${n}`, createdAt: observedAt, description: "d", status: n % 3 ? "READY" : "FAILED" }) };
  }
  const image: TritonImage = {
    id: `${String(n).padStart(8, "0")}-1111-4222-8333-444455556666`,
    name: ["base", "ubuntu"][n % 2] as string,
    version: "1.0.0",
    ...(n % 4 === 3 ? {} : { os: ["linux", "smartos", "linux"][n % 4] }),
    type: "zone-dataset",
    requirements: {},
    public: true,
    owner: "930896af-bf8c-48d4-885c-6573a94b1853",
    state: n % 5 === 1 ? "disabled" : "active",
  };
  return { provider: "triton", image };
}

/** Writes `count` images of the source (every 6th one tombstoned) through the store's own writes. */
async function seed(table: Table, source: SourceRef, count: number): Promise<Stored[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const image = normaliseImage(documentOf(source, n));
      await writeImageContent(table, source.sourceId, image, observedAt, "sync:test");
      const removed = n % 6 === 5;
      if (removed) await writeTombstone(table, { ...source, upstreamId: image.upstreamId }, { observedAt: removedAt, retentionDays: 30, cause: "sync:test" });
      return { ...source, upstreamId: image.upstreamId, os: image.view.os, state: image.view.state, name: image.view.name, removed };
    }),
  );
}

const sortKey = (image: { provider: Provider; sourceId: string; upstreamId: string }) => itemKeys.imageSort(image);

/** Follows `next` to the end (from `from`, else the start); every page within the limit. */
async function listAll(
  table: Table,
  filter: ImageFilter,
  listed: readonly SourceRef[],
  limit: number,
  options: { budgetMs?: number; from?: PagePosition } = {},
): Promise<{ keys: string[]; pages: number }> {
  const { budgetMs } = options;
  const keys: string[] = [];
  let after = options.from;
  let pages = 0;
  do {
    const page = await listImages(table, filter, listed, { limit, after, budgetMs });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    keys.push(...page.items.map(sortKey));
    after = page.next;
    pages++;
    expect(pages).toBeLessThan(1000);
  } while (after);
  return { keys, pages };
}

describe("listImages over one partition per source", () => {
  let stored: Stored[] = [];
  const seeded = async () => {
    if (!stored.length) stored = (await Promise.all(sources.map((source) => seed(testTable.table, source, 13)))).flat();
    return stored;
  };
  const expected = (match: (image: Stored) => boolean, among: readonly SourceRef[] = sources) =>
    stored.filter((image) => among.some((source) => source.sourceId === image.sourceId) && match(image)).map(sortKey).toSorted();

  const filters: [string, ImageFilter, (image: Stored) => boolean][] = [
    ["present", { presence: "present" }, (i) => !i.removed],
    ["all", { presence: "all" }, () => true],
    ["removed", { presence: "removed" }, (i) => i.removed],
    ["os", { presence: "present", os: "linux" }, (i) => !i.removed && i.os === "linux"],
    ["os and state", { presence: "present", os: "linux", state: "active" }, (i) => !i.removed && i.os === "linux" && i.state === "active"],
    ["family of one provider", { presence: "all", provider: "coxedge", os: "web" }, (i) => i.provider === "coxedge" && i.os === "web"],
    ["provider", { presence: "present", provider: "triton" }, (i) => !i.removed && i.provider === "triton"],
    ["source", { presence: "all", source: "triton-a-b" }, (i) => i.sourceId === "triton-a-b"],
    ["source and state", { presence: "present", source: "coxedge-z", state: "failed" }, (i) => !i.removed && i.sourceId === "coxedge-z" && i.state === "failed"],
    ["name", { presence: "present", name: "ubuntu" }, (i) => !i.removed && i.name === "ubuntu"],
    ["no match", { presence: "present", name: "none" }, () => false],
  ];

  it.each(filters)("pages through every %s image exactly once, in order, at every page size", async (_name, filter, match) => {
    await seeded();
    const want = expected(match);
    if (filter.name !== "none") expect(want.length).toBeGreaterThan(0);
    for (const limit of [1, 4, 13, 1000]) {
      const { keys, pages } = await listAll(testTable.table, filter, sources, limit);
      expect(keys).toEqual(want);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(want.length / limit));
    }
  });

  it("still lists every image once when pages end early on the time budget", async () => {
    await seeded();
    for (const [, filter, match] of filters) expect((await listAll(testTable.table, filter, sources, 5, { budgetMs: 0 })).keys).toEqual(expected(match));
  });

  it("includes a source added between two pages if it sorts after the position, and never repeats one", async () => {
    await seeded();
    const triton = sources.filter((source) => source.provider === "triton");
    const first = await listImages(testTable.table, { presence: "all" }, triton, { limit: 20 });
    expect(first.next?.after.startsWith("triton#triton-a-b#")).toBe(true);
    // One added source sorts before the position ('triton-a-a'), one after ('triton-b').
    const before: SourceRef = { provider: "triton", sourceId: "triton-a-a" };
    stored.push(...(await seed(testTable.table, before, 3)), ...(await seed(testTable.table, late, 5)));
    const rest = await listAll(testTable.table, { presence: "all" }, [...triton, before, late], 7, { from: first.next });
    expect([...first.items.map(sortKey), ...rest.keys]).toEqual(expected(() => true, [...triton, late]));
  });

  it("reads the sources in order only until the page is full, reading ahead while it finds nothing", async () => {
    await seeded();
    let queries = 0;
    const client = new DynamoDBClient({});
    client.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === "QueryCommand") queries++;
      return next(args);
    }, { step: "initialize", name: "countQueries" });
    const counted = { client: DynamoDBDocumentClient.from(client), name: testTable.table.name };
    try {
      await listImages(counted, { presence: "all" }, sources, { limit: 5 });
      expect(queries).toBe(1);
      queries = 0;
      // The first source's 13 images, then 7 of the next one's.
      const spanning = await listImages(counted, { presence: "all" }, sources, { limit: 20 });
      expect(new Set(spanning.items.map((item) => item.sourceId))).toEqual(new Set(["coxedge-a", "coxedge-z"]));
      expect(queries).toBe(2);
      queries = 0;
      // No Cox Edge image has this os: after an empty partition, the next two are read at once.
      const ahead = await listImages(counted, { presence: "all", os: "linux" }, sources, { limit: 3 });
      expect(ahead.items.map((item) => item.sourceId)).toEqual(["triton-a", "triton-a", "triton-a"]);
      expect(queries).toBe(3);
    } finally {
      client.destroy();
    }
  });
});
