import { apiFunction, apiRoutes, apiThrottle, tuningEnvironment } from "../packages/core/resources";
import { jobQueue } from "./queues";
import { secrets } from "./secrets";
import { table } from "./storage";

// Every route shares the stage's throttle, so one client cannot use up the function's concurrency
// (IMAGESYNC_API_THROTTLE_BURST / _RATE at deploy).
const throttle = apiThrottle();

export const api = new sst.aws.ApiGatewayV2("Api", {
  cors: process.env.IMAGESYNC_CORS_ORIGINS
    ? { allowOrigins: process.env.IMAGESYNC_CORS_ORIGINS.split(","), allowHeaders: ["authorization", "content-type", "if-none-match"] }
    : false,
  transform: {
    stage: (args) => {
      args.defaultRouteSettings = { throttlingBurstLimit: throttle.burst, throttlingRateLimit: throttle.rate };
    },
  },
});

const handler = {
  handler: apiFunction.handler,
  runtime: "nodejs22.x" as const,
  timeout: `${apiFunction.timeoutSeconds} seconds` as const,
  memory: "1024 MB" as const,
  environment: tuningEnvironment(),
  // Reads inventory, jobs and the source directory (written by the sync functions) and enqueues jobs:
  // no source secret is linked, so the API holds no upstream credential at all.
  link: [table, jobQueue, secrets.ApiToken],
};

for (const route of apiRoutes) api.route(route, handler);
