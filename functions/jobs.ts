/**
 * Job worker: SQS batches from the job queue. Each record is one job step (packages/jobs); a record
 * that fails is reported in `batchItemFailures`, so only it is delivered again and, after the queue's
 * maxReceiveCount, moved to the dead-letter queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger, metrics } from "../packages/core/observability";
import { jobsContext } from "../packages/jobs/context";
import { JobWorker } from "../packages/jobs/engine";

let worker: JobWorker | undefined;

async function handleJobs(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  worker ??= new JobWorker(jobsContext());
  worker.idempotency.registerLambdaContext(context);
  const active = worker;
  const recordHandler = (record: SQSRecord) => active.handleMessage(record.body, { messageId: record.messageId });
  // One processor per invocation: it holds the batch's state.
  return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
}

export const handler = middy(handleJobs).use(injectLambdaContext(logger)).use(logMetrics(metrics));
