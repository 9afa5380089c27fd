/**
 * Creates the table and queues on the local servers from the same description `infra/` deploys
 * (packages/core/resources), so local and cloud cannot drift. Idempotent: a persisted table is kept.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { inventoryTable, jobQueue, providers, syncQueues, syncQueueSettings, type Provider } from "../core/resources";

const streamSpecification = { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" as const };

export async function provisionTable(dynamo: DynamoDBClient, tableName: string): Promise<void> {
  const keySchema = (hashKey: string, rangeKey: string) => [
    { AttributeName: hashKey, KeyType: "HASH" as const },
    { AttributeName: rangeKey, KeyType: "RANGE" as const },
  ];
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: Object.entries(inventoryTable.fields).map(([name]) => ({
          AttributeName: name,
          AttributeType: "S" as const,
        })),
        KeySchema: keySchema(inventoryTable.primaryIndex.hashKey, inventoryTable.primaryIndex.rangeKey),
        GlobalSecondaryIndexes: Object.entries(inventoryTable.globalIndexes).map(([name, index]) => ({
          IndexName: name,
          KeySchema: keySchema(index.hashKey, index.rangeKey),
          Projection: { ProjectionType: "ALL" as const },
        })),
        StreamSpecification: streamSpecification,
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    // A table persisted by an older version may lack the stream.
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    if (!Table?.StreamSpecification?.StreamEnabled) await dynamo.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: streamSpecification }));
  }
  const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== "ENABLED") {
    await dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: inventoryTable.ttlAttribute, Enabled: true },
      }),
    );
  }
}

export interface JobQueueUrls {
  jobQueueUrl: string;
  jobQueueArn: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
}

export interface QueueOverrides {
  jobs?: string;
  deadLetters?: string;
  /** Tests shorten these to see redelivery and dead-lettering within seconds. */
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}

/** Creates the job queue and its dead-letter queue with the redrive policy from the resource spec. */
export async function provisionQueues(sqs: SQSClient, overrides: QueueOverrides = {}): Promise<JobQueueUrls> {
  const pair = await provisionQueuePair(sqs, {
    name: overrides.jobs ?? jobQueue.name,
    deadLetterName: overrides.deadLetters ?? jobQueue.deadLetterName,
    visibilityTimeoutSeconds: overrides.visibilityTimeoutSeconds ?? jobQueue.visibilityTimeoutSeconds,
    maxReceiveCount: overrides.maxReceiveCount ?? jobQueue.maxReceiveCount,
    deadLetterRetentionSeconds: jobQueue.deadLetterRetentionSeconds,
  });
  return { jobQueueUrl: pair.queueUrl, jobQueueArn: pair.queueArn, deadLetterQueueUrl: pair.deadLetterQueueUrl, deadLetterQueueArn: pair.deadLetterQueueArn };
}

export interface QueuePair {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  deadLetterQueueArn: string;
}

/** Each provider's sync queue and its dead-letter queue (core/resources `syncQueues`). */
export async function provisionSyncQueues(sqs: SQSClient): Promise<Record<Provider, QueuePair>> {
  const pairs = await Promise.all(
    providers.map((provider) => provisionQueuePair(sqs, { ...syncQueues[provider], ...syncQueueSettings })),
  );
  return Object.fromEntries(providers.map((provider, index) => [provider, pairs[index]])) as Record<Provider, QueuePair>;
}

/** A queue whose messages go to its dead-letter queue after `maxReceiveCount` deliveries, as SST's `dlq` sets it up. */
async function provisionQueuePair(
  sqs: SQSClient,
  spec: { name: string; deadLetterName: string; visibilityTimeoutSeconds: number; maxReceiveCount: number; deadLetterRetentionSeconds: number },
): Promise<QueuePair> {
  const deadLetter = await sqs.send(
    new CreateQueueCommand({ QueueName: spec.deadLetterName, Attributes: { MessageRetentionPeriod: String(spec.deadLetterRetentionSeconds) } }),
  );
  const deadLetterQueueArn = await queueArn(sqs, deadLetter.QueueUrl as string);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: spec.name,
      Attributes: {
        VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount: spec.maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl as string, queueArn: await queueArn(sqs, queue.QueueUrl as string), deadLetterQueueUrl: deadLetter.QueueUrl as string, deadLetterQueueArn };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no QueueArn`);
  return arn;
}
