/**
 * The sync worker, one per provider: SQS batches (of one) from the provider's sync queue, each message one
 * source to sync (packages/sync/fanout.ts). A run's own failures are recorded runs, not errors (a run record
 * that cannot be written is logged); a message that cannot be read, or a source configuration that cannot
 * be loaded, is a batch item failure, so SQS delivers it again and, after maxReceiveCount, moves it to the
 * dead-letter queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { ConfigLoader } from "../../packages/core/config";
import { logger, metrics } from "../../packages/core/observability";
import type { Provider } from "../../packages/core/resources";
import { parseSourceSyncMessage, syncQueuedSource } from "../../packages/sync/fanout";

export function syncWorkerHandler(provider: Provider) {
  async function handleSyncs(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    const config = new ConfigLoader();
    const recordHandler = async (record: SQSRecord) => {
      const message = parseSourceSyncMessage(provider, record.body);
      await syncQueuedSource(message, Date.now() + context.getRemainingTimeInMillis(), config);
    };
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
  }
  return middy(handleSyncs).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
