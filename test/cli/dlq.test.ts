/** `imagesync dlq redrive` (`npm run dlq:redrive`) against real queues: dry run, a limited move, then the rest. */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ReceiveMessageCommand, SendMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sqsClient } from "../../packages/core/aws";
import { redriveDeadLetters } from "../../packages/jobs/redrive";
import { createTestQueues } from "../support/stack";

let queues: Awaited<ReturnType<typeof createTestQueues>>;
beforeAll(async () => {
  queues = await createTestQueues();
});
afterAll(() => queues.drop());

/** Everything visible on the queue (until a receive comes back empty). */
async function receiveAll(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqsClient().send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30, MessageAttributeNames: ["All"] }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

async function redriveCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["bin/imagesync.mjs", "dlq", "redrive", ...args], {
    env: {
      ...process.env,
      IMAGESYNC_JOB_QUEUE_URL: queues.jobQueueUrl,
      IMAGESYNC_DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
      // Never a developer's running `npm start`.
      IMAGESYNC_DATA_DIR: mkdtempSync(join(tmpdir(), "redrive-")),
    },
  });
  return stdout;
}

it("lists dead letters on a dry run, then moves them back with their bodies and attributes", async () => {
  const bodies = ['{"jobId":"a-1","seq":1}', '{"jobId":"b-2","provider":"x"}', "not json"];
  for (const body of bodies) {
    await sqsClient().send(
      new SendMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, MessageBody: body, MessageAttributes: { origin: { DataType: "String", StringValue: "test" } } }),
    );
  }

  const dryRun = await redriveCli("--dry-run");
  expect(dryRun).toMatch(/job a-1\n/);
  expect(dryRun).toMatch(/job \(not JSON\)\n/);
  expect(dryRun).toMatch(/^3 message\(s\) in the dead-letter queue would be moved$/m);

  expect(await redriveCli("--limit", "2")).toMatch(/^moved 2 of 2 message\(s\) to the job queue$/m);
  const rest = await redriveDeadLetters({ sqs: sqsClient(), deadLetterQueueUrl: queues.deadLetterQueueUrl, jobQueueUrl: queues.jobQueueUrl });
  expect(rest).toEqual({ found: 1, moved: 1, failed: [] });

  const moved = await receiveAll(queues.jobQueueUrl);
  expect(moved.map((m) => m.Body).toSorted()).toEqual([...bodies].toSorted());
  expect(moved.every((m) => m.MessageAttributes?.origin?.StringValue === "test")).toBe(true);
  expect(await receiveAll(queues.deadLetterQueueUrl)).toHaveLength(0);
});
