/** The job worker alone in a process, so a test can kill it in the middle of a step (crash.test.ts). */
import { startWorker } from "./harness";

const { WORKER_QUEUE_URL, WORKER_QUEUE_ARN, WORKER_TIMEOUT_SECONDS } = process.env;
if (!WORKER_QUEUE_URL || !WORKER_QUEUE_ARN || !WORKER_TIMEOUT_SECONDS) throw new Error("WORKER_QUEUE_URL, WORKER_QUEUE_ARN and WORKER_TIMEOUT_SECONDS are required");
startWorker({ queueUrl: WORKER_QUEUE_URL, queueArn: WORKER_QUEUE_ARN, timeoutSeconds: Number(WORKER_TIMEOUT_SECONDS) });
