/**
 * AWS SDK clients, created once per process and reused across invocations. Endpoints are not configured
 * here: the SDK honours the standard AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS variables, which the
 * local runtime and the tests set to the local servers.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";

let dynamo: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

export function dynamoClient(): DynamoDBClient {
  if (!dynamo) {
    dynamo = new DynamoDBClient({});
    // Nothing reads the SDK's own logs, yet its logger middleware copies every request and response, with
    // sensitive fields masked, for each call: a quarter of the API's CPU on a 100-image page (bench/api.ts).
    dynamo.middlewareStack.remove("loggerMiddleware");
  }
  return dynamo;
}

export function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documents;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}
