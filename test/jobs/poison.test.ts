/**
 * Messages that can never succeed are delivered maxReceiveCount times, then SQS's redrive moves them to
 * the dead-letter queue; the reason is logged and, when the message names a job id, recorded on that
 * job. Valid messages in the same batches are unaffected.
 */
import { randomUUID } from "node:crypto";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sqsClient } from "../../packages/core/aws";
import { startHarness, tritonSourceId, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ visibilityTimeoutSeconds: 2, maxReceiveCount: 2, timeoutSeconds: 2 });
});
afterAll(() => h.close());

it("rejects invalid messages into the dead-letter queue with the reason recorded, without failing their batch-mates", async () => {
  const suffix = randomUUID().slice(0, 8);
  const machine = h.triton.addMachine().id;
  const reused = `reused-${suffix}`;
  await h.send({ jobId: reused, provider: "triton", source: tritonSourceId, action: "create", params: { machine, name: `r-${suffix}`, version: "1" } });
  const reusedJob = await h.waitForJob(reused);

  const poison = {
    badJson: '{"provider": "triton", "action": ',
    unknownAction: JSON.stringify({ jobId: `unknown-action-${suffix}`, provider: "triton", source: tritonSourceId, action: "resize", params: {} }),
    missingField: JSON.stringify({ jobId: `missing-field-${suffix}`, provider: "triton", source: tritonSourceId, action: "create", params: { name: "x", version: "1" } }),
    unknownJob: JSON.stringify({ jobId: `never-submitted-${suffix}`, seq: 3 }),
    reusedId: JSON.stringify({ jobId: reused, provider: "triton", source: tritonSourceId, action: "delete", params: { imageId: randomUUID() } }),
  };
  const good = `good-${suffix}`;
  await Promise.all([
    ...Object.values(poison).map((body) => h.send(body)),
    h.send({ jobId: good, provider: "triton", source: tritonSourceId, action: "create", params: { machine, name: `g-${suffix}`, version: "1" } }),
  ]);

  expect(await h.waitForJob(good)).toMatchObject({ state: "succeeded" });
  const deadLetters = await h.deadLetters(5);
  expect(deadLetters.map((m) => m.Body).toSorted()).toEqual(Object.values(poison).toSorted());

  expect(await h.job(`unknown-action-${suffix}`)).toMatchObject({
    state: "failed",
    error: { code: "InvalidMessage", message: "action: unknown action, expected one of create, clone, delete, update, export, copy" },
  });
  expect(await h.job(`missing-field-${suffix}`)).toMatchObject({
    state: "failed",
    error: { code: "InvalidMessage", message: "params.machine: is required" },
  });
  // A continuation for a job that does not exist creates none; a reused id leaves the first job alone.
  expect(await h.job(`never-submitted-${suffix}`)).toBeUndefined();
  expect(await h.job(reused)).toEqual(reusedJob);

  const { Attributes } = await sqsClient().send(
    new GetQueueAttributesCommand({ QueueUrl: h.queues.jobQueueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }),
  );
  expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
});
