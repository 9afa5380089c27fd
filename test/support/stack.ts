/** Per-test-file resources on the shared local servers: a fresh table and fresh queues, uniquely named. */
import { randomUUID } from "node:crypto";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll } from "vitest";
import { documentClient, dynamoClient, sqsClient } from "../../packages/core/aws";
import { provisionQueues, provisionTable, type JobQueueUrls, type QueueOverrides } from "../../packages/local/provision";
import type { Table } from "../../packages/store/table";

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTestTable(): Promise<{ tableName: string; drop(): Promise<void> }> {
  const tableName = uniqueName("inventory");
  await provisionTable(dynamoClient(), tableName);
  return { tableName, drop: async () => void (await dynamoClient().send(new DeleteTableCommand({ TableName: tableName }))) };
}

export async function createTestQueues(overrides: QueueOverrides = {}): Promise<JobQueueUrls & { drop(): Promise<void> }> {
  const urls = await provisionQueues(sqsClient(), { jobs: uniqueName("jobs"), deadLetters: uniqueName("dlq"), ...overrides });
  return {
    ...urls,
    drop: async () => {
      await sqsClient().send(new DeleteQueueCommand({ QueueUrl: urls.jobQueueUrl }));
      await sqsClient().send(new DeleteQueueCommand({ QueueUrl: urls.deadLetterQueueUrl }));
    },
  };
}

/** A fresh table for the calling test file: created before its tests, dropped after them. */
export function tableForThisFile(): { readonly table: Table } {
  const holder: { table: Table; drop?: () => Promise<void> } = { table: { client: documentClient(), name: "" } };
  beforeAll(async () => {
    const created = await createTestTable();
    holder.table = { client: documentClient(), name: created.tableName };
    holder.drop = created.drop;
  });
  afterAll(() => holder.drop?.());
  return holder;
}
