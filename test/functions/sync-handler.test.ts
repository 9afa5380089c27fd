/**
 * The sync functions as Lambda invokes them: the scheduled handler checks its event and queues one sync per
 * source; the worker, fed by the same SQS semantics as Lambda's event source mapping, runs one source per
 * message and sends what it cannot read to the dead-letter queue.
 */
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler as coxedgeHandler } from "../../functions/sync-coxedge";
import { handler as coxedgeWorker } from "../../functions/sync-coxedge-worker";
import { sqsClient } from "../../packages/core/aws";
import { invoke } from "../../packages/local/adapters/lambda";
import { startSqsPoller, toSqsRecord } from "../../packages/local/adapters/sqs";
import { readSourceDirectory } from "../../packages/store/directory";
import { getLatestRun, listRuns } from "../../packages/store/runs";
import { until } from "../jobs/harness";
import { createTestQueues, uniqueName } from "../support/stack";
import { startHarness, type Harness } from "../sync/harness";

let h: Harness;
let queues: Awaited<ReturnType<typeof createTestQueues>>;
beforeAll(async () => {
  h = await startHarness({ images: 15 });
  queues = await createTestQueues({ jobs: uniqueName("sync"), deadLetters: uniqueName("sync-dlq"), visibilityTimeoutSeconds: 2, maxReceiveCount: 2 });
  Object.assign(process.env, h.env, { IMAGESYNC_COXEDGE_SYNC_QUEUE_URL: queues.jobQueueUrl });
});
afterAll(async () => {
  await queues?.drop();
  await h.close();
});

const settings = { functionName: "CoxEdgeSync", timeoutSeconds: 30 };
const workerSettings = { functionName: "CoxEdgeSyncWorker", timeoutSeconds: 30 };

/** Takes what is on the queue out of sight for a minute (a test's own queue: nothing else reads it meanwhile). */
async function receive(queueUrl: string): Promise<string[]> {
  const { Messages = [] } = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
  return Messages.map((message) => message.Body as string);
}

describe("scheduled handler", () => {
  it("queues one sync per configured source and writes the source directory, syncing nothing itself", async () => {
    const queued = await invoke(coxedgeHandler, { provider: "coxedge" }, settings);
    expect(queued).toEqual([{ provider: "coxedge", sourceId: h.coxedgeSourceId, trigger: "schedule", requestedAt: expect.any(String) }]);
    expect((await receive(queues.jobQueueUrl)).map((body) => JSON.parse(body))).toEqual(queued);
    expect((await readSourceDirectory(h.table, ["coxedge"])).map((source) => source.id)).toContain(h.coxedgeSourceId);
    expect(await getLatestRun(h.table, h.coxedgeSourceId)).toBeUndefined();
  });

  it("rejects an event for another provider, naming the field", async () => {
    await expect(invoke(coxedgeHandler, { provider: "triton" }, settings)).rejects.toThrow(/invalid coxedge sync event: provider: Invalid input: expected "coxedge"/);
  });

  it("rejects an unknown source id", async () => {
    await expect(invoke(coxedgeHandler, { provider: "coxedge", sourceId: "nope" }, settings)).rejects.toThrow(/no coxedge source "nope" is configured \(configured: coxedge-test\)/);
  });
});

describe("sync worker", () => {
  it("runs the queued source through the queue, as Lambda's event source mapping delivers it", async () => {
    const poller = startSqsPoller({ sqs: sqsClient(), queueUrl: queues.jobQueueUrl, queueArn: queues.jobQueueArn, handler: coxedgeWorker, settings: workerSettings, batchSize: 1, reportBatchItemFailures: true });
    try {
      const [queued] = (await invoke(coxedgeHandler, { provider: "coxedge" }, settings)) as { requestedAt: string }[];
      const run = await until(async () => (await listRuns(h.table, h.coxedgeSourceId)).runs.find((candidate) => candidate.startedAt >= queued!.requestedAt), 20_000, "the queued run");
      expect(run).toMatchObject({ status: "ok", trigger: "schedule", counts: expect.objectContaining({ seen: 15 }) });
    } finally {
      await poller.stop();
    }
  });

  it("fails what it cannot read (so it reaches the dead-letter queue), and drops a source no longer configured", async () => {
    const record = (body: string) => toSqsRecord({ MessageId: body.slice(0, 20), Body: body, ReceiptHandle: "r" }, queues.jobQueueArn, "us-east-1");
    const bodies = [
      "not json",
      JSON.stringify({ provider: "triton", sourceId: "triton-test", trigger: "schedule", requestedAt: new Date().toISOString() }),
      JSON.stringify({ provider: "coxedge", trigger: "schedule", requestedAt: new Date().toISOString() }),
      JSON.stringify({ provider: "coxedge", sourceId: "coxedge-removed", trigger: "manual", requestedAt: new Date().toISOString() }),
    ];
    const response = await invoke(coxedgeWorker, { Records: bodies.map(record) }, workerSettings);
    expect(response?.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(bodies.slice(0, 3).map((body) => body.slice(0, 20)));
  });

  it("a message that always fails ends in the dead-letter queue", async () => {
    const poller = startSqsPoller({ sqs: sqsClient(), queueUrl: queues.jobQueueUrl, queueArn: queues.jobQueueArn, handler: coxedgeWorker, settings: workerSettings, batchSize: 1, reportBatchItemFailures: true });
    try {
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queues.jobQueueUrl, MessageBody: '{"provider":"coxedge"}' }));
      expect(await until(async () => ((await receive(queues.deadLetterQueueUrl)).length > 0 ? true : undefined), 20_000, "the dead letter")).toBe(true);
    } finally {
      await poller.stop();
    }
  });
});
