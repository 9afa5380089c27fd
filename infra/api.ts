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

// One function serves every route (the router dispatches), so it stays warm and has one set of alarms.
export const apiHandler = new sst.aws.Function(apiFunction.name, {
  handler: apiFunction.handler,
  runtime: "nodejs22.x",
  timeout: `${apiFunction.timeoutSeconds} seconds`,
  memory: "1024 MB",
  environment: tuningEnvironment(),
  // Reads inventory, jobs, change history and the source directory (written by the sync functions) and
  // enqueues jobs: no source secret is linked, so the API holds no upstream credential at all.
  link: [table, jobQueue, secrets.ApiToken],
});

for (const route of apiRoutes) api.route(route, apiHandler.arn);
