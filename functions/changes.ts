/**
 * The table stream's consumer (packages/changes/stream.ts): change records and events. Records that fail
 * are reported as batch item failures, so Lambda retries from the first of them; after the configured
 * retries they go to the on-failure queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { changesContext, processStreamRecord, type ChangesContext } from "../packages/changes/stream";
import { ConfigLoader } from "../packages/core/config";
import { logger, metrics } from "../packages/core/observability";

let context: ChangesContext | undefined;

async function handleChanges(event: DynamoDBStreamEvent, lambdaContext: Context): Promise<DynamoDBBatchResponse> {
  context ??= changesContext(new ConfigLoader());
  const active = context;
  const recordHandler = (record: DynamoDBRecord) => processStreamRecord(record, active);
  metrics.addMetric("StreamRecordsRead", MetricUnit.Count, event.Records.length);
  return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), { context: lambdaContext, throwOnFullBatchFailure: false });
}

export const handler = middy(handleChanges).use(injectLambdaContext(logger)).use(logMetrics(metrics));
