/**
 * Change history end to end on the real servers: syncs against the Triton simulator write image items,
 * DynamoDB Local's stream delivers them through the local streams adapter to the real Changes function,
 * and the API serves the records while the events land in the local sink.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler } from "../../functions/api";
import { handler as changesHandler } from "../../functions/changes";
import { dynamoClient } from "../../packages/core/aws";
import { apiFunction, apiRoutes, changesFunction } from "../../packages/core/resources";
import { startHttpAdapter, type HttpAdapter } from "../../packages/local/adapters/http";
import { invoke } from "../../packages/local/adapters/lambda";
import { startStreamPoller, type StreamHandler, type StreamPoller } from "../../packages/local/adapters/streams";
import { createJob, saveJob, type JobRecord } from "../../packages/store/jobs";
import { guardSecret } from "../support/secrets";
import { startHarness, type Harness } from "../sync/harness";

const token = randomBytes(24).toString("base64url");
guardSecret(token);
const dataDir = mkdtempSync(join(tmpdir(), "imagesync-changes-"));
const eventsFile = join(dataDir, "events.jsonl");
const checkpointFile = join(dataDir, "checkpoints.json");
const settings = { functionName: changesFunction.name, timeoutSeconds: changesFunction.timeoutSeconds };

let h: Harness;
let http: HttpAdapter;
let poller: StreamPoller;
/** Every stream record the poller delivered, as the function got it. */
const delivered: DynamoDBRecord[] = [];
const recording: StreamHandler = (event, context) => {
  delivered.push(...event.Records);
  return changesHandler(event, context);
};
const startPoller = () =>
  startStreamPoller({ dynamo: dynamoClient(), tableName: h.env.IMAGESYNC_TABLE_NAME as string, handler: recording, settings, batchSize: 100, maxRetryAttempts: 3, checkpointFile, pollIntervalMs: 50 });

beforeAll(async () => {
  h = await startHarness({ images: 12 });
  // The Changes function reads its configuration from the environment, as on Lambda.
  Object.assign(process.env, { IMAGESYNC_TABLE_NAME: h.env.IMAGESYNC_TABLE_NAME, IMAGESYNC_EVENTS_FILE: eventsFile });
  poller = await startPoller();
  http = await startHttpAdapter({
    handler: createHandler(h.config({ IMAGESYNC_API_TOKEN: token }), { cacheTtlMs: 0 }),
    routes: apiRoutes,
    settings: { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds },
  });
});
afterAll(async () => {
  await poller?.stop();
  await http?.close();
  await h?.close();
});

const get = async (path: string) => {
  const response = await fetch(`${http.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};
const events = (): { "detail-type": string; source: string; detail: Record<string, any> }[] =>
  existsSync(eventsFile) ? readFileSync(eventsFile, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line)) : [];
const imageRecords = (records: DynamoDBRecord[]) => records.filter((record) => (record.dynamodb?.NewImage ?? record.dynamodb?.OldImage)?.kind?.S === "image");

async function syncTriton() {
  const [run] = await h.sync("triton");
  expect(run?.status).toBe("ok");
  await poller.drained();
  return run!;
}

describe("change history from the table stream", () => {
  let first: Awaited<ReturnType<typeof syncTriton>>;
  let upstreamIds: string[];

  it("a first sync records one `added` change per image, caused by its run, and publishes Image Added", async () => {
    first = await syncTriton();
    upstreamIds = [...(await h.upstream("triton")).keys()];
    const { status, body } = await get("/changes?provider=triton&kind=added&limit=100");
    expect(status).toBe(200);
    expect(body.items.map((change: any) => change.imageId).toSorted()).toEqual(upstreamIds.toSorted());
    for (const change of body.items) expect(change).toMatchObject({ kind: "added", provider: "triton", source: h.tritonSourceId, cause: `sync:${first.runId}`, fields: [] });
    const added = events().filter((event) => event["detail-type"] === "Image Added");
    expect(added).toHaveLength(upstreamIds.length);
    expect(added[0]).toMatchObject({ source: "imagesync", detail: { provider: "triton", source: h.tritonSourceId, cause: `sync:${first.runId}` } });
    expect(added[0]?.detail.name).toEqual(expect.any(String));
    expect(added[0]?.detail.version).toEqual(expect.any(String));
  });

  it("a sync that changes nothing writes no image item, so the stream carries no change and no event", async () => {
    const [deliveredBefore, eventsBefore] = [delivered.length, events().length];
    await syncTriton();
    const since = delivered.slice(deliveredBefore);
    expect(imageRecords(since)).toEqual([]);
    // Only the run's bookkeeping: taking the lease, the run record, the LATEST item.
    expect(since.length).toBeLessThanOrEqual(3);
    expect(events()).toHaveLength(eventsBefore);
  });

  it("changed, removed and revived images get their records, with the changed fields old and new, newest first in the history", async () => {
    const [changedId, removedId] = upstreamIds.filter((id) => h.triton.getImageRecord(id)?.owner === h.triton.accountUuid) as [string, string];
    expect(removedId).toBeDefined();
    const oldDescription = h.triton.getImageRecord(changedId)?.description;
    h.triton.modifyImage(changedId, { description: "rebuilt with the new kernel" });
    const removed = h.triton.getImageRecord(removedId)!;
    h.triton.removeImage(removedId);
    const second = await syncTriton();

    const history = await get(`/images/triton/${changedId}/history`);
    expect(history.body.items.map((change: any) => change.kind)).toEqual(["changed", "added"]);
    expect(history.body.items[0]).toMatchObject({ cause: `sync:${second.runId}`, hashBefore: expect.any(String), hashAfter: expect.any(String) });
    expect(history.body.items[0].fields).toEqual(
      expect.arrayContaining([
        { path: "view.description", ...(oldDescription === undefined ? {} : { old: oldDescription }), new: "rebuilt with the new kernel" },
        { path: "raw.description", ...(oldDescription === undefined ? {} : { old: oldDescription }), new: "rebuilt with the new kernel" },
      ]),
    );
    expect((await get("/changes?kind=removed")).body.items.map((change: any) => change.imageId)).toEqual([removedId]);

    h.triton.addImage(removed);
    await syncTriton();
    expect((await get(`/images/triton/${removedId}/history`)).body.items.map((change: any) => change.kind)).toEqual(["revived", "removed", "added"]);
    const types = events().map((event) => event["detail-type"]);
    for (const type of ["Image Changed", "Image Removed", "Image Revived"]) expect(types).toContain(type);
    expect(events().find((event) => event["detail-type"] === "Image Changed")?.detail.changedFields).toContain("view.description");
  });

  it("pages the feed with a cursor, newest first, and filters by source and time", async () => {
    const pages: any[][] = [];
    let path = `/changes?source=${h.tritonSourceId}&limit=5`;
    for (;;) {
      const { status, body } = await get(path);
      expect(status).toBe(200);
      pages.push(body.items);
      if (!body.nextCursor) break;
      path = `/changes?source=${h.tritonSourceId}&limit=5&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    const all = pages.flat();
    expect(all.length).toBe(upstreamIds.length + 3);
    expect(new Set(all.map((change) => change.id)).size).toBe(all.length);
    const times = all.map((change) => change.at);
    expect(times).toEqual(times.toSorted().toReversed());
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await get(`/changes?since=${future}&until=${new Date(Date.now() + 7200_000).toISOString()}`)).body.items).toEqual([]);
    expect((await get("/changes?source=coxedge-none")).body.items).toEqual([]);
  });

  it("a stream event delivered again makes no second record", async () => {
    const record = imageRecords(delivered)[0]!;
    const before = (await get("/changes?limit=100")).body.items.length;
    const response = await invoke(changesHandler, { Records: [record] } as DynamoDBStreamEvent, settings);
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await get("/changes?limit=100")).body.items.length).toBe(before);
  });

  it("skips malformed records with a reason and still processes the rest of the batch", async () => {
    const good = structuredClone(imageRecords(delivered).find((record) => record.eventName === "MODIFY"))!;
    good.eventID = "replayed-as-new-event";
    const noImages: DynamoDBRecord = { eventID: "no-images", eventName: "MODIFY", dynamodb: { SequenceNumber: "1" } };
    const unknownKind: DynamoDBRecord = { eventID: "unknown", eventName: "INSERT", dynamodb: { NewImage: { pk: { S: "X" }, sk: { S: "Y" }, kind: { S: "gadget" } } } };
    const badImage = structuredClone(good);
    badImage.eventID = "bad-image";
    delete badImage.dynamodb!.NewImage!.contentHash;
    const response = await invoke(changesHandler, { Records: [noImages, unknownKind, badImage, good] } as DynamoDBStreamEvent, settings);
    expect(response).toEqual({ batchItemFailures: [] });
    const ids = (await get("/changes?limit=100")).body.items.map((change: any) => change.id);
    expect(ids).toContain("replayed-as-new-event");
    expect(ids).not.toContain("bad-image");
  });

  it("a restarted poller resumes from its checkpoints: old records are not delivered again", async () => {
    await poller.stop();
    const lastSequence = BigInt(delivered.at(-1)?.dynamodb?.SequenceNumber ?? "0");
    const id = upstreamIds.find((upstreamId) => h.triton.getImageRecord(upstreamId)?.owner === h.triton.accountUuid)!;
    h.triton.modifyImage(id, { description: "changed while the poller was down" });
    await h.sync("triton");
    const deliveredBefore = delivered.length;
    poller = await startPoller();
    await poller.drained();
    const redelivered = delivered.slice(deliveredBefore);
    expect(imageRecords(redelivered)).toHaveLength(1);
    expect(redelivered.length).toBeGreaterThan(0);
    for (const record of redelivered) expect(BigInt(record.dynamodb?.SequenceNumber ?? "0")).toBeGreaterThan(lastSequence);
    expect((await get(`/images/triton/${id}/history`)).body.items[0]).toMatchObject({ kind: "changed", fields: expect.arrayContaining([expect.objectContaining({ new: "changed while the poller was down" })]) });
  });

  it("a job that finishes publishes Job Succeeded or Job Failed once; its progress publishes nothing", async () => {
    const now = new Date().toISOString();
    const job = (jobId: string): JobRecord => ({
      jobId, state: "queued", seq: 0, version: 0, attempts: 0, polls: 0, createdAt: now, updatedAt: now,
      request: { provider: "triton", source: h.tritonSourceId, action: "delete", params: { imageId: upstreamIds[0] } },
    } as JobRecord);
    const { job: ok } = await createJob(h.table, job("job-ok"));
    const polling = await saveJob(h.table, { ...ok, state: "polling" });
    const done = await saveJob(h.table, { ...polling, state: "succeeded", finishedAt: now, result: { imageId: upstreamIds[0] as string } });
    await saveJob(h.table, { ...done, polls: 9 });
    const { job: bad } = await createJob(h.table, job("job-bad"));
    await saveJob(h.table, { ...bad, state: "failed", finishedAt: now, error: { code: "UpstreamError", message: "image in use" } });
    await poller.drained();
    const jobEvents = events().filter((event) => event["detail-type"].startsWith("Job "));
    // One batch's records are handled concurrently, so its events may land in any order.
    expect(jobEvents).toHaveLength(2);
    expect(jobEvents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ "detail-type": "Job Succeeded", detail: expect.objectContaining({ jobId: "job-ok", action: "delete", imageId: upstreamIds[0] }) }),
        expect.objectContaining({ "detail-type": "Job Failed", detail: expect.objectContaining({ jobId: "job-bad", error: { code: "UpstreamError", message: "image in use" } }) }),
      ]),
    );
  });

  it("rejects a bad since, until, kind or cursor with a 400 naming it", async () => {
    for (const [query, field] of [
      ["since=yesterday", "since"],
      ["until=2026-13-01T00:00:00Z", "until"],
      [`since=${new Date().toISOString()}&until=2020-01-01T00:00:00Z`, "since"],
      ["since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since"],
      ["kind=exploded", "kind"],
      ["cursor=not-a-cursor", "cursor"],
      ["limit=0", "limit"],
    ] as const) {
      const { status, body } = await get(`/changes?${query}`);
      expect(status, query).toBe(400);
      expect(JSON.stringify(body), query).toContain(field);
    }
  });
});
