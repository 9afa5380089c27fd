import {
  providers,
  syncConcurrency,
  syncEvent,
  syncFunctions,
  syncHandlerTimeoutSeconds,
  syncQueues,
  syncQueueSettings,
  syncSchedule,
  syncWorkerFunctions,
  tuningEnvironment,
} from "../packages/core/resources";
import { secrets } from "./secrets";
import { table } from "./storage";

const credentials = { triton: secrets.TritonSources, coxedge: secrets.CoxEdgeSources };
// How many sources of a provider sync at once (IMAGESYNC_SYNC_CONCURRENCY at deploy), so upstreams are not stampeded.
const maximumConcurrency = syncConcurrency();

/**
 * Per provider: a schedule whose function enqueues one message per source on the provider's sync queue, and
 * a worker that syncs one source per message. Each links only its own provider's credentials.
 */
export const syncPipelines = providers.map((provider) => {
  const deadLetters = new sst.aws.Queue(syncQueues[provider].deadLetterName, {
    transform: { queue: { messageRetentionSeconds: syncQueueSettings.deadLetterRetentionSeconds } },
  });
  const queue = new sst.aws.Queue(syncQueues[provider].name, {
    visibilityTimeout: `${syncQueueSettings.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: deadLetters.arn, retry: syncQueueSettings.maxReceiveCount },
  });
  const worker = queue.subscribe(
    {
      handler: syncWorkerFunctions[provider].handler,
      runtime: "nodejs22.x",
      timeout: `${syncHandlerTimeoutSeconds} seconds`,
      memory: "1024 MB",
      environment: tuningEnvironment(),
      link: [table, credentials[provider]],
    },
    {
      batch: { size: 1, partialResponses: true },
      transform: { eventSourceMapping: (args) => void (args.scalingConfig = { maximumConcurrency }) },
    },
  );
  const schedule = new sst.aws.CronV2(syncFunctions[provider].name, {
    schedule: syncSchedule(provider) as `rate(${string})` | `cron(${string})`,
    // EventBridge Scheduler invokes the function with exactly this payload; the local timers send the same.
    event: syncEvent(provider),
    function: {
      handler: syncFunctions[provider].handler,
      runtime: "nodejs22.x",
      timeout: "60 seconds",
      memory: "512 MB",
      environment: tuningEnvironment(),
      // The source list (for the messages and the source directory) and the queue it sends to.
      link: [table, credentials[provider], queue],
    },
  });
  return { provider, schedule, queue, deadLetters, worker };
});
