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
import { inventoryTable, jobQueue } from "../core/resources";

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
  const names = { jobs: overrides.jobs ?? jobQueue.name, deadLetters: overrides.deadLetters ?? jobQueue.deadLetterName };
  const deadLetter = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.deadLetters,
      Attributes: { MessageRetentionPeriod: String(jobQueue.deadLetterRetentionSeconds) },
    }),
  );
  const deadLetterQueueArn = await queueArn(sqs, deadLetter.QueueUrl as string);
  const jobs = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.jobs,
      Attributes: {
        VisibilityTimeout: String(overrides.visibilityTimeoutSeconds ?? jobQueue.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterQueueArn,
          maxReceiveCount: overrides.maxReceiveCount ?? jobQueue.maxReceiveCount,
        }),
      },
    }),
  );
  return {
    jobQueueUrl: jobs.QueueUrl as string,
    jobQueueArn: await queueArn(sqs, jobs.QueueUrl as string),
    deadLetterQueueUrl: deadLetter.QueueUrl as string,
    deadLetterQueueArn,
  };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no QueueArn`);
  return arn;
}
