/**
 * Properties of the job worker (packages/jobs/engine.ts, JobWorker.handleMessage) over invalid queue
 * messages: random text and JSON, near-valid messages of every action of both providers, continuations.
 * It rejects every invalid message with RejectedMessageError (so SQS moves it to the dead-letter queue)
 * carrying the parser's reason, records that reason on the job the message names (unless that id is taken),
 * makes no upstream call, never hangs, and shows no credential.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jobsContext } from "../../packages/jobs/context";
import { JobWorker, RejectedMessageError } from "../../packages/jobs/engine";
import { parseQueueMessage } from "../../packages/jobs/schema";
import { lambdaContext } from "../../packages/local/adapters/lambda";
import { checkProperty, fuzzTimeout, quietLogs } from "../support/fuzz";
import { coxedgeSourceId, startHarness, tritonSourceId, tritonWestSourceId, type Harness } from "./harness";
import { queueMessageBody } from "./messages-fuzz";

let h: Harness;
let worker: JobWorker;
let restoreLogs: () => void;
const sources = { triton: [tritonSourceId, tritonWestSourceId, "triton-missing"], coxedge: [coxedgeSourceId, "coxedge-missing"] };

beforeAll(async () => {
  h = await startHarness({ startWorker: false });
  worker = new JobWorker(jobsContext());
  restoreLogs = quietLogs();
}, 60_000);
afterAll(async () => {
  restoreLogs?.();
  await h?.close();
});

const upstreamCalls = () => h.triton.counters.total + h.tritonWest.counters.total + h.coxedge.counters.total;

/** Bodies the parser refuses, and well-formed continuations (their jobs do not exist, or were refused). */
const invalidBody = queueMessageBody(sources).filter((body) => {
  const parsed = parseQueueMessage(body);
  return !parsed.ok || parsed.value.kind === "continuation";
});

it("rejects invalid messages into the dead-letter queue with the reason, calling no upstream", { timeout: fuzzTimeout(90_000) }, async () => {
  const secrets = [h.triton.privateKeyPem, h.coxedge.apiKey];
  const property = fc.asyncProperty(invalidBody, async (body) => {
    const parsed = parseQueueMessage(body);
    const stored = parsed.ok ? undefined : parsed.jobId && (await h.job(parsed.jobId));
    const calls = upstreamCalls();
    worker.idempotency.registerLambdaContext(lambdaContext({ functionName: "JobWorker", timeoutSeconds: 30 }, Date.now() + 30_000));
    const error = await worker.handleMessage(body, { messageId: randomUUID() }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(upstreamCalls()).toBe(calls);
    if (error !== undefined) expect(error).toBeInstanceOf(RejectedMessageError);
    for (const secret of secrets) expect(String((error as Error | undefined)?.message)).not.toContain(secret);
    if (parsed.ok) return;
    expect((error as Error).message).toBe(parsed.error);
    if (!parsed.jobId) return;
    // The reason is recorded on the job the message names, unless that id already belonged to a job.
    const job = await h.job(parsed.jobId);
    expect(job).toEqual(stored || expect.objectContaining({ state: "failed", error: { code: "InvalidMessage", message: parsed.error } }));
  });
  await checkProperty("job worker: invalid messages", property, 150, { timeout: 20_000 });
});
