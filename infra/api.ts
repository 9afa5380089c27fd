import { apiFunction, apiRoutes, tuningEnvironment } from "../packages/core/resources";
import { jobQueue } from "./queues";
import { secrets } from "./secrets";
import { table } from "./storage";

export const api = new sst.aws.ApiGatewayV2("Api", {
  cors: process.env.IMAGESYNC_CORS_ORIGINS
    ? { allowOrigins: process.env.IMAGESYNC_CORS_ORIGINS.split(","), allowHeaders: ["authorization", "content-type", "if-none-match"] }
    : false,
});

const handler = {
  handler: apiFunction.handler,
  runtime: "nodejs22.x" as const,
  timeout: `${apiFunction.timeoutSeconds} seconds` as const,
  memory: "1024 MB" as const,
  environment: tuningEnvironment(),
  // Reads inventory and jobs and enqueues jobs. The source secrets are linked only so GET /sources can list
  // the configured sources (ids and endpoints); the API never calls upstream and never returns credentials.
  link: [table, jobQueue, secrets.ApiToken, secrets.TritonSources, secrets.CoxEdgeSources],
};

for (const route of apiRoutes) api.route(route, handler);
