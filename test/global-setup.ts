/**
 * Starts the real local servers once per run of the integration tier (the unit tier, `*.unit.test.ts`,
 * needs none; see vitest.config.ts): DynamoDB Local (in memory) and the SQS server, each on a random free
 * port on 127.0.0.1. Test files reach them through the AWS SDK's standard endpoint variables (set in
 * test/support/env.ts) and create their own uniquely named tables and queues.
 */
import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../packages/local/dynamodb-local";
import { startSqsLocal } from "../packages/local/sqs-local";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
  project.provide("dynamoEndpoint", dynamo.endpoint);
  project.provide("sqsEndpoint", sqs.endpoint);
  return async () => {
    await Promise.all([dynamo.stop(), sqs.stop()]);
  };
}
