import { jobQueue as spec, jobWorkerFunction, tuningEnvironment } from "../packages/core/resources";
import { secrets } from "./secrets";
import { table } from "./storage";

export const deadLetterQueue = new sst.aws.Queue(spec.deadLetterName, {
  transform: { queue: { messageRetentionSeconds: spec.deadLetterRetentionSeconds } },
});

export const jobQueue = new sst.aws.Queue(spec.name, {
  visibilityTimeout: `${spec.visibilityTimeoutSeconds} seconds`,
  dlq: { queue: deadLetterQueue.arn, retry: spec.maxReceiveCount },
});

export const jobWorker = jobQueue.subscribe(
  {
    handler: jobWorkerFunction.handler,
    runtime: "nodejs22.x",
    timeout: `${spec.handlerTimeoutSeconds} seconds`,
    memory: "512 MB",
    environment: tuningEnvironment(),
    // The worker re-enqueues its own poll messages and updates jobs and inventory.
    link: [table, jobQueue, secrets.TritonSources, secrets.CoxEdgeSources],
  },
  { batch: { size: spec.batchSize, partialResponses: true } },
);
