/**
 * Catalog sync against the real simulators and DynamoDB Local: the inventory must mirror each upstream
 * listing exactly, and unchanged images must cost no write at all.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLatestRun, listLatestRuns, listRuns, type SyncRun } from "../../packages/store/runs";
import { effectiveLastSeenAt } from "../../packages/store/inventory";
import { contentHash } from "../../packages/store/normalise";
import { startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

function only(runs: SyncRun[]): SyncRun {
  expect(runs).toHaveLength(1);
  return runs[0] as SyncRun;
}

/** The inventory holds exactly the upstream's live images, each with the document as listed. */
async function expectMirrors(provider: "triton" | "coxedge"): Promise<void> {
  const [upstream, stored] = await Promise.all([h.upstream(provider), h.stored(provider)]);
  const live = [...stored.values()].filter((item) => !item.removedAt);
  expect(live.map((item) => item.upstreamId).toSorted()).toEqual([...upstream.keys()].toSorted());
  for (const item of live) {
    expect(item.raw).toEqual(upstream.get(item.upstreamId));
    expect(item.contentHash).toBe(contentHash(item.raw));
  }
}

describe.each(["triton", "coxedge"] as const)("%s sync", (provider) => {
  let first: SyncRun;

  it("first sync inserts every image of the full snapshot, with the normalised view", async () => {
    const before = h.imageWrites();
    first = only(await h.sync(provider));
    expect(first.status).toBe("ok");
    const upstream = await h.upstream(provider);
    expect(first.counts).toEqual({ seen: upstream.size, added: upstream.size, changed: 0, removed: 0, revived: 0, unchanged: 0 });
    expect(first.writes).toBe(upstream.size);
    expect(h.imageWrites() - before).toBe(upstream.size);
    await expectMirrors(provider);

    const stored = [...(await h.stored(provider)).values()];
    const item = stored[0];
    expect(item).toMatchObject({ kind: "image", provider, firstSeenAt: first.snapshotAt, lastSeenAt: first.snapshotAt, lastChangedAt: first.snapshotAt });
    // Each source's images sit in its own index partition, never under one key for the whole table.
    expect(item?.gsi1pk).toBe(`IMAGES#${provider}#${first.sourceId}`);
    if (provider === "triton") {
      // state=all, and Docker images despite CloudAPI's default type=!docker.
      expect(new Set(stored.map((i) => i.status))).toEqual(new Set(["active", "disabled", "unactivated", "failed"]));
      expect(stored.some((i) => i.type === "docker")).toBe(true);
      const sample = stored.find((i) => i.raw.published_at) as (typeof stored)[number];
      expect(sample).toMatchObject({ name: sample.raw.name, version: sample.raw.version, os: sample.raw.os, owner: sample.raw.owner });
      expect(sample.publishedAt).toBe(new Date(sample.raw.published_at as string).toISOString());
    } else {
      // No imageType: default and custom images together.
      expect(new Set(stored.map((i) => i.type))).toEqual(new Set(["default", "custom"]));
      const ready = stored.find((i) => i.raw.status === "READY") as (typeof stored)[number];
      expect(ready).toMatchObject({ name: ready.raw.family, version: ready.raw.tag, os: ready.raw.family, state: "active", status: "READY" });
    }
  });

  it("a second sync without upstream changes writes nothing", async () => {
    const before = h.imageWrites();
    const run = only(await h.sync(provider));
    expect(run.status).toBe("ok");
    expect(run.counts).toMatchObject({ added: 0, changed: 0, removed: 0, revived: 0, unchanged: first.counts.seen });
    expect(run.writes).toBe(0);
    expect(h.imageWrites() - before).toBe(0);
  });

  it("writes exactly the changed images and keeps their first sighting", async () => {
    const ids = [...(await h.upstream(provider)).keys()].slice(0, 3);
    for (const id of ids) {
      if (provider === "triton") h.triton.modifyImage(id, { description: "changed upstream" });
      else h.coxedge.state.updateImage(id, { description: "changed upstream" });
    }
    const before = h.imageWrites();
    const run = only(await h.sync(provider));
    expect(run.counts).toMatchObject({ changed: 3, added: 0, removed: 0, unchanged: first.counts.seen - 3 });
    expect(run.writes).toBe(3);
    expect(h.imageWrites() - before).toBe(3);
    const stored = await h.stored(provider);
    for (const id of ids) {
      expect(stored.get(id)).toMatchObject({ description: "changed upstream", firstSeenAt: first.snapshotAt, lastChangedAt: run.snapshotAt });
    }
    await expectMirrors(provider);
  });

  it("tombstones a vanished image with the retention as TTL, then revives it when it reappears", async () => {
    const upstream = await h.upstream(provider);
    const [id, document] = [...upstream.entries()].find(([, doc]) => provider === "triton" || doc.stackId !== "a8050b2b-39eb-4929-bce5-1af42055903e") as [string, Record<string, unknown>];
    const record = provider === "triton" ? h.triton.getImageRecord(id) : undefined;
    if (provider === "triton") h.triton.removeImage(id);
    else h.coxedge.state.removeImage(id);

    const removal = only(await h.sync(provider));
    expect(removal.counts).toMatchObject({ removed: 1, added: 0, changed: 0 });
    expect(removal.writes).toBe(1);
    const tombstone = (await h.stored(provider)).get(id);
    expect(tombstone?.removedAt).toBe(removal.snapshotAt);
    expect(tombstone?.expiresAt).toBe(Math.floor(Date.parse(removal.snapshotAt as string) / 1000) + 7 * 86_400);
    // Last seen by the previous successful snapshot, although that run wrote nothing for it.
    const previous = await listRuns(h.table, removal.sourceId, { limit: 2 });
    expect(tombstone?.lastSeenAt).toBe(previous.runs[1]?.snapshotAt);
    // Run history expires (default 90 days); the source's latest-run item does not.
    const runKey = { pk: `SOURCE#${removal.sourceId}`, sk: `RUN#${removal.startedAt}#${removal.runId}` };
    const { Item: runItem } = await h.table.client.send(new GetCommand({ TableName: h.table.name, Key: runKey }));
    expect(runItem?.expiresAt).toBe(Math.floor(Date.parse(removal.finishedAt) / 1000) + 90 * 86_400);
    const { Item: latestItem } = await h.table.client.send(new GetCommand({ TableName: h.table.name, Key: { pk: runKey.pk, sk: "LATEST" } }));
    expect(latestItem?.runId).toBe(removal.runId);
    expect(latestItem?.expiresAt).toBeUndefined();
    expect(tombstone?.raw).toEqual(document);
    await expectMirrors(provider);

    const quiet = only(await h.sync(provider));
    expect(quiet.writes).toBe(0);

    if (provider === "triton") h.triton.addImage(record as NonNullable<typeof record>);
    else h.coxedge.state.putImage({ family: document.family as string, tag: document.tag as string, description: document.description as string, createdAt: document.createdAt as string, status: document.status as "READY", type: "custom" });
    const revival = only(await h.sync(provider));
    expect(revival.counts).toMatchObject({ revived: 1, added: 0, removed: 0 });
    expect(revival.writes).toBe(1);
    const revived = (await h.stored(provider)).get(id);
    expect(revived?.removedAt).toBeUndefined();
    expect(revived?.expiresAt).toBeUndefined();
    expect(revived?.firstSeenAt).toBe(first.snapshotAt);
    await expectMirrors(provider);
  });

  it("records every run and keeps the latest per source", async () => {
    const sourceId = provider === "triton" ? h.tritonSourceId : h.coxedgeSourceId;
    const { runs } = await listRuns(h.table, sourceId);
    expect(runs.length).toBe(6);
    expect(runs.map((r) => r.startedAt)).toEqual(runs.map((r) => r.startedAt).toSorted().toReversed());
    for (const run of runs) {
      expect(run).toMatchObject({ provider, sourceId, status: "ok", trigger: "manual" });
      expect(run.upstreamMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    }
    const latest = await getLatestRun(h.table, sourceId);
    expect(latest).toMatchObject({ runId: runs[0]?.runId, status: "ok", lastOkRunId: runs[0]?.runId, lastOkSnapshotAt: runs[0]?.snapshotAt });
    const all = await listLatestRuns(h.table);
    expect(all.map((r) => r.sourceId)).toContain(sourceId);

    // An unchanged live image was written by the first run only, yet was seen by the latest one.
    const unchanged = [...(await h.stored(provider)).values()].find((item) => item.lastChangedAt === first.snapshotAt);
    expect(unchanged?.lastSeenAt).toBe(first.snapshotAt);
    expect(effectiveLastSeenAt(unchanged as NonNullable<typeof unchanged>, latest?.lastOkSnapshotAt)).toBe(runs[0]?.snapshotAt);
  });
});
