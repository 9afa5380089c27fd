/** The state digest's storage on DynamoDB Local: sharding, replacement of changed shards, pruning and the conditions that make it untrusted. */
import { createHash } from "node:crypto";
import { paginateQuery, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { itemKeys } from "../../packages/store/keys";
import {
  invalidateStateDigest,
  loadStateDigest,
  markStateDigestPending,
  recordKnownListing,
  sameContent,
  writeStateDigest,
  type KnownListing,
  type StoredImageState,
} from "../../packages/store/state-digest";
import { tableForThisFile } from "../support/stack";

const testTable = tableForThisFile();
const stateOf = async (sourceId: string) => (await loadStateDigest(testTable.table, sourceId)).state();
const hash = (text: string) => createHash("sha256").update(text).digest("base64url");

function state(count: number, removedAt?: (index: number) => string | undefined): Map<string, StoredImageState> {
  return new Map(
    Array.from({ length: count }, (_, index) => {
      const removed = removedAt?.(index);
      return [`image-${String(index).padStart(6, "0")}`, { contentHash: hash(`content ${index}`), lastSeenAt: "2026-01-01T00:00:00.000Z", ...(removed ? { removedAt: removed } : {}) }];
    }),
  );
}

async function shardKeys(sourceId: string): Promise<string[]> {
  const keys: string[] = [];
  // Paged: a Query page stops at 1 MB read.
  const pages = paginateQuery(
    { client: testTable.table.client },
    {
      TableName: testTable.table.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :shards)",
      ExpressionAttributeValues: { ":pk": itemKeys.sourcePartition(sourceId), ":shards": itemKeys.stateDigestShards },
    },
  );
  for await (const page of pages) keys.push(...(page.Items ?? []).map((item) => item.sk as string));
  return keys;
}

const write = (sourceId: string, images: Map<string, StoredImageState>, invalidations = 0, tombstonesAfter = "2000-01-01T00:00:00.000Z") =>
  writeStateDigest(testTable.table, { sourceId, runId: "run-1", invalidations, state: images, tombstonesAfter });

describe("state digest storage", () => {
  it("splits a large digest into shards under the item limit and reads it back exactly; a new digest deletes the shards it replaced", async () => {
    const images = state(30_000, (index) => (index % 10 === 0 ? "2026-02-01T00:00:00.000Z" : undefined));
    expect(await write("big", images)).toBe(true);
    const first = await shardKeys("big");
    expect(first.length).toBe(32);
    const loaded = await loadStateDigest(testTable.table, "big");
    const loadedState = await loaded.state();
    expect(loadedState?.size).toBe(30_000);
    expect(loaded.trusted).toMatchObject({ tombstones: 3_000, shards: { keys: expect.arrayContaining(first) } });
    for (const [id, stored] of images) {
      const read = loadedState?.get(id);
      expect(sameContent(read?.contentHash ?? "", stored.contentHash), id).toBe(true);
      expect(read?.removedAt).toBe(stored.removedAt);
    }
    expect(await write("big", state(10))).toBe(true);
    const second = await shardKeys("big");
    expect(second).toHaveLength(1);
    expect(first).not.toContain(second[0]);
  });

  it("given the shards it was read from, a new digest writes only the shards whose entries changed", async () => {
    const images = state(8_000);
    expect(await write("partial", images)).toBe(true);
    const read = await loadStateDigest(testTable.table, "partial");
    const before = read.trusted?.shards.keys ?? [];
    expect(before).toHaveLength(8);
    const next = new Map(await read.state());
    next.set("image-000042", { contentHash: hash("changed"), lastSeenAt: "" });
    next.set("image-new", { contentHash: hash("new"), lastSeenAt: "" });
    expect(await writeStateDigest(testTable.table, { sourceId: "partial", runId: "run-2", invalidations: 0, state: next, tombstonesAfter: "", reuse: read.trusted?.shards })).toBe(true);
    const after = (await loadStateDigest(testTable.table, "partial")).trusted?.shards.keys ?? [];
    const replaced = before.filter((key) => !after.includes(key));
    expect(replaced.length).toBeGreaterThanOrEqual(1);
    expect(replaced.length).toBeLessThanOrEqual(2);
    expect((await shardKeys("partial")).toSorted()).toEqual(after.toSorted());
    const reloaded = await stateOf("partial");
    expect(reloaded?.size).toBe(8_001);
    expect(reloaded?.get("image-000042")?.contentHash).toBe(hash("changed").slice(0, 16));
    expect(reloaded?.get("image-000043")?.contentHash).toBe(hash("content 43").slice(0, 16));
  });

  it("deletes every old shard when the old digest spans more than one Query page (1 MB)", async () => {
    expect(await write("huge", state(150_000))).toBe(true);
    const first = await shardKeys("huge");
    expect(first.length).toBeGreaterThan(3);
    expect(await write("huge", state(10))).toBe(true);
    const second = await shardKeys("huge");
    expect(second).toHaveLength(1);
    expect(first).not.toContain(second[0]);
  }, 60_000);

  it("leaves out tombstones older than the retention", async () => {
    await write("pruned", state(4, (index) => ["2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"][index]), 0, "2026-02-01T00:00:00.000Z");
    const ids = [...((await stateOf("pruned"))?.keys() ?? [])];
    expect(ids).toEqual(["image-000001", "image-000002", "image-000003"]);
  });

  it("is not trusted while a run that writes has it marked, nor after an invalidation, until a run rewrites it", async () => {
    await write("marked", state(3));
    expect(await stateOf("marked")).toBeDefined();
    await markStateDigestPending(testTable.table, "marked", "run-2");
    expect(await stateOf("marked")).toBeUndefined();
    expect(await write("marked", state(3))).toBe(true);
    await invalidateStateDigest(testTable.table, "marked");
    const invalidated = await loadStateDigest(testTable.table, "marked");
    expect(invalidated.invalidations).toBe(1);
    expect(invalidated.trusted).toBeUndefined();
    expect(await invalidated.state()).toBeUndefined();
    expect(await write("marked", state(3), invalidated.invalidations)).toBe(true);
    expect((await stateOf("marked"))?.size).toBe(3);
  });

  it("is not replaced when another writer invalidated it after the run read it, and the unused shards are removed", async () => {
    await write("raced", state(3));
    const read = await loadStateDigest(testTable.table, "raced");
    await invalidateStateDigest(testTable.table, "raced");
    const before = await shardKeys("raced");
    expect(await write("raced", state(5), read.invalidations)).toBe(false);
    expect(await shardKeys("raced")).toEqual(before);
    expect(await stateOf("raced")).toBeUndefined();
  });

  it("learns a known listing only for the digest read and only while nothing wrote the partition; any rewrite forgets it", async () => {
    const listing: KnownListing = { fingerprint: "f1", seen: 4, states: { active: 2, disabled: 1 }, unstorable: { count: 1, first: "x: too deep" } };
    await write("known", state(3, (index) => (index === 0 ? "2026-02-01T00:00:00.000Z" : undefined)));
    const read = await loadStateDigest(testTable.table, "known");
    const digestId = read.trusted?.digestId as string;
    expect(read.trusted).toMatchObject({ digestId, tombstones: 1, listing: undefined });
    expect(await recordKnownListing(testTable.table, { sourceId: "known", digestId: "another", invalidations: 0, listing })).toBe(false);
    expect(await recordKnownListing(testTable.table, { sourceId: "known", digestId, invalidations: 0, listing })).toBe(true);
    expect((await loadStateDigest(testTable.table, "known")).trusted).toMatchObject({ digestId, tombstones: 1, listing });
    await markStateDigestPending(testTable.table, "known", "run-2");
    expect(await recordKnownListing(testTable.table, { sourceId: "known", digestId, invalidations: 0, listing })).toBe(false);
    await write("known", state(3));
    const rewritten = (await loadStateDigest(testTable.table, "known")).trusted?.digestId as string;
    await invalidateStateDigest(testTable.table, "known");
    expect(await recordKnownListing(testTable.table, { sourceId: "known", digestId: rewritten, invalidations: 0, listing })).toBe(false);
    expect((await loadStateDigest(testTable.table, "known")).trusted).toBeUndefined();
    expect(await write("known", state(3), 1)).toBe(true);
    expect((await loadStateDigest(testTable.table, "known")).trusted).toMatchObject({ tombstones: 0, listing: undefined });
  });

  it("a damaged shard makes the digest untrusted rather than wrong", async () => {
    await write("damaged", state(3));
    const [sk] = await shardKeys("damaged");
    await testTable.table.client.send(new PutCommand({ TableName: testTable.table.name, Item: { pk: itemKeys.sourcePartition("damaged"), sk, kind: "digest", data: Buffer.from("not gzip") } }));
    expect(await stateOf("damaged")).toBeUndefined();
  });

  it("compares a digest's hash prefix with a full hash, and full hashes exactly", () => {
    const full = hash("x");
    expect(sameContent(full, full)).toBe(true);
    expect(sameContent(full.slice(0, 16), full)).toBe(true);
    expect(sameContent(full.slice(0, 16), hash("y"))).toBe(false);
    expect(sameContent(full.slice(0, 15), full)).toBe(false);
    expect(sameContent("", full)).toBe(false);
  });
});
