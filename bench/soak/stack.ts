/**
 * The system under soak, composed from the local runtime's parts rather than started as one (so the job
 * worker can run in a process of its own): DynamoDB Local and the SQS server, a fresh table and queues,
 * two Triton datacenters of one account and Cox Edge, and the IMAGESYNC_* configuration pointing at them.
 */
import { randomUUID } from "node:crypto";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { dynamoClient, sqsClient } from "../../packages/core/aws";
import { ConfigLoader } from "../../packages/core/config";
import type { JobsContext } from "../../packages/jobs/context";
import { startDynamoDbLocal } from "../../packages/local/dynamodb-local";
import { provisionQueues, provisionTable, type JobQueueUrls } from "../../packages/local/provision";
import { startSqsLocal } from "../../packages/local/sqs-local";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../../packages/simulators/coxedge/simulator";
import { startTritonSimulator, type TritonSimulator } from "../../packages/simulators/triton/simulator";
import { configuredTable, type Table } from "../../packages/store/table";
import { coxedgeCatalog, tritonCatalog, type SoakSource } from "./catalogs";
import { timings, type SoakSettings } from "./settings";
import { localSdkEnvironment } from "../../packages/local/sdk-env";

export const sourceIds = { triton: "triton-soak-central", tritonWest: "triton-soak-west", coxedge: "coxedge-soak" } as const;

export interface SoakStack {
  /** us-central-1: the Triton jobs' source. */
  triton: TritonSimulator;
  /** us-west-1, same account: the copies' target. */
  tritonWest: TritonSimulator;
  coxedge: CoxEdgeSimulator;
  sources: SoakSource[];
  /** IMAGESYNC_* settings: the sync's configuration here, the worker process's environment there. */
  env: Record<string, string>;
  config: ConfigLoader;
  table: Table;
  jobs: JobsContext;
  queues: JobQueueUrls;
  close(): Promise<void>;
}

type Stop = () => Promise<void>;

export async function startSoakStack(settings: SoakSettings): Promise<SoakStack> {
  const stops: Stop[] = [];
  try {
    const storage = await startStorage(settings.useRunningServers, stops);
    const [triton, coxedge] = await Promise.all([
      startTritonSimulator({ images: 100, seed: settings.seed, createDelayMs: timings.upstreamTaskMs }),
      startCoxEdgeSimulator({ catalog: { images: 60, seed: settings.seed }, seed: settings.seed, taskDelayMs: timings.upstreamTaskMs }),
    ]);
    const tritonWest = await startTritonSimulator({ cloud: triton.cloud, images: 20, seed: settings.seed, importDelayMs: timings.tritonImportMs });
    stops.push(triton.close, tritonWest.close, coxedge.close);
    const env = configuration(storage, triton, tritonWest, coxedge);
    const config = new ConfigLoader(env, () => undefined);
    const table = configuredTable(config);
    return {
      triton,
      tritonWest,
      coxedge,
      sources: [
        { id: sourceIds.triton, provider: "triton", effects: triton.effects, catalog: () => tritonCatalog(triton) },
        { id: sourceIds.tritonWest, provider: "triton", effects: tritonWest.effects, catalog: () => tritonCatalog(tritonWest) },
        { id: sourceIds.coxedge, provider: "coxedge", effects: coxedge.effects, catalog: () => coxedgeCatalog(coxedge) },
      ],
      env,
      config,
      table,
      jobs: { config, table, sqs: sqsClient(), queueUrl: config.jobQueueUrl() },
      queues: storage.queues,
      close: () => stopAll(stops),
    };
  } catch (error) {
    await stopAll(stops);
    throw error;
  }
}

/** DynamoDB Local and the SQS server (started, or the running ones), with a fresh table and queues. */
async function startStorage(useRunningServers: boolean, stops: Stop[]): Promise<{ tableName: string; queues: JobQueueUrls }> {
  if (!useRunningServers) {
    const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
    stops.push(dynamo.stop, sqs.stop);
    Object.assign(process.env, localSdkEnvironment({ dynamo: dynamo.endpoint, sqs: sqs.endpoint }));
  } else if (!process.env.AWS_ENDPOINT_URL_DYNAMODB || !process.env.AWS_ENDPOINT_URL_SQS) {
    throw new Error("useRunningServers needs AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS");
  }
  const suffix = randomUUID().slice(0, 8);
  const tableName = `soak-${suffix}`;
  await provisionTable(dynamoClient(), tableName);
  stops.push(async () => void (await dynamoClient().send(new DeleteTableCommand({ TableName: tableName }))));
  const queues = await provisionQueues(sqsClient(), {
    jobs: `soak-jobs-${suffix}`,
    deadLetters: `soak-dlq-${suffix}`,
    visibilityTimeoutSeconds: timings.visibilityTimeoutSeconds,
  });
  stops.push(async () => {
    await sqsClient().send(new DeleteQueueCommand({ QueueUrl: queues.jobQueueUrl }));
    await sqsClient().send(new DeleteQueueCommand({ QueueUrl: queues.deadLetterQueueUrl }));
  });
  return { tableName, queues };
}

function configuration(
  { tableName, queues }: { tableName: string; queues: JobQueueUrls },
  triton: TritonSimulator, tritonWest: TritonSimulator, coxedge: CoxEdgeSimulator): Record<string, string> {
  const client = { timeoutMs: timings.clientTimeoutMs, maxAttempts: timings.syncMaxAttempts };
  const tritonSource = (id: string, sim: TritonSimulator) =>
    ({ id, datacenter: sim.datacenterName, url: sim.url, account: sim.account, keyId: sim.keyId, privateKey: sim.privateKeyPem, ...client });
  const { service, environment, apiKey } = coxedge;
  return {
    IMAGESYNC_TABLE_NAME: tableName,
    IMAGESYNC_JOB_QUEUE_URL: queues.jobQueueUrl,
    IMAGESYNC_DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
    IMAGESYNC_TRITON_SOURCES: JSON.stringify([tritonSource(sourceIds.triton, triton), tritonSource(sourceIds.tritonWest, tritonWest)]),
    IMAGESYNC_COXEDGE_SOURCES: JSON.stringify([{ id: sourceIds.coxedge, baseUrl: coxedge.url, service, environment, apiKey, ...client }]),
    IMAGESYNC_JOB_POLL_TIMEOUT_SECONDS: String(timings.jobPollTimeoutSeconds),
    IMAGESYNC_JOB_POLL_MAX_DELAY_SECONDS: String(timings.jobPollMaxDelaySeconds),
    IMAGESYNC_TRITON_COPY_WAIT_SECONDS: String(timings.tritonCopyWaitSeconds),
  };
}

async function stopAll(stops: Stop[]): Promise<void> {
  for (const stop of stops.toReversed()) await stop().catch((error: unknown) => console.error("soak shutdown step failed:", error));
}
