/**
 * The per-source state digest lets a no-change sync read a few items instead of every image item; it is
 * only an accelerator: when anything else wrote the partition (a job), or a run's writes did not all land,
 * the next run reads the partition, so no change is ever missed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoClient } from "../../packages/core/aws";
import { upsertImage } from "../../packages/store/inventory";
import { invalidateStateDigest, loadStateDigest, writeStateDigest } from "../../packages/store/state-digest";
import { startHarness, type Harness } from "./harness";

let h: Harness;
/** Query requests on the Triton source's image partition, and writes made to fail, by upstream id. */
const partitionReads = { count: 0 };
/** Query requests on the state digest's shards. */
const shardReads = { count: 0 };
const failWritesOf = new Set<string>();

beforeAll(async () => {
  h = await startHarness({ images: 30 });
  dynamoClient().middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ExpressionAttributeValues?: Record<string, unknown>; Key?: Record<string, unknown> };
      const text = (value: unknown) => String(typeof value === "object" && value !== null ? (value as { S?: string }).S : value);
      if (context.commandName === "QueryCommand" && text(input.ExpressionAttributeValues?.[":pk"]).startsWith("IMAGE#triton#")) partitionReads.count++;
      if (context.commandName === "QueryCommand" && text(input.ExpressionAttributeValues?.[":shards"]).startsWith("DIGEST#")) shardReads.count++;
      if (context.commandName === "UpdateItemCommand" && failWritesOf.has(text(input.Key?.sk))) throw new Error("injected write failure");
      return next(args);
    },
    { step: "initialize", name: "digestTestProbe" },
  );
});
afterAll(() => h.close());

async function syncTriton() {
  const reads = partitionReads.count;
  const [run] = await h.sync("triton");
  return { run: run!, readPartition: partitionReads.count > reads };
}

/** The inventory's live items equal the upstream listing, document for document. */
async function expectMirrors(): Promise<void> {
  const [upstream, stored] = await Promise.all([h.upstream("triton"), h.stored("triton")]);
  const live = [...stored.values()].filter((item) => !item.removedAt);
  expect(live.map((item) => item.upstreamId).toSorted()).toEqual([...upstream.keys()].toSorted());
  for (const item of live) expect(item.raw, item.upstreamId).toEqual(upstream.get(item.upstreamId));
}

/** An image of the account's own (which the simulator lets us change), by index. */
const ownImage = (index: number) => h.triton.imageRecords().filter((image) => image.owner === h.triton.accountUuid)[index]!;

describe("state digest", () => {
  it("the first sync reads the partition and leaves a digest; a no-change sync then reads no image item and writes none", async () => {
    expect((await syncTriton()).readPartition).toBe(true);
    const digest = await loadStateDigest(h.table, h.tritonSourceId);
    expect((await digest.state())?.size).toBe((await h.stored("triton")).size);
    const writes = h.imageWrites();
    const second = await syncTriton();
    expect(second).toMatchObject({ run: { status: "ok", writes: 0 }, readPartition: false });
    expect(h.imageWrites()).toBe(writes);
  });

  it("a listing byte for byte the one the digest is known to match is compared with nothing, and reports what a full comparison reports", async () => {
    await invalidateStateDigest(h.table, h.tritonSourceId);
    const compared = await syncTriton();
    expect(compared).toMatchObject({ run: { status: "ok", writes: 0, compared: "items" }, readPartition: true });
    const shardReadsBefore = shardReads.count;
    const known = await syncTriton();
    expect(known).toMatchObject({ run: { status: "ok", writes: 0, compared: "listing" }, readPartition: false });
    // The digest's head alone: not one shard was read.
    expect(shardReads.count).toBe(shardReadsBefore);
    expect(known.run.counts).toEqual(compared.run.counts);
    expect({ ...known.run.inventory, at: undefined }).toEqual({ ...compared.run.inventory, at: undefined });
    expect(known.run.counts.seen).toBe((await h.upstream("triton")).size);
  });

  it("a sync with changes uses the digest, writes exactly them, and leaves a digest the next sync trusts", async () => {
    h.triton.modifyImage(ownImage(0).uuid, { description: "changed upstream" });
    const changed = await syncTriton();
    expect(changed).toMatchObject({ run: { status: "ok", writes: 1, counts: expect.objectContaining({ changed: 1 }) }, readPartition: false });
    expect((await syncTriton()).readPartition).toBe(false);
    await expectMirrors();
  });

  it("a digest that knows no listing learns the next one that changes nothing, without being rewritten", async () => {
    const digest = await loadStateDigest(h.table, h.tritonSourceId);
    // As an earlier run that held removals leaves it: a trusted digest, no listing known to match it.
    const state = await digest.state();
    await writeStateDigest(h.table, { sourceId: h.tritonSourceId, runId: "test", invalidations: digest.invalidations, state: state!, tombstonesAfter: "" });
    const { trusted } = await loadStateDigest(h.table, h.tritonSourceId);
    expect(trusted).toMatchObject({ digestId: expect.any(String), listing: undefined });
    expect((await syncTriton()).run).toMatchObject({ status: "ok", writes: 0, compared: "digest" });
    expect((await loadStateDigest(h.table, h.tritonSourceId)).trusted).toMatchObject({ digestId: trusted?.digestId, listing: { fingerprint: expect.any(String) } });
    expect((await syncTriton()).run.compared).toBe("listing");
  });

  it("keeps each listed image's fingerprint; a digest whose fingerprints no longer match costs hashing, not writes, and is rewritten", async () => {
    const upstream = await h.upstream("triton");
    const digest = await loadStateDigest(h.table, h.tritonSourceId);
    const state = await digest.state();
    expect([...upstream.keys()].every((id) => state?.get(id)?.fingerprint?.length === 16)).toBe(true);
    // As if upstream now wrote every document's keys in another order: no fingerprint matches, no content differs.
    const mismatched = new Map([...(state ?? [])].map(([id, entry]) => [id, { ...entry, fingerprint: "x".repeat(16) }]));
    await writeStateDigest(h.table, { sourceId: h.tritonSourceId, runId: "test", invalidations: digest.invalidations, state: mismatched, tombstonesAfter: "" });
    const writes = h.imageWrites();
    expect(await syncTriton()).toMatchObject({ run: { status: "ok", writes: 0 }, readPartition: false });
    expect(h.imageWrites()).toBe(writes);
    const rewritten = await (await loadStateDigest(h.table, h.tritonSourceId)).state();
    for (const id of upstream.keys()) expect(rewritten?.get(id)?.fingerprint, id).toBe(state?.get(id)?.fingerprint);
  });

  it("after a job rewrote an image (the store's write invalidates the digest), the next sync reads the partition and restores the listing", async () => {
    const image = ownImage(1);
    const listed = (await h.upstream("triton")).get(image.uuid)!;
    // What the job worker does (jobs/engine.ts #refresh): write what it read; upsertImage invalidates first.
    await upsertImage(h.table, { provider: "triton", image: { ...listed, description: "as a job saw it" } as never, sourceId: h.tritonSourceId, observedAt: new Date(), cause: "job:test" });
    // Upstream never changed: a trusted stale digest would call the image unchanged and keep the job's copy.
    const next = await syncTriton();
    expect(next).toMatchObject({ run: { status: "ok", writes: 1 }, readPartition: true });
    await expectMirrors();
    expect((await syncTriton()).readPartition).toBe(false);
  });

  it("after a run whose writes did not all land, the next run reads the partition and repairs what the failed run left", async () => {
    const [written, failing] = [ownImage(2), ownImage(3)];
    const original = { written: written.description, failing: failing.description };
    h.triton.modifyImage(written.uuid, { description: "first edit" });
    h.triton.modifyImage(failing.uuid, { description: "first edit" });
    failWritesOf.add(failing.uuid);
    const failed = await syncTriton();
    failWritesOf.clear();
    expect(failed.run.status).toBe("failed");
    // Upstream goes back to what the digest still says; only a full read sees the partition differs.
    h.triton.modifyImage(written.uuid, { description: original.written });
    h.triton.modifyImage(failing.uuid, { description: original.failing });
    const repaired = await syncTriton();
    expect(repaired).toMatchObject({ run: { status: "ok" }, readPartition: true });
    await expectMirrors();
  });

  it("a listing whose removals were held is never the known one: the same listing again confirms and applies them", async () => {
    const dropped = [...(await h.upstream("triton")).keys()].slice(0, 10);
    const records = h.triton.imageRecords().filter((image) => dropped.includes(image.uuid));
    for (const id of dropped) h.triton.removeImage(id);
    const held = await syncTriton();
    expect(held.run).toMatchObject({ status: "ok", writes: 0, compared: "digest", heldRemovals: { count: 10 } });
    const confirmed = await syncTriton();
    expect(confirmed.run).toMatchObject({ status: "ok", compared: "digest", counts: expect.objectContaining({ removed: 10 }) });
    expect(confirmed.run.heldRemovals).toBeUndefined();
    await expectMirrors();
    expect((await syncTriton()).run.compared).toBe("listing");
    for (const record of records) h.triton.addImage(record);
    expect((await syncTriton()).run).toMatchObject({ compared: "digest", counts: expect.objectContaining({ revived: 10 }) });
    await expectMirrors();
  });

  it("removals and revivals keep the digest exact", async () => {
    const gone = ownImage(4);
    h.triton.removeImage(gone.uuid);
    expect((await syncTriton()).run.counts.removed).toBe(1);
    h.triton.addImage(gone);
    const back = await syncTriton();
    expect(back).toMatchObject({ run: { counts: expect.objectContaining({ revived: 1 }) }, readPartition: false });
    await expectMirrors();
    const state = await (await loadStateDigest(h.table, h.tritonSourceId)).state();
    expect(state?.get(gone.uuid)?.removedAt).toBeUndefined();
  });
});
