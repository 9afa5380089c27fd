/** What the job functions work with: configuration, the table and the job queue. Built once per process. */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { sqsClient } from "../core/aws";
import { ConfigLoader } from "../core/config";
import { configuredTable, type Table } from "../store/table";
import type { ContinuationMessage, JobMessage } from "./schema";

export interface JobsContext {
  config: ConfigLoader;
  table: Table;
  sqs: SQSClient;
  queueUrl: string;
}

let shared: JobsContext | undefined;

/** The configured context (IMAGESYNC_* variables or SST links), created on first use. */
export function jobsContext(): JobsContext {
  if (!shared) {
    const config = new ConfigLoader();
    shared = { config, table: configuredTable(config), sqs: sqsClient(), queueUrl: config.jobQueueUrl() };
  }
  return shared;
}

export async function enqueue(context: JobsContext, message: JobMessage | ContinuationMessage, delaySeconds = 0): Promise<void> {
  await context.sqs.send(
    new SendMessageCommand({ QueueUrl: context.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }),
  );
}
