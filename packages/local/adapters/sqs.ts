/**
 * Feeds an SQS queue to a Lambda handler the way Lambda's event source mapping does: long-polls, invokes
 * with batches of up to `batchSize` records, deletes what succeeded, and leaves failures to reappear after
 * the visibility timeout, so the queue's redrive policy moves poison messages to the dead-letter queue.
 * With `reportBatchItemFailures`, only the records the handler lists in `batchItemFailures` are kept; an
 * invalid report or a thrown error keeps the whole batch, as on AWS.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import { invoke, type FunctionSettings, type LambdaHandler } from "./lambda";

export type SqsHandler = LambdaHandler<SQSEvent, SQSBatchResponse | void>;

export interface SqsPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  settings: FunctionSettings;
  batchSize?: number;
  reportBatchItemFailures?: boolean;
  /** Concurrent pollers, like Lambda's scaling of an event source mapping. */
  concurrency?: number;
  waitTimeSeconds?: number;
  onBatch?: (summary: { received: number; failed: number; error?: unknown }) => void;
}

export interface SqsPoller {
  stop(): Promise<void>;
}

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId ? { MessageDeduplicationId: attributes.MessageDeduplicationId } : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
    },
    messageAttributes: toLambdaAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function toLambdaAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? "String",
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") } : {}),
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  );
}

/**
 * local-aws-sqs can return one message twice in a response when its visibility timeout lapses during the
 * long poll; SQS never does, so keep one record per message with the newest receipt handle.
 */
function latestReceiptPerMessage(messages: Message[]): Map<string, Message> {
  return new Map(messages.map((m) => [m.MessageId as string, m]));
}

/** The records to keep on the queue, or all of them when the response is not a valid partial report. */
export function failedMessageIds(records: SQSRecord[], response: unknown, reportBatchItemFailures: boolean): Set<string> {
  const all = new Set(records.map((r) => r.messageId));
  if (!reportBatchItemFailures) return new Set();
  if (response === undefined || response === null) return new Set();
  const failures = (response as SQSBatchResponse).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return all;
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (typeof id !== "string" || !all.has(id)) return all;
    ids.add(id);
  }
  return ids;
}

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const batchSize = Math.min(options.batchSize ?? 10, 10);
  const region = options.settings.region ?? process.env.AWS_REGION ?? "us-east-1";
  const controller = new AbortController();

  async function pollOnce(): Promise<void> {
    const { Messages = [] } = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        // local-aws-sqs only honours the older AttributeNames parameter; AWS accepts both.
        AttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      { abortSignal: controller.signal },
    );
    if (Messages.length === 0) return;
    const records = [...latestReceiptPerMessage(Messages).values()].map((m) => toSqsRecord(m, options.queueArn, region));
    let failed: Set<string>;
    let handlerError: unknown;
    try {
      const response = await invoke(options.handler, { Records: records }, options.settings);
      failed = failedMessageIds(records, response, options.reportBatchItemFailures ?? false);
    } catch (error) {
      handlerError = error;
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length) {
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    options.onBatch?.({ received: records.length, failed: failed.size, error: handlerError });
  }

  async function loop(): Promise<void> {
    while (!controller.signal.aborted) {
      try {
        await pollOnce();
      } catch (error) {
        if (controller.signal.aborted) return;
        options.onBatch?.({ received: 0, failed: 0, error });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  const loops = Array.from({ length: options.concurrency ?? 2 }, () => loop());
  return {
    async stop() {
      controller.abort();
      await Promise.allSettled(loops);
    },
  };
}
