/**
 * `npm start`: the whole system on one machine. Boots DynamoDB Local, the SQS server and both upstream
 * simulators on 127.0.0.1, provisions the table and queues from the resource spec, and runs the real
 * Lambda handlers behind adapters that deliver the events AWS would: HTTP API v2 requests, SQS batches
 * with partial failures, and scheduled sync invocations. Ctrl-C stops everything cleanly.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { apiFunction, apiRoutes, inventoryTable, jobQueue, jobWorkerFunction, providers, syncEvent, syncFunctions, syncHandlerTimeoutSeconds, syncSchedule } from "../core/resources";
import { startCoxEdgeSimulator } from "../simulators/coxedge/simulator";
import { generateKeyPair, startTritonSimulator } from "../simulators/triton/simulator";
import { startHttpAdapter } from "./adapters/http";
import { runCommand } from "./command";
import { startSchedule, type Schedule } from "./adapters/schedule";
import { startSqsPoller } from "./adapters/sqs";
import { startDynamoDbLocal } from "./dynamodb-local";
import { provisionQueues, provisionTable } from "./provision";
import { removeRuntimeInfo, writeRuntimeInfo } from "./runtime-info";
import { startSqsLocal } from "./sqs-local";

const usage = `Usage: npm start -- [options]
  --in-memory            throwaway DynamoDB data (default: persisted under --data-dir)
  --data-dir DIR         where DynamoDB data and local credentials live (default .data)
  --port N               HTTP API port (default 3000; 0 = any free port)
  --dynamodb-port N      DynamoDB Local port (default: any free port)
  --sqs-port N           SQS server port (default: any free port)
  --images N             images each simulator starts with (default 50)
  --sync-every SECONDS   run the scheduled syncs this often instead of their schedule
  --no-initial-sync      don't sync once at start-up
  -h, --help`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      "in-memory": { type: "boolean", default: false },
      "data-dir": { type: "string", default: ".data" },
      port: { type: "string", default: "3000" },
      "dynamodb-port": { type: "string" },
      "sqs-port": { type: "string" },
      images: { type: "string", default: "50" },
      "sync-every": { type: "string" },
      "no-initial-sync": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const integer = (name: string, value: string | undefined, min: number, max: number) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
  return {
    help: values.help,
    inMemory: values["in-memory"],
    dataDir: resolve(values["data-dir"]),
    port: integer("port", values.port, 0, 65535) as number,
    dynamoPort: integer("dynamodb-port", values["dynamodb-port"], 1, 65535),
    sqsPort: integer("sqs-port", values["sqs-port"], 1, 65535),
    images: integer("images", values.images, 0, 200_000) as number,
    syncEveryMs: (integer("sync-every", values["sync-every"], 1, 86_400) ?? 0) * 1000 || undefined,
    initialSync: !values["no-initial-sync"],
  };
}

/** A file under the data dir that keeps its content across restarts (created 0600 on first use). */
function persistent(dataDir: string, name: string, create: () => string): { path: string; value: string } {
  const path = join(dataDir, name);
  if (!existsSync(path)) writeFileSync(path, create(), { mode: 0o600 });
  return { path, value: readFileSync(path, "utf8") };
}

async function main(options: ReturnType<typeof parseOptions>): Promise<void> {
  if (options.help) return console.log(usage);

  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      console.log("Forced exit.");
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping (Ctrl-C again to force) ...`);
    removeRuntimeInfo(options.dataDir);
    for (const stop of stops.toReversed()) await stop().catch((error: unknown) => console.error("shutdown step failed:", error));
    console.log("Stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const dynamoDir = options.inMemory ? undefined : join(options.dataDir, "dynamodb");
  const [dynamo, sqsServer] = await Promise.all([
    startDynamoDbLocal({ port: options.dynamoPort, dataDir: dynamoDir }),
    startSqsLocal({ port: options.sqsPort }),
  ]);
  stops.push(dynamo.stop, sqsServer.stop);

  // The handlers find the local servers exactly as the SDK finds AWS: through the standard variables.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  });
  const { dynamoClient, sqsClient } = await import("../core/aws");
  await provisionTable(dynamoClient(), inventoryTable.name);
  const queues = await provisionQueues(sqsClient());

  const tritonKey = persistent(options.dataDir, "triton-sim-key.pem", () => generateKeyPair("ed25519").privateKeyPem);
  const [triton, coxedge] = await Promise.all([
    startTritonSimulator({ privateKey: tritonKey.value, images: options.images }),
    startCoxEdgeSimulator({ apiKey: persistent(options.dataDir, "coxedge-sim-api-key", () => randomBytes(18).toString("base64url")).value, catalog: { images: options.images } }),
  ]);
  // A second datacenter of the same Triton account, so images can be copied between datacenters.
  const tritonWest = await startTritonSimulator({ cloud: triton.cloud, images: Math.ceil(options.images / 5) });
  stops.push(triton.close, tritonWest.close, coxedge.close);

  // Sources default to the simulators; IMAGESYNC_*_SOURCES in the environment point at real clouds instead.
  const tritonSources = process.env.IMAGESYNC_TRITON_SOURCES ??
    JSON.stringify([triton, tritonWest].map((dc) => ({ datacenter: dc.datacenterName, url: dc.url, account: dc.account, keyId: dc.keyId, privateKeyPath: tritonKey.path })));
  const coxedgeSources = process.env.IMAGESYNC_COXEDGE_SOURCES ??
    JSON.stringify([{ baseUrl: coxedge.url, service: coxedge.service, environment: coxedge.environment, apiKey: coxedge.apiKey }]);
  const apiToken = process.env.IMAGESYNC_API_TOKEN ?? persistent(options.dataDir, "api-token", () => randomBytes(24).toString("base64url")).value;
  const files = {
    tritonSourcesFile: join(options.dataDir, "triton-sources.json"),
    coxedgeSourcesFile: join(options.dataDir, "coxedge-sources.json"),
    apiTokenFile: join(options.dataDir, "api-token"),
  };
  writeFileSync(files.tritonSourcesFile, tritonSources, { mode: 0o600 });
  writeFileSync(files.coxedgeSourcesFile, coxedgeSources, { mode: 0o600 });
  writeFileSync(files.apiTokenFile, apiToken, { mode: 0o600 });

  // What SST's Resource links carry on Lambda; the handlers read them through the same `Resource` proxy.
  const links: Record<string, object> = {
    App: { name: "imagesync", stage: "local" },
    [inventoryTable.name]: { name: inventoryTable.name, type: "sst.aws.Dynamo" },
    [jobQueue.name]: { url: queues.jobQueueUrl, type: "sst.aws.Queue" },
    [jobQueue.deadLetterName]: { url: queues.deadLetterQueueUrl, type: "sst.aws.Queue" },
    TritonSources: { value: tritonSources, type: "sst.sst.Secret" },
    CoxEdgeSources: { value: coxedgeSources, type: "sst.sst.Secret" },
    ApiToken: { value: apiToken, type: "sst.sst.Secret" },
  };
  for (const [name, value] of Object.entries(links)) process.env[`SST_RESOURCE_${name}`] = JSON.stringify(value);
  process.env.POWERTOOLS_LOG_LEVEL ??= "INFO";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";

  // Imported only now: handler modules may read configuration when they load.
  const [api, jobs, syncTriton, syncCoxedge] = await Promise.all([
    import("../../functions/api"),
    import("../../functions/jobs"),
    import("../../functions/sync-triton"),
    import("../../functions/sync-coxedge"),
  ]);
  const syncHandlers = { triton: syncTriton.handler, coxedge: syncCoxedge.handler };
  const logError = (what: string) => (error: unknown) => console.error(`${what}:`, error);

  const http = await startHttpAdapter({
    handler: api.handler,
    routes: apiRoutes,
    port: options.port,
    settings: { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds },
    onError: logError(apiFunction.name),
  });
  stops.push(http.close);

  const poller = startSqsPoller({
    sqs: sqsClient(),
    queueUrl: queues.jobQueueUrl,
    queueArn: queues.jobQueueArn,
    handler: jobs.handler,
    settings: { functionName: jobWorkerFunction.name, timeoutSeconds: jobQueue.handlerTimeoutSeconds },
    batchSize: jobQueue.batchSize,
    reportBatchItemFailures: true,
    // local-aws-sqs can hand one message to two concurrent receivers; one poller keeps deliveries honest.
    concurrency: 1,
    onBatch: ({ error }) => error && logError(jobWorkerFunction.name)(error),
  });
  stops.push(poller.stop);

  const schedules: Schedule[] = providers.map((provider) =>
    startSchedule({
      expression: syncSchedule(provider),
      intervalMs: options.syncEveryMs,
      event: syncEvent(provider),
      handler: syncHandlers[provider],
      settings: { functionName: syncFunctions[provider].name, timeoutSeconds: syncHandlerTimeoutSeconds },
      onResult: ({ error }) => error && logError(syncFunctions[provider].name)(error),
    }),
  );
  stops.push(...schedules.map((s) => s.stop));

  writeRuntimeInfo(options.dataDir, {
    pid: process.pid,
    apiUrl: http.url,
    dynamoEndpoint: dynamo.endpoint,
    sqsEndpoint: sqsServer.endpoint,
    region: process.env.AWS_REGION as string,
    tableName: inventoryTable.name,
    jobQueueUrl: queues.jobQueueUrl,
    deadLetterQueueUrl: queues.deadLetterQueueUrl,
    ...files,
  });

  const every = (provider: (typeof providers)[number]) =>
    options.syncEveryMs ? `every ${options.syncEveryMs / 1000} s` : syncSchedule(provider);
  console.log(`
imagesync local runtime is up (all on 127.0.0.1)
  HTTP API        ${http.url}   bearer token: ${apiToken}
  DynamoDB Local  ${dynamo.endpoint}   table ${inventoryTable.name} (${dynamoDir ? `data in ${dynamoDir}` : "in memory"})
  SQS             ${sqsServer.endpoint}   queues ${jobQueue.name}, ${jobQueue.deadLetterName}
  Triton sim      ${triton.url} (${triton.datacenterName}), ${tritonWest.url} (${tritonWest.datacenterName})
                  account ${triton.account}, key ${tritonKey.path} (${triton.keyId})
  Cox Edge sim    ${coxedge.url}   ${coxedge.service}/${coxedge.environment}, MC-Api-Key ${coxedge.apiKey}
  Schedules       ${syncFunctions.triton.name} ${every("triton")}, ${syncFunctions.coxedge.name} ${every("coxedge")}

  Try: curl -H "authorization: Bearer ${apiToken}" ${http.url}/images
  Ctrl-C to stop.
`);
  if (options.initialSync) await Promise.all(schedules.map((s) => s.runNow()));
}

runCommand("imagesync local runtime", usage, parseOptions, main);
