/** The scheduled sync handler, one per provider: EventBridge Scheduler payload `{ provider, sourceId? }`. */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Context } from "aws-lambda";
import { logger, metrics } from "../../packages/core/observability";
import type { Provider } from "../../packages/core/resources";
import { parseSyncEvent, syncProvider } from "../../packages/sync/engine";

export function scheduledSyncHandler(provider: Provider) {
  return middy()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler((event: unknown, context: Context) => {
      const { sourceId } = parseSyncEvent(provider, event);
      return syncProvider(provider, { sourceId, deadline: Date.now() + context.getRemainingTimeInMillis(), trigger: "schedule" });
    });
}
