/** Scheduled Triton catalog sync (EventBridge Scheduler payload `{ provider: "triton" }`, optionally `sourceId`). */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { parser } from "@aws-lambda-powertools/parser/middleware";
import type { Context } from "aws-lambda";
import { logger, metrics } from "../packages/core/observability";
import { syncEventSchema, syncProvider, type SyncEvent } from "../packages/sync/engine";

metrics.setDefaultDimensions({ provider: "triton" });

export const handler = middy()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .use(parser({ schema: syncEventSchema("triton") }))
  .handler((event: SyncEvent, context: Context) =>
    syncProvider(event.provider, { sourceId: event.sourceId, deadline: Date.now() + context.getRemainingTimeInMillis(), trigger: "schedule" }),
  );
