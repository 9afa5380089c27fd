import middy from "@middy/core";
import httpCors from "@middy/http-cors";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createApiHandler, type ApiHandlerOptions } from "../packages/api/router";
import { ConfigLoader } from "../packages/core/config";
import { logger } from "../packages/core/observability";

/** The deployed handler's wiring; tests build it with their own configuration. */
export function createHandler(config = new ConfigLoader(), options: Omit<ApiHandlerOptions, "config"> = {}) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger))
    // Without IMAGESYNC_CORS_ORIGINS no CORS headers are sent: browsers stay same-origin only.
    .use(httpCors({ origins: config.tuning().corsOrigins, exposeHeaders: "etag, location" }))
    .handler(createApiHandler({ config, ...options }));
}

export const handler = createHandler();
