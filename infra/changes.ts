import { changesFunction as spec, eventBus, jobQueue, tuningEnvironment } from "../packages/core/resources";
import { table } from "./storage";

/** Change and job events; users route them on with ordinary EventBridge rules (see docs/changes.md). */
export const bus = new sst.aws.Bus(eventBus.name);

/** Stream records the function gave up on after its retries: their shard, sequence range and error. */
export const changesFailureQueue = new sst.aws.Queue(spec.failureQueueName, {
  transform: { queue: { messageRetentionSeconds: jobQueue.deadLetterRetentionSeconds } },
});

export const changesSubscriber = table.subscribe(
  spec.name,
  {
    handler: spec.handler,
    runtime: "nodejs22.x",
    timeout: `${spec.timeoutSeconds} seconds`,
    memory: "512 MB",
    environment: tuningEnvironment(),
    // Writes change records, publishes events; the failure queue is linked so the mapping may send to it.
    link: [table, bus, changesFailureQueue],
  },
  {
    transform: {
      eventSourceMapping: (args) => {
        args.startingPosition = "TRIM_HORIZON";
        args.batchSize = spec.batchSize;
        args.maximumRetryAttempts = spec.maxRetryAttempts;
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.destinationConfig = { onFailure: { destinationArn: changesFailureQueue.arn } };
      },
    },
  },
);
