/**
 * The job worker alone in a process, so the soak can SIGKILL it in the middle of anything: the real
 * handler (functions/jobs) behind the local SQS event source, configured through IMAGESYNC_* as on Lambda.
 */
import { handler } from "../../functions/jobs";
import { sqsClient } from "../../packages/core/aws";
import { jobQueue, jobWorkerFunction } from "../../packages/core/resources";
import { startSqsPoller } from "../../packages/local/adapters/sqs";

const { IMAGESYNC_JOB_QUEUE_URL, SOAK_JOB_QUEUE_ARN, SOAK_HANDLER_TIMEOUT_SECONDS, SOAK_PARENT_PID } = process.env;
if (!IMAGESYNC_JOB_QUEUE_URL || !SOAK_JOB_QUEUE_ARN || !SOAK_HANDLER_TIMEOUT_SECONDS || !SOAK_PARENT_PID) {
  throw new Error("IMAGESYNC_JOB_QUEUE_URL, SOAK_JOB_QUEUE_ARN, SOAK_HANDLER_TIMEOUT_SECONDS and SOAK_PARENT_PID are required");
}
// Dies with the soak: an orphaned worker would go on polling a queue server that is gone.
setInterval(() => {
  try {
    process.kill(Number(SOAK_PARENT_PID), 0);
  } catch {
    process.exit(1);
  }
}, 2000).unref();

startSqsPoller({
  sqs: sqsClient(),
  queueUrl: IMAGESYNC_JOB_QUEUE_URL,
  queueArn: SOAK_JOB_QUEUE_ARN,
  handler,
  settings: { functionName: jobWorkerFunction.name, timeoutSeconds: Number(SOAK_HANDLER_TIMEOUT_SECONDS) },
  batchSize: jobQueue.batchSize,
  reportBatchItemFailures: true,
  // local-aws-sqs can hand one message to two concurrent receivers: one receive loop, as `npm start` runs it.
  concurrency: 1,
  waitTimeSeconds: 1,
  onBatch: ({ error }) => {
    if (error) console.error(`${new Date().toISOString()} batch failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  },
});
