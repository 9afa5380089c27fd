import { apiFunction, apiRoutes } from "../packages/core/resources";
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
  // Reads inventory and jobs, enqueues jobs; needs no upstream credentials.
  link: [table, jobQueue, secrets.ApiToken],
};

for (const route of apiRoutes) api.route(route, handler);
