import { providers, syncEvent, syncFunctions, syncHandlerTimeoutSeconds, syncSchedule, tuningEnvironment } from "../packages/core/resources";
import { secrets } from "./secrets";
import { table } from "./storage";

const credentials = { triton: secrets.TritonSources, coxedge: secrets.CoxEdgeSources };

/** One scheduled sync per provider; each links only its own provider's credentials. */
export const syncSchedules = providers.map(
  (provider) =>
    new sst.aws.CronV2(syncFunctions[provider].name, {
      schedule: syncSchedule(provider) as `rate(${string})` | `cron(${string})`,
      // EventBridge Scheduler invokes the function with exactly this payload; the local timers send the same.
      event: syncEvent(provider),
      function: {
        handler: syncFunctions[provider].handler,
        runtime: "nodejs22.x",
        timeout: `${syncHandlerTimeoutSeconds} seconds`,
        memory: "1024 MB",
        environment: tuningEnvironment(),
        link: [table, credentials[provider]],
      },
    }),
);
