/**
 * Moves dead-lettered job messages back to the job queue (after a fix), body and attributes unchanged.
 * Each message is sent to the job queue before it is deleted from the dead-letter queue, so a failure in
 * between leaves a duplicate, never a loss; the worker runs each job step once however often it arrives.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";

export interface RedriveOptions {
  sqs: SQSClient;
  deadLetterQueueUrl: string;
  jobQueueUrl: string;
  /** At most this many messages (default: all). */
  limit?: number;
  /** Only count (and report) what would be moved; the messages stay where they are. */
  dryRun?: boolean;
  /** Told about each message found. */
  onMessage?: (message: Message) => void;
}

export interface RedriveReport {
  found: number;
  moved: number;
  /** Messages the job queue refused, with SQS's reason; they stay in the dead-letter queue. */
  failed: { messageId: string; reason: string }[];
}

/** How long received messages stay hidden while a run pages through the queue. */
const visibilityTimeoutSeconds = 60;

export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveReport> {
  const { sqs, deadLetterQueueUrl: from, jobQueueUrl: to } = options;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const report: RedriveReport = { found: 0, moved: 0, failed: [] };
  const seen = new Set<string>();
  const held: Message[] = [];

  while (report.found < limit) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: from,
        MaxNumberOfMessages: Math.min(10, limit - report.found),
        WaitTimeSeconds: 1,
        VisibilityTimeout: visibilityTimeoutSeconds,
        MessageAttributeNames: ["All"],
      }),
    );
    // A message seen again means the run has outlasted its visibility timeout: everything was seen.
    const batch = Messages.filter((message) => !seen.has(message.MessageId as string)).slice(0, limit - report.found);
    if (batch.length === 0) break;
    for (const message of batch) {
      seen.add(message.MessageId as string);
      options.onMessage?.(message);
    }
    report.found += batch.length;
    if (options.dryRun) {
      held.push(...batch);
      continue;
    }
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? "",
          MessageAttributes: message.MessageAttributes,
        })),
      }),
    );
    for (const failure of sent.Failed ?? []) {
      const message = batch[Number(failure.Id)];
      report.failed.push({ messageId: message?.MessageId ?? "?", reason: `${failure.Code}: ${failure.Message ?? ""}`.trim() });
    }
    const delivered = (sent.Successful ?? []).map((entry) => batch[Number(entry.Id)] as Message);
    if (delivered.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: from,
          Entries: delivered.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
    report.moved += delivered.length;
  }

  // A dry run hands the messages back at once instead of hiding them for the visibility timeout.
  for (let start = 0; start < held.length; start += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: from,
        Entries: held.slice(start, start + 10).map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
  return report;
}
