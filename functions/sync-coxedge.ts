/** Scheduled Cox Edge catalog sync (EventBridge Scheduler payload `{ provider: "coxedge" }`, optionally `sourceId`). */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Context } from "aws-lambda";
import { logger, metrics } from "../packages/core/observability";
import { parseSyncEvent, syncProvider } from "../packages/sync/engine";

export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((event: unknown, context: Context) => {
    const { sourceId } = parseSyncEvent("coxedge", event);
    return syncProvider("coxedge", { sourceId, deadline: Date.now() + context.getRemainingTimeInMillis(), trigger: "schedule" });
  });
