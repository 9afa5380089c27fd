/** Points the AWS SDK at the servers started by test/global-setup.ts, before any test module builds a client. */
import { inject } from "vitest";

process.env.AWS_ENDPOINT_URL_DYNAMODB = inject("dynamoEndpoint");
process.env.AWS_ENDPOINT_URL_SQS = inject("sqsEndpoint");
process.env.AWS_REGION = "us-east-1";
process.env.AWS_ACCESS_KEY_ID = "local";
process.env.AWS_SECRET_ACCESS_KEY = "local";
// Logging is set up by leak-guard.ts, which reads every log line (set POWERTOOLS_LOG_LEVEL to see them).
