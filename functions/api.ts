import middy from "@middy/core";
import httpRouterHandler from "@middy/http-router";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import { logger } from "../packages/core/observability";

// Foundation only: the inventory routes arrive with the HTTP API issue.
const healthz = async (): Promise<APIGatewayProxyResultV2> => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ status: "ok" }),
});

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(injectLambdaContext(logger))
  .handler(httpRouterHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>([{ method: "GET", path: "/healthz", handler: healthz }]));
