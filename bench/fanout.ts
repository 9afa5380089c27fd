/**
 * Sync fan-out (one source per sync-queue message): the wall time of a no-change sync of 20 Cox Edge sources
 * of 5k images against 1 such source, both through the sync queue and the worker at its default concurrency;
 * and the peak memory (the process's max RSS, from the kernel) of a worker syncing one source of 10k and of
 * 100k images, of one worker taking 20 sources of 5k one message at a time, and of the old way, one process
 * syncing the 20 at once. Each memory figure comes from a fresh child process. The sources' state digests
 * are written from the listing first, so every sync is a no-change sync that reads the digest.
 * Standalone: `npx tsx bench/fanout.ts`.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { syncConcurrency, syncWorkerFunctions } from "../packages/core/resources";
import { startDynamoDbLocal } from "../packages/local/dynamodb-local";
import { provisionSyncQueues, provisionTable } from "../packages/local/provision";
import { localSdkEnvironment } from "../packages/local/sdk-env";
import { startSqsLocal } from "../packages/local/sqs-local";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../packages/simulators/coxedge/simulator";
import { markdownTable } from "./table";

const tableName = "BenchFanout";
const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const sourceId = (catalog: string, index: number) => `coxedge-${catalog}-${String(index).padStart(2, "0")}`;

/** `count` sources of one simulator's environment (the same images under separate ids), primed with digests. */
async function configureSources(sims: Record<string, CoxEdgeSimulator>, layout: Record<string, number>): Promise<void> {
  const sources = Object.entries(layout).flatMap(([catalog, count]) =>
    Array.from({ length: count }, (_, index) => {
      const sim = sims[catalog] as CoxEdgeSimulator;
      return { id: sourceId(catalog, index), baseUrl: sim.url, service: sim.service, environment: sim.environment, apiKey: sim.apiKey, timeoutMs: 120_000 };
    }),
  );
  process.env.IMAGESYNC_COXEDGE_SOURCES = JSON.stringify(sources);
  const [{ CoxEdgeClient }, { toSnapshot }, { writeStateDigest }, { configuredTable }] = await Promise.all([
    import("../packages/providers/coxedge/client"),
    import("../packages/sync/sources"),
    import("../packages/store/state-digest"),
    import("../packages/store/table"),
  ]);
  for (const [catalog, count] of Object.entries(layout)) {
    const { id: _id, ...connection } = sources.find((source) => source.id === sourceId(catalog, 0))!;
    const client = new CoxEdgeClient(connection);
    const { images } = toSnapshot((await client.listImages()).map((image) => ({ provider: "coxedge" as const, image })));
    await client.close();
    const state = new Map(images.map((image) => [image.upstreamId, { contentHash: image.contentHash, lastSeenAt: "" }]));
    for (let index = 0; index < count; index++) {
      await writeStateDigest(configuredTable(), { sourceId: sourceId(catalog, index), runId: "bench", invalidations: 0, state, tombstonesAfter: "2000-01-01" });
    }
  }
}

/** Wall time of syncing `sourceIds` through the queue and the worker pollers (median of 3). */
async function queuedWall(sourceIds: string[] | undefined): Promise<number> {
  const [{ ConfigLoader }, { sqsClient }, { enqueueSourceSyncs, waitForQueuedRuns }, { configuredTable }] = await Promise.all([
    import("../packages/core/config"),
    import("../packages/core/aws"),
    import("../packages/sync/fanout"),
    import("../packages/store/table"),
  ]);
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const config = new ConfigLoader();
    const queued = sourceIds
      ? (await Promise.all(sourceIds.map((id) => enqueueSourceSyncs("coxedge", { sourceId: id, trigger: "manual" }, config, sqsClient())))).flat()
      : await enqueueSourceSyncs("coxedge", { trigger: "manual" }, config, sqsClient());
    const runs = await waitForQueuedRuns(configuredTable(config), queued, { deadline: Date.now() + 600_000, pollMs: 50 });
    const odd = runs.find((recorded) => recorded.status !== "ok" || recorded.writes !== 0);
    if (odd) throw new Error(`a run was not a no-change ok run: ${JSON.stringify(odd)}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** A child process's peak RSS above its RSS before the work, in MB (asynchronously: the simulators here serve it). */
async function childPeakMb(mode: string, env: Record<string, string>): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    env: { ...process.env, ...env, IMAGESYNC_BENCH_FANOUT_CHILD: mode },
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  return Number(stdout.trim().split("\n").at(-1));
}

export async function run(): Promise<void> {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
  const sims = {
    "5k": await startCoxEdgeSimulator({ catalog: { images: 5_000, seed: 5 } }),
    "10k": await startCoxEdgeSimulator({ catalog: { images: 10_000, seed: 10 } }),
    "100k": await startCoxEdgeSimulator({ catalog: { images: 100_000, seed: 100 } }),
  };
  Object.assign(process.env, localSdkEnvironment({ dynamo: dynamo.endpoint, sqs: sqs.endpoint }), {
    IMAGESYNC_TABLE_NAME: tableName,
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
  });
  const [{ dynamoClient, sqsClient }, { startSqsPoller }, { handler }] = await Promise.all([
    import("../packages/core/aws"),
    import("../packages/local/adapters/sqs"),
    import("../functions/sync-coxedge-worker"),
  ]);
  await provisionTable(dynamoClient(), tableName);
  const queues = await provisionSyncQueues(sqsClient());
  process.env[syncWorkerFunctions.coxedge.queueEnv] = queues.coxedge.queueUrl;
  try {
    await configureSources(sims, { "5k": 20, "10k": 1, "100k": 1 });
    const concurrency = syncConcurrency();
    const workers = (count: number) =>
      startSqsPoller({
        sqs: sqsClient(), queueUrl: queues.coxedge.queueUrl, queueArn: queues.coxedge.queueArn, handler,
        settings: { functionName: syncWorkerFunctions.coxedge.name, timeoutSeconds: 600 }, batchSize: 1, reportBatchItemFailures: true, concurrency: count,
      });
    console.log(`Sync fan-out, Cox Edge simulator, DynamoDB Local and SQS server on 127.0.0.1, Node ${process.version}, 2 cores; no-change syncs reading each source's digest; locally every worker shares one Node process (on Lambda each invocation has its own)`);
    const twentyIds = Array.from({ length: 20 }, (_, index) => sourceId("5k", index));
    // Pollers are only ever added: stopping one in the middle of a receive would hide a message for the
    // visibility timeout.
    const pollers = [workers(1)];
    const walls: [string, number][] = [["1 × 5k", await queuedWall([sourceId("5k", 0)])], ["20 × 5k, worker concurrency 1", await queuedWall(twentyIds)]];
    pollers.push(workers(concurrency - 1));
    walls.push([`20 × 5k, worker concurrency ${concurrency}`, await queuedWall(twentyIds)]);
    await Promise.all(pollers.map((poller) => poller.stop()));
    const one = walls[0]?.[1] as number;
    console.log(markdownTable(["sources × images", "wall (median of 3)", "÷ one source"], walls.map(([what, ms]) => [what, `${Math.round(ms)} ms`, (ms / one).toFixed(2)])));
    const childEnv = { [syncWorkerFunctions.coxedge.queueEnv]: queues.coxedge.queueUrl };
    const rows = [
      ["worker, one source of 5k", await childPeakMb(`one:${sourceId("5k", 0)}`, childEnv)],
      ["worker, one source of 10k", await childPeakMb(`one:${sourceId("10k", 0)}`, childEnv)],
      ["worker, one source of 100k", await childPeakMb(`one:${sourceId("100k", 0)}`, childEnv)],
      ["worker, 20 sources of 5k, one message at a time", await childPeakMb("queue:20", childEnv)],
      ["one process syncing the 20 sources of 5k at once (before fan-out)", await childPeakMb("all", childEnv)],
    ];
    console.log(markdownTable(["peak memory of", "max RSS above start"], rows.map(([what, mb]) => [String(what), `${Math.round(Number(mb))} MB`])));
  } finally {
    await Promise.all(Object.values(sims).map((sim) => sim.close()));
    await Promise.all([dynamo.stop(), sqs.stop()]);
  }
}

/** In a child: do the one piece of work the parent asked for, then print the peak RSS growth in MB. */
async function child(mode: string): Promise<void> {
  const [{ ConfigLoader }, { sqsClient }, fanout, engine] = await Promise.all([
    import("../packages/core/config"),
    import("../packages/core/aws"),
    import("../packages/sync/fanout"),
    import("../packages/sync/engine"),
  ]);
  const config = new ConfigLoader();
  const before = process.memoryUsage().rss;
  const deadline = Date.now() + 600_000;
  if (mode.startsWith("one:")) {
    await fanout.syncQueuedSource({ provider: "coxedge", sourceId: mode.slice(4), trigger: "manual", requestedAt: new Date().toISOString() }, deadline, config);
  } else if (mode === "all") {
    const ids = config.coxedgeSources().map((source) => source.id).filter((id) => id.startsWith("coxedge-5k-"));
    await Promise.all(ids.map((id) => engine.syncProvider("coxedge", { sourceId: id, deadline, trigger: "manual" }, config)));
  } else {
    const [{ startSqsPoller }, { handler }] = await Promise.all([import("../packages/local/adapters/sqs"), import("../functions/sync-coxedge-worker")]);
    const queued = (await Promise.all(Array.from({ length: 20 }, (_, index) => fanout.enqueueSourceSyncs("coxedge", { sourceId: sourceId("5k", index), trigger: "manual" }, config, sqsClient())))).flat();
    const queueUrl = config.syncQueueUrl("coxedge");
    const poller = startSqsPoller({ sqs: sqsClient(), queueUrl, queueArn: "arn:aws:sqs:local:000000000000:bench", handler, settings: { functionName: "bench", timeoutSeconds: 600 }, batchSize: 1, reportBatchItemFailures: true, concurrency: 1 });
    const { configuredTable } = await import("../packages/store/table");
    await fanout.waitForQueuedRuns(configuredTable(config), queued, { deadline, pollMs: 100 });
    await poller.stop();
  }
  // maxRSS is in KiB and covers the whole life of the process; the work is what raised it above `before`.
  console.log(((process.resourceUsage().maxRSS * 1024 - before) / 1_048_576).toFixed(1));
}

const childMode = process.env.IMAGESYNC_BENCH_FANOUT_CHILD;
if (childMode) {
  await child(childMode);
  process.exit(0);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run();
  process.exit(0);
}
