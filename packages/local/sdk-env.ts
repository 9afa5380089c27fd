/**
 * The environment that points the AWS SDK at the local servers: the standard endpoint variables (the SDK
 * reads them itself, see core/aws.ts) and throwaway credentials, which DynamoDB Local and the SQS server
 * accept but the SDK insists on.
 */
export function localSdkEnvironment(endpoints: { dynamo: string; sqs?: string; region?: string }): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamo,
    ...(endpoints.sqs ? { AWS_ENDPOINT_URL_SQS: endpoints.sqs } : {}),
    AWS_REGION: endpoints.region ?? process.env.AWS_REGION ?? "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  };
}
