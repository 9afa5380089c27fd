/**
 * The job worker as it runs locally: the real handler (functions/jobs) behind the SQS poller, a fresh
 * table and queues on the shared local servers, and both simulators as the configured sources. The
 * worker reads its configuration from the IMAGESYNC_* variables set here on first use, like on Lambda.
 */
import { guardSecret } from "../support/secrets";
import { generateKeyPairSync } from "node:crypto";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { ReceiveMessageCommand, SendMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { handler } from "../../functions/jobs";
import { sqsClient } from "../../packages/core/aws";
import { jobQueue, jobWorkerFunction } from "../../packages/core/resources";
import { jobsContext } from "../../packages/jobs/context";
import { startSqsPoller, type SqsPoller } from "../../packages/local/adapters/sqs";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../../packages/simulators/coxedge/simulator";
import { startTritonSimulator, type TritonSimulator } from "../../packages/simulators/triton/simulator";
import { getJob, isTerminal, type JobRecord } from "../../packages/store/jobs";
import { createTestQueues, createTestTable } from "../support/stack";

export const tritonSourceId = "triton-test";
/** A second datacenter of the same Triton account, the target of copy jobs. */
export const tritonWestSourceId = "triton-test-west";
/** A Triton source configured with an ECDSA P-384 key, which CloudAPI cannot verify. */
export const tritonP384SourceId = "triton-test-p384";
export const coxedgeSourceId = "coxedge-test";
/** The documentation's example VM workload in the Cox Edge simulator. */
export const coxedgeWorkload = { workloadId: "c23652ed-0f15-47cf-a9b8-63e1e3aacb3c", instanceName: "w-john-ahd-wi-john-jsr-phx-0" };

export interface HarnessOptions {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  /** Lambda timeout the poller enforces (and Powertools idempotency's in-progress window). */
  timeoutSeconds?: number;
  /** Start the in-process worker (tests of crashes start their own first). */
  startWorker?: boolean;
}

export interface Harness {
  tableName: string;
  queues: Awaited<ReturnType<typeof createTestQueues>>;
  triton: TritonSimulator;
  /** The second datacenter of the Triton cloud (same account and key). */
  tritonWest: TritonSimulator;
  coxedge: CoxEdgeSimulator;
  /** What a worker process needs in its environment to reach everything above. */
  env: Record<string, string>;
  startWorker(): void;
  stopWorker(): Promise<void>;
  /** Sends a raw body (an object is JSON-encoded) to the job queue. */
  send(body: unknown): Promise<void>;
  job(jobId: string): Promise<JobRecord | undefined>;
  /** Waits until the job is finished (or `until` holds) and returns it. */
  waitForJob(jobId: string, until?: (job: JobRecord) => boolean, timeoutMs?: number): Promise<JobRecord>;
  /** Receives what reached the dead-letter queue within `timeoutMs`. */
  deadLetters(count: number, timeoutMs?: number): Promise<Message[]>;
  close(): Promise<void>;
}

export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const [table, queues, triton, coxedge] = await Promise.all([
    createTestTable(),
    createTestQueues({ visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 4, maxReceiveCount: options.maxReceiveCount ?? 5 }),
    startTritonSimulator({ createDelayMs: 300 }),
    startCoxEdgeSimulator({ taskDelayMs: 300, catalog: { images: 5 } }),
  ]);
  const tritonWest = await startTritonSimulator({ cloud: triton.cloud, createDelayMs: 300 });
  const p384 = p384Key();
  for (const secret of [triton.privateKeyPem, coxedge.apiKey, p384]) guardSecret(secret);
  const retryFast = { maxAttempts: 2, timeoutMs: 2000 };
  const tritonSource = (id: string, sim: TritonSimulator) =>
    ({ id, datacenter: sim.datacenterName, url: sim.url, account: sim.account, keyId: sim.keyId, privateKey: sim.privateKeyPem, ...retryFast });
  const env: Record<string, string> = {
    IMAGESYNC_TABLE_NAME: table.tableName,
    IMAGESYNC_JOB_QUEUE_URL: queues.jobQueueUrl,
    IMAGESYNC_DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
    IMAGESYNC_TRITON_SOURCES: JSON.stringify([
      tritonSource(tritonSourceId, triton),
      tritonSource(tritonWestSourceId, tritonWest),
      { ...tritonSource(tritonP384SourceId, triton), keyId: undefined, privateKey: p384 },
    ]),
    IMAGESYNC_COXEDGE_SOURCES: JSON.stringify([
      { id: coxedgeSourceId, baseUrl: coxedge.url, service: coxedge.service, environment: coxedge.environment, apiKey: coxedge.apiKey, ...retryFast },
    ]),
    // Polls and retries one second apart, so jobs finish within seconds.
    IMAGESYNC_JOB_POLL_MAX_DELAY_SECONDS: "1",
    // A copy that takes longer than this is followed by polling the target datacenter.
    IMAGESYNC_TRITON_COPY_WAIT_SECONDS: "1",
  };
  Object.assign(process.env, env);

  let poller: SqsPoller | undefined;
  const harness: Harness = {
    tableName: table.tableName,
    queues,
    triton,
    tritonWest,
    coxedge,
    env,
    startWorker() {
      poller = startWorker({ queueUrl: queues.jobQueueUrl, queueArn: queues.jobQueueArn, timeoutSeconds: options.timeoutSeconds ?? 3 });
    },
    async stopWorker() {
      await poller?.stop();
      poller = undefined;
    },
    async send(body) {
      const MessageBody = typeof body === "string" ? body : JSON.stringify(body);
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queues.jobQueueUrl, MessageBody }));
    },
    job: (jobId) => getJob(jobsContext().table, jobId),
    waitForJob(jobId, done = (job) => isTerminal(job.state), timeoutMs = 20_000) {
      return until(async () => {
        const job = await harness.job(jobId);
        return job && done(job) ? job : undefined;
      }, timeoutMs, `job ${jobId}`);
    },
    async deadLetters(count, timeoutMs = 20_000) {
      const received: Message[] = [];
      await until(async () => {
        const { Messages = [] } = await sqsClient().send(
          new ReceiveMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
        );
        received.push(...Messages);
        return received.length >= count ? true : undefined;
      }, timeoutMs, `${count} dead letters`);
      return received;
    },
    async close() {
      await poller?.stop();
      await Promise.all([triton.close(), tritonWest.close(), coxedge.close(), queues.drop(), table.drop()]);
    },
  };
  if (options.startWorker ?? true) harness.startWorker();
  return harness;
}

function p384Key(): string {
  return generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** The real handler behind the poller, configured as the local runtime runs it. */
export function startWorker(options: { queueUrl: string; queueArn: string; timeoutSeconds: number }): SqsPoller {
  return startSqsPoller({
    sqs: sqsClient(),
    queueUrl: options.queueUrl,
    queueArn: options.queueArn,
    handler,
    settings: { functionName: jobWorkerFunction.name, timeoutSeconds: options.timeoutSeconds },
    batchSize: jobQueue.batchSize,
    reportBatchItemFailures: true,
    // local-aws-sqs can hand one message to two concurrent receivers (see packages/local/runtime.ts).
    concurrency: 1,
    waitTimeSeconds: 1,
  });
}

export interface HoldingProxy {
  endpoint: string;
  /** From now on, nothing more reaches the target: requests in flight and new ones hang. */
  hold(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target` that can stop forwarding at a chosen moment, to freeze a process's writes. */
export async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let holding = false;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", close).on("close", close);
    }
    client.on("data", (chunk) => holding || upstream.write(chunk));
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => void (holding = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
