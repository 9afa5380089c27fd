/**
 * Image jobs over SQS: 200 create jobs (half Triton, half Cox Edge) submitted at once through submitJob,
 * the real worker handler behind the local SQS event source, upstream tasks taking T seconds in the
 * simulators. Reports, per provider: how long after upstream finished each job was seen finished (p50,
 * p95, max), upstream status calls per job (Triton GetImage, Cox Edge GetTask), and the worker's total
 * busy time against the wall time (a worker that slept while waiting would be busy jobs × T).
 * Settings: IMAGESYNC_BENCH_JOBS (default 200), IMAGESYNC_BENCH_JOBS_TASK_SECONDS (T, default "10"; a list
 * like "5,30" runs each), IMAGESYNC_BENCH_JOBS_POLLERS (concurrent SQS pollers, default 1).
 * Standalone: `npx tsx bench/jobs.ts`.
 */
import { fileURLToPath } from "node:url";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import pLimit from "p-limit";
import { backoff } from "../packages/core/backoff";
import { jobQueue, jobWorkerFunction, type Provider } from "../packages/core/resources";
import { startDynamoDbLocal } from "../packages/local/dynamodb-local";
import { provisionQueues, provisionTable } from "../packages/local/provision";
import { startSqsLocal } from "../packages/local/sqs-local";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../packages/simulators/coxedge/simulator";
import { startTritonSimulator, type TritonSimulator } from "../packages/simulators/triton/simulator";
import type { JobRecord } from "../packages/store/jobs";
import { localSdkEnvironment } from "../packages/local/sdk-env";

const jobCount = Number(process.env.IMAGESYNC_BENCH_JOBS ?? 200);
const taskSeconds = (process.env.IMAGESYNC_BENCH_JOBS_TASK_SECONDS ?? "10").split(",").map(Number);
const pollers = Number(process.env.IMAGESYNC_BENCH_JOBS_POLLERS ?? 1);
const coxedgeWorkload = { workloadId: "c23652ed-0f15-47cf-a9b8-63e1e3aacb3c", instanceName: "w-john-ahd-wi-john-jsr-phx-0" };

interface Row {
  T: string;
  provider: string;
  jobs: number;
  succeeded: number;
  "lag p50 s": string;
  "lag p95 s": string;
  "lag max s": string;
  /** Lag over the backoff cap of the poll that found it done: machine-independent (≤ 1 + processing). */
  "lag ÷ step p50": string;
  "lag ÷ step p95": string;
  "status calls/job": string;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const seconds = (ms: number) => (ms / 1000).toFixed(2);

interface Stack {
  triton: TritonSimulator;
  coxedge: CoxEdgeSimulator;
  /** Time spent inside the handler, summed over invocations. */
  busy: { ms: number; invocations: number };
}

async function runOnce(stack: Stack, T: number, round: number): Promise<{ rows: Row[]; busyMs: number; invocations: number; wallMs: number }> {
  const { submitJob, getJob, isTerminal } = await import("../packages/jobs");
  const { jobsContext } = await import("../packages/jobs/context");
  const { triton, coxedge } = stack;
  triton.setCreateDelayMs(T * 1000);
  coxedge.state.settings.taskDelayMs = T * 1000;
  triton.counters.reset();
  coxedge.counters.reset();

  const busyBefore = { ...stack.busy };
  const jobs: { jobId: string; provider: Provider }[] = Array.from({ length: jobCount }, (_, i) => ({
    jobId: `bench-${round}-${i}`,
    provider: i % 2 === 0 ? "triton" : "coxedge",
  }));
  const started = performance.now();
  const limit = pLimit(50);
  await Promise.all(
    jobs.map(({ jobId, provider }, i) =>
      limit(() =>
        submitJob(
          provider === "triton"
            ? { jobId, provider, source: "triton-bench", action: "create", params: { machine: triton.addMachine().id, name: `bench-${round}-${i}`, version: "1" } }
            : { jobId, provider, source: "coxedge-bench", action: "create", params: { family: "bench", tag: `r${round}-${i}`, ...coxedgeWorkload } },
        ),
      ),
    ),
  );
  const table = jobsContext().table;
  const finished = new Map<string, JobRecord>();
  const deadline = Date.now() + (T * 10 + 300) * 1000;
  while (finished.size < jobs.length) {
    if (Date.now() > deadline) throw new Error(`only ${finished.size} of ${jobs.length} jobs finished in time`);
    await new Promise((r) => setTimeout(r, 250));
    await Promise.all(
      jobs
        .filter(({ jobId }) => !finished.has(jobId))
        .map(async ({ jobId }) => {
          const job = await getJob(table, jobId);
          if (job && isTerminal(job.state)) finished.set(jobId, job);
        }),
    );
  }
  const wallMs = performance.now() - started;

  const rows = (["triton", "coxedge"] as const).map((provider): Row => {
    const mine = [...finished.values()].filter((job) => job.request?.provider === provider);
    // Upstream finished: Cox Edge knows when each task settles; a Triton image is ready T after its create answered.
    const upstreamDoneAt = (job: JobRecord) =>
      provider === "coxedge" ? coxedge.state.getTask(job.upstream?.taskId as string).settlesAtMs : Date.parse(job.submittedAt as string) + T * 1000;
    const lags = mine.map((job) => Date.parse(job.finishedAt as string) - upstreamDoneAt(job)).toSorted((a, b) => a - b);
    // The delay before the step that saw the job done was drawn from [cap/2, cap], cap = 2^(seq-1) s (jobs/backoff.ts).
    const stepMs = (job: JobRecord) => backoff(job.seq, { base: 1, max: Number(process.env.IMAGESYNC_JOB_POLL_MAX_DELAY_SECONDS ?? 900), jitter: "none" }) * 1000;
    const ratios = mine.map((job) => (Date.parse(job.finishedAt as string) - upstreamDoneAt(job)) / stepMs(job)).toSorted((a, b) => a - b);
    const statusCalls = provider === "triton" ? triton.counters.get("GetImage") : coxedge.counters.get("GetTask");
    return {
      T: `${T} s`,
      provider,
      jobs: mine.length,
      succeeded: mine.filter((job) => job.state === "succeeded").length,
      "lag p50 s": seconds(percentile(lags, 50)),
      "lag p95 s": seconds(percentile(lags, 95)),
      "lag max s": seconds(percentile(lags, 100)),
      "lag ÷ step p50": percentile(ratios, 50).toFixed(2),
      "lag ÷ step p95": percentile(ratios, 95).toFixed(2),
      "status calls/job": (statusCalls / mine.length).toFixed(2),
    };
  });
  return { rows, busyMs: stack.busy.ms - busyBefore.ms, invocations: stack.busy.invocations - busyBefore.invocations, wallMs };
}

export async function run(): Promise<void> {
  const [dynamo, sqs, triton, coxedge] = await Promise.all([
    startDynamoDbLocal(),
    startSqsLocal(),
    startTritonSimulator(),
    startCoxEdgeSimulator({ catalog: { images: 0 } }),
  ]);
  Object.assign(process.env, {
    ...localSdkEnvironment({ dynamo: dynamo.endpoint, sqs: sqs.endpoint }),
    IMAGESYNC_TABLE_NAME: "BenchJobsInventory",
    IMAGESYNC_TRITON_SOURCES: JSON.stringify([{ id: "triton-bench", datacenter: "local-1", url: triton.url, account: triton.account, keyId: triton.keyId, privateKey: triton.privateKeyPem }]),
    IMAGESYNC_COXEDGE_SOURCES: JSON.stringify([{ id: "coxedge-bench", baseUrl: coxedge.url, service: coxedge.service, environment: coxedge.environment, apiKey: coxedge.apiKey }]),
  });
  const { sqsClient, dynamoClient } = await import("../packages/core/aws");
  await provisionTable(dynamoClient(), "BenchJobsInventory");
  const queues = await provisionQueues(sqsClient());
  Object.assign(process.env, { IMAGESYNC_JOB_QUEUE_URL: queues.jobQueueUrl, IMAGESYNC_DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl });
  const { startSqsPoller } = await import("../packages/local/adapters/sqs");
  const { handler } = await import("../functions/jobs");
  const busy = { ms: 0, invocations: 0 };
  // One poller for every round: stopping one mid-receive would hide messages for the visibility timeout.
  const poller = startSqsPoller({
    sqs: sqsClient(),
    queueUrl: queues.jobQueueUrl,
    queueArn: queues.jobQueueArn,
    handler: async (event: SQSEvent, context) => {
      const started = performance.now();
      try {
        return (await handler(event, context)) as SQSBatchResponse;
      } finally {
        busy.ms += performance.now() - started;
        busy.invocations++;
      }
    },
    settings: { functionName: jobWorkerFunction.name, timeoutSeconds: jobQueue.handlerTimeoutSeconds },
    batchSize: jobQueue.batchSize,
    reportBatchItemFailures: true,
    concurrency: pollers,
  });
  console.log(
    `Image jobs over SQS: ${jobCount} create jobs (half Triton, half Cox Edge) submitted at once; the real worker handler behind ${pollers} local SQS poller(s), batches of ${jobQueue.batchSize}, default poll backoff (1, 2, 4 ... s, capped at 900 s); DynamoDB Local + local-aws-sqs + simulators on 127.0.0.1, Node ${process.version}. Lag = job seen finished − upstream finished.`,
  );
  try {
    const summaries: Record<string, string | number>[] = [];
    const rows: Row[] = [];
    for (const [round, T] of taskSeconds.entries()) {
      const result = await runOnce({ triton, coxedge, busy }, T, round);
      rows.push(...result.rows);
      summaries.push({
        T: `${T} s`,
        "wall s": seconds(result.wallMs),
        "worker busy s": seconds(result.busyMs),
        invocations: result.invocations,
        "busy/wall": (result.busyMs / result.wallMs).toFixed(2),
        "sleeping worker busy s (jobs × T)": jobCount * T,
      });
    }
    console.table(rows);
    console.table(summaries);
  } finally {
    await poller.stop();
    await Promise.all([triton.close(), coxedge.close(), dynamo.stop(), sqs.stop()]);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  await run();
  process.exit(0);
}
