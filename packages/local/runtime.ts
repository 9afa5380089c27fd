/**
 * The whole system on one machine (`imagesync start`, `npm start`): DynamoDB Local, the SQS server and the
 * simulators on 127.0.0.1, the table and queues provisioned from the resource spec, and the real Lambda
 * handlers behind adapters that deliver the events AWS would (HTTP API v2 requests, SQS batches with
 * partial failures, scheduled sync invocations). Each start step returns its stop; `stop()` runs them in
 * reverse order.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  apiFunction,
  apiRoutes,
  changesFunction,
  inventoryTable,
  jobQueue,
  jobWorkerFunction,
  providers,
  syncEvent,
  syncConcurrency,
  syncFunctions,
  syncHandlerTimeoutSeconds,
  syncQueues,
  syncSchedule,
  syncWorkerFunctions,
  type Provider,
} from "../core/resources";
import { startCoxEdgeSimulator } from "../simulators/coxedge/simulator";
import { generateKeyPair, startTritonSimulator, type TritonSimulator } from "../simulators/triton/simulator";
import type { CoxEdgeSimulator } from "../simulators/coxedge/simulator";
import { startHttpAdapter } from "./adapters/http";
import { localConsoleFunction } from "./console-build";
import { startSchedule, type Schedule } from "./adapters/schedule";
import { startSqsPoller } from "./adapters/sqs";
import { startStreamPoller } from "./adapters/streams";
import { startDynamoDbLocal } from "./dynamodb-local";
import { provisionQueues, provisionSyncQueues, provisionTable, type JobQueueUrls, type QueuePair } from "./provision";
import { removeRuntimeInfo, writeRuntimeInfo } from "./runtime-info";
import { startSqsLocal } from "./sqs-local";
import { localSdkEnvironment } from "./sdk-env";

export interface LocalRuntimeOptions {
  /** Throwaway DynamoDB data instead of files under `dataDir`. */
  inMemory: boolean;
  /** DynamoDB data, local credentials and runtime info (absolute). */
  dataDir: string;
  /** HTTP API port; 0 picks a free one. */
  port: number;
  dynamoPort?: number;
  sqsPort?: number;
  /** Images each simulator starts with. */
  images: number;
  /** Run the scheduled syncs this often instead of their schedule. */
  syncEveryMs?: number;
  /** Sync once at start-up. */
  initialSync: boolean;
}

export interface LocalRuntime {
  /** The lines `imagesync start` prints: every URL and credential. */
  banner: string;
  stop(): Promise<void>;
}

type Stop = () => Promise<void>;

interface Servers {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  queues: JobQueueUrls;
  syncQueues: Record<Provider, QueuePair>;
}

interface Simulators {
  triton: TritonSimulator;
  tritonWest: TritonSimulator;
  coxedge: CoxEdgeSimulator;
  tritonKeyPath: string;
}

interface Handlers {
  api: (typeof import("../../functions/api"))["handler"];
  jobs: (typeof import("../../functions/jobs"))["handler"];
  changes: (typeof import("../../functions/changes"))["handler"];
  sync: Record<Provider, (typeof import("../../functions/sync-triton"))["handler"]>;
  syncWorkers: Record<Provider, (typeof import("../../functions/sync-triton-worker"))["handler"]>;
  /** What the banner says about the API's tokens. */
  tokens: string;
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const stops: Stop[] = [];
  const stop = async () => {
    removeRuntimeInfo(options.dataDir);
    for (const step of stops.toReversed()) await step().catch((error: unknown) => console.error("shutdown step failed:", error));
  };
  try {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const servers = await startServers(options, stops);
    const simulators = await startSimulators(options, stops);
    const handlers = await loadHandlers(options, servers, simulators);
    const apiUrl = await startAdapters(options, servers, handlers, stops);
    writeRuntimeInfo(options.dataDir, {
      pid: process.pid,
      apiUrl,
      dynamoEndpoint: servers.dynamoEndpoint,
      sqsEndpoint: servers.sqsEndpoint,
      region: process.env.AWS_REGION as string,
      tableName: inventoryTable.name,
      ...servers.queues,
      syncQueueUrls: { triton: servers.syncQueues.triton.queueUrl, coxedge: servers.syncQueues.coxedge.queueUrl },
      ...localFiles(options.dataDir),
    });
    return { banner: banner(options, servers, simulators, apiUrl, handlers.tokens), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** DynamoDB Local and the SQS server, provisioned; the handlers find them through the SDK's own variables. */
async function startServers(options: LocalRuntimeOptions, stops: Stop[]): Promise<Servers> {
  const dynamoDir = options.inMemory ? undefined : join(options.dataDir, "dynamodb");
  const [dynamo, sqsServer] = await Promise.all([
    startDynamoDbLocal({ port: options.dynamoPort, dataDir: dynamoDir }),
    startSqsLocal({ port: options.sqsPort }),
  ]);
  stops.push(dynamo.stop, sqsServer.stop);
  Object.assign(process.env, localSdkEnvironment({ dynamo: dynamo.endpoint, sqs: sqsServer.endpoint }));
  const { dynamoClient, sqsClient } = await import("../core/aws");
  await provisionTable(dynamoClient(), inventoryTable.name);
  const [queues, syncQueueUrls] = await Promise.all([provisionQueues(sqsClient()), provisionSyncQueues(sqsClient())]);
  return { dynamoEndpoint: dynamo.endpoint, sqsEndpoint: sqsServer.endpoint, queues, syncQueues: syncQueueUrls };
}

/** Two Triton datacenters of one account (so images can be copied between them) and Cox Edge. */
async function startSimulators(options: LocalRuntimeOptions, stops: Stop[]): Promise<Simulators> {
  const tritonKey = persistent(options.dataDir, "triton-sim-key.pem", () => generateKeyPair("ed25519").privateKeyPem);
  const apiKey = persistent(options.dataDir, "coxedge-sim-api-key", () => randomBytes(18).toString("base64url")).value;
  const [triton, coxedge] = await Promise.all([
    startTritonSimulator({ privateKey: tritonKey.value, images: options.images }),
    startCoxEdgeSimulator({ apiKey, catalog: { images: options.images } }),
  ]);
  const tritonWest = await startTritonSimulator({ cloud: triton.cloud, images: Math.ceil(options.images / 5) });
  stops.push(triton.close, tritonWest.close, coxedge.close);
  return { triton, tritonWest, coxedge, tritonKeyPath: tritonKey.path };
}

/**
 * Configures the handlers as Lambda would (IMAGESYNC_* sources default to the simulators; set them to point
 * at real clouds), fakes SST's Resource links, and only then imports the handler modules, which may read
 * configuration when they load.
 */
async function loadHandlers(options: LocalRuntimeOptions, servers: Servers, sims: Simulators): Promise<Handlers> {
  const tritonSources = process.env.IMAGESYNC_TRITON_SOURCES ??
    JSON.stringify([sims.triton, sims.tritonWest].map((dc) => ({ datacenter: dc.datacenterName, url: dc.url, account: dc.account, keyId: dc.keyId, privateKeyPath: sims.tritonKeyPath })));
  const { coxedge } = sims;
  const coxedgeSources = process.env.IMAGESYNC_COXEDGE_SOURCES ??
    JSON.stringify([{ baseUrl: coxedge.url, service: coxedge.service, environment: coxedge.environment, apiKey: coxedge.apiKey }]);
  const tokens = localTokens(options.dataDir);
  const files = localFiles(options.dataDir);
  writeFileSync(files.tritonSourcesFile, tritonSources, { mode: 0o600 });
  writeFileSync(files.coxedgeSourcesFile, coxedgeSources, { mode: 0o600 });
  writeFileSync(files.apiTokenFile, tokens.operator, { mode: 0o600 });

  // What SST's Resource links carry on Lambda; the handlers read them through the same `Resource` proxy.
  const links: Record<string, object> = {
    App: { name: "imagesync", stage: "local" },
    [inventoryTable.name]: { name: inventoryTable.name, type: "sst.aws.Dynamo" },
    [jobQueue.name]: { url: servers.queues.jobQueueUrl, type: "sst.aws.Queue" },
    [jobQueue.deadLetterName]: { url: servers.queues.deadLetterQueueUrl, type: "sst.aws.Queue" },
    ...Object.fromEntries(providers.map((provider) => [syncQueues[provider].name, { url: servers.syncQueues[provider].queueUrl, type: "sst.aws.Queue" }])),
    TritonSources: { value: tritonSources, type: "sst.sst.Secret" },
    CoxEdgeSources: { value: coxedgeSources, type: "sst.sst.Secret" },
    ApiToken: { value: tokens.secret, type: "sst.sst.Secret" },
  };
  for (const [name, value] of Object.entries(links)) process.env[`SST_RESOURCE_${name}`] = JSON.stringify(value);
  process.env.POWERTOOLS_LOG_LEVEL ??= "INFO";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  // Change and job events go to a file sink instead of EventBridge (`imagesync events --follow`).
  process.env.IMAGESYNC_EVENTS_FILE ??= files.eventsFile;

  const [api, jobs, changes, syncTriton, syncCoxedge, workerTriton, workerCoxedge] = await Promise.all([
    import("../../functions/api"),
    import("../../functions/jobs"),
    import("../../functions/changes"),
    import("../../functions/sync-triton"),
    import("../../functions/sync-coxedge"),
    import("../../functions/sync-triton-worker"),
    import("../../functions/sync-coxedge-worker"),
  ]);
  return {
    api: api.handler,
    jobs: jobs.handler,
    changes: changes.handler,
    sync: { triton: syncTriton.handler, coxedge: syncCoxedge.handler },
    syncWorkers: { triton: workerTriton.handler, coxedge: workerCoxedge.handler },
    tokens: tokens.banner,
  };
}

/**
 * The API's tokens: an operator token (every scope; the one local commands use) and a read-only viewer
 * token, both kept in the data dir. A token from the environment (IMAGESYNC_API_TOKEN or _TOKENS) wins.
 */
function localTokens(dataDir: string): { secret: string; operator: string; banner: string } {
  const fromEnv = process.env.IMAGESYNC_API_TOKENS ?? process.env.IMAGESYNC_API_TOKEN;
  const operator = process.env.IMAGESYNC_API_TOKEN ?? persistent(dataDir, "api-token", () => randomBytes(24).toString("base64url")).value;
  if (fromEnv) return { secret: fromEnv, operator, banner: `tokens from the environment${process.env.IMAGESYNC_API_TOKEN ? `, ${operator}` : ""}` };
  const viewer = persistent(dataDir, "api-read-token", () => randomBytes(24).toString("base64url")).value;
  const list = [
    { name: "operator", token: operator, scopes: ["read", "jobs", "admin"] },
    { name: "viewer", token: viewer, scopes: ["read"] },
  ];
  return { secret: JSON.stringify(list), operator, banner: `jobs token: ${operator}\n                  read token: ${viewer}` };
}

/** HTTP API, SQS poller and schedules in front of the handlers; returns the API's URL. */
async function startAdapters(options: LocalRuntimeOptions, servers: Servers, handlers: Handlers, stops: Stop[]): Promise<string> {
  const logError = (what: string) => (error: unknown) => console.error(`${what}:`, error);
  const http = await startHttpAdapter({
    handler: handlers.api,
    routes: apiRoutes,
    also: [await localConsoleFunction()],
    port: options.port,
    settings: { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds },
    onError: logError(apiFunction.name),
  });
  stops.push(http.close);
  const { sqsClient } = await import("../core/aws");
  const poller = startSqsPoller({
    sqs: sqsClient(),
    queueUrl: servers.queues.jobQueueUrl,
    queueArn: servers.queues.jobQueueArn,
    handler: handlers.jobs,
    settings: { functionName: jobWorkerFunction.name, timeoutSeconds: jobQueue.handlerTimeoutSeconds },
    batchSize: jobQueue.batchSize,
    reportBatchItemFailures: true,
    // local-aws-sqs can hand one message to two concurrent receivers; one poller keeps deliveries honest.
    concurrency: 1,
    onBatch: ({ error }) => error && logError(jobWorkerFunction.name)(error),
  });
  stops.push(poller.stop);
  for (const provider of providers) {
    const queue = servers.syncQueues[provider];
    const worker = startSqsPoller({
      sqs: sqsClient(),
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      handler: handlers.syncWorkers[provider],
      settings: { functionName: syncWorkerFunctions[provider].name, timeoutSeconds: syncHandlerTimeoutSeconds },
      // One source per invocation, several at once, as the deployed event source mapping runs them.
      batchSize: 1,
      reportBatchItemFailures: true,
      concurrency: syncConcurrency(),
      onBatch: ({ error }) => error && logError(syncWorkerFunctions[provider].name)(error),
    });
    stops.push(worker.stop);
  }
  const { dynamoClient } = await import("../core/aws");
  const streams = await startStreamPoller({
    dynamo: dynamoClient(),
    tableName: inventoryTable.name,
    handler: handlers.changes,
    settings: { functionName: changesFunction.name, timeoutSeconds: changesFunction.timeoutSeconds },
    batchSize: changesFunction.batchSize,
    maxRetryAttempts: changesFunction.maxRetryAttempts,
    checkpointFile: options.inMemory ? undefined : join(options.dataDir, "stream-checkpoints.json"),
    onBatch: ({ error, gaveUp }) => {
      if (error) logError(changesFunction.name)(error);
      if (gaveUp) console.error(`${changesFunction.name}: gave up on stream record ${gaveUp} after ${changesFunction.maxRetryAttempts} attempts`);
    },
  });
  stops.push(streams.stop);
  const schedules: Schedule[] = providers.map((provider) =>
    startSchedule({
      expression: syncSchedule(provider),
      intervalMs: options.syncEveryMs,
      event: syncEvent(provider),
      handler: handlers.sync[provider],
      settings: { functionName: syncFunctions[provider].name, timeoutSeconds: syncHandlerTimeoutSeconds },
      onResult: ({ error }) => error && logError(syncFunctions[provider].name)(error),
    }),
  );
  stops.push(...schedules.map((schedule) => schedule.stop));
  if (options.initialSync) void Promise.all(schedules.map((schedule) => schedule.runNow()));
  return http.url;
}

function banner(options: LocalRuntimeOptions, servers: Servers, sims: Simulators, apiUrl: string, tokens: string): string {
  const every = (provider: (typeof providers)[number]) => (options.syncEveryMs ? `every ${options.syncEveryMs / 1000} s` : syncSchedule(provider));
  const dynamoData = options.inMemory ? "in memory" : `data in ${join(options.dataDir, "dynamodb")}`;
  const { triton, tritonWest, coxedge } = sims;
  return `
imagesync local runtime is up (all on 127.0.0.1)
  HTTP API        ${apiUrl}   console ${apiUrl}/
                  ${tokens}
  DynamoDB Local  ${servers.dynamoEndpoint}   table ${inventoryTable.name} (${dynamoData})
  SQS             ${servers.sqsEndpoint}   queues ${jobQueue.name}, ${jobQueue.deadLetterName}, ${providers.map((provider) => syncQueues[provider].name).join(", ")}
  Triton sim      ${triton.url} (${triton.datacenterName}), ${tritonWest.url} (${tritonWest.datacenterName})
                  account ${triton.account}, key ${sims.tritonKeyPath} (${triton.keyId})
  Cox Edge sim    ${coxedge.url}   ${coxedge.service}/${coxedge.environment}, MC-Api-Key ${coxedge.apiKey}
  Schedules       ${syncFunctions.triton.name} ${every("triton")}, ${syncFunctions.coxedge.name} ${every("coxedge")}

  Try: npx imagesync images list   (or curl -H "authorization: Bearer <token>" ${apiUrl}/images)
  Ctrl-C to stop.
`;
}

/** The files other local commands read the runtime's settings from (0600, under the git-ignored data dir). */
function localFiles(dataDir: string) {
  return {
    tritonSourcesFile: join(dataDir, "triton-sources.json"),
    coxedgeSourcesFile: join(dataDir, "coxedge-sources.json"),
    apiTokenFile: join(dataDir, "api-token"),
    eventsFile: join(dataDir, "events.jsonl"),
  };
}

/** A file under the data dir that keeps its content across restarts (created 0600 on first use). */
function persistent(dataDir: string, name: string, create: () => string): { path: string; value: string } {
  const path = join(dataDir, name);
  if (!existsSync(path)) writeFileSync(path, create(), { mode: 0o600 });
  return { path, value: readFileSync(path, "utf8") };
}
