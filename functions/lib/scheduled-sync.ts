/**
 * The scheduled sync handler, one per provider: EventBridge Scheduler payload `{ provider, sourceId? }`. It
 * only enqueues one sync per source on the provider's sync queue (packages/sync/fanout.ts); the provider's
 * sync worker runs them.
 */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { sqsClient } from "../../packages/core/aws";
import { ConfigLoader } from "../../packages/core/config";
import { logger, metrics } from "../../packages/core/observability";
import type { Provider } from "../../packages/core/resources";
import { parseSyncEvent } from "../../packages/sync/engine";
import { enqueueSourceSyncs } from "../../packages/sync/fanout";

export function scheduledSyncHandler(provider: Provider) {
  return middy()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler((event: unknown) => {
      const { sourceId } = parseSyncEvent(provider, event);
      return enqueueSourceSyncs(provider, { sourceId, trigger: "schedule" }, new ConfigLoader(), sqsClient());
    });
}
