/**
 * The inventory the API and partition benchmarks share, made once per process: IMAGESYNC_BENCH_API_IMAGES
 * (default 100k) generated images in 10 sources (6 Triton, 4 Cox Edge), written into DynamoDB Local (in
 * memory) the way a first sync writes them — `writeImageChanges` with the sync's 32 writes in flight per
 * source, every source at once, at full speed — and a successful run recorded for each source. Every write
 * is recorded by a client middleware: when it finished, how long it took, the keys it wrote and the write
 * units DynamoDB charged the table and each index (and, for a sample, the whole item, for its size).
 * DynamoDB Local is left running: it stops with this process.
 */
import { DynamoDBClient, type ConsumedCapacity } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { startDynamoDbLocal } from "../packages/local/dynamodb-local";
import { provisionTable } from "../packages/local/provision";
import { writeImageChanges } from "../packages/store/inventory";
import { normaliseImage } from "../packages/store/normalise";
import { emptyCounts, recordRun } from "../packages/store/runs";
import type { Table } from "../packages/store/table";
import { generatedSource, type GeneratedSource } from "./catalog";

export const benchImages = Number(process.env.IMAGESYNC_BENCH_API_IMAGES ?? 100_000);
/** The sync's writes in flight per source (packages/sync/engine.ts). */
export const writesInFlightPerSource = 32;
const layout = [...Array.from({ length: 6 }, (_, i) => ["triton", `triton-bench-${i + 1}`] as const), ...Array.from({ length: 4 }, (_, i) => ["coxedge", `coxedge-bench-${i + 1}`] as const)];
/** Every this many writes, the whole item is kept too. */
const sampleEvery = 50;

export interface RecordedWrite {
  /** When the write's answer arrived, in ms since the writes began. */
  finishedMs: number;
  latencyMs: number;
  /** The attributes that key the written item and its change record, as the write set them. */
  keys: Record<"pk" | "gsi1pk" | "gsi2pk" | "provider" | "sourceId" | "upstreamId" | "os" | "lastChangedAt", string | undefined>;
  /** Write units charged, by `table` and index name. */
  units: Record<string, number>;
  /** The whole item as written, for one write in `sampleEvery`. */
  sample?: Record<string, unknown>;
}

export interface FirstSync {
  endpoint: string;
  client: DynamoDBClient;
  table: Table;
  sources: GeneratedSource[];
  writes: RecordedWrite[];
  wallMs: number;
  /** CPU time this process spent while writing (requests, middleware; the listing's normalisation was before). */
  cpuMs: number;
}

let made: Promise<FirstSync> | undefined;

export function firstSyncInventory(): Promise<FirstSync> {
  made ??= makeInventory();
  return made;
}

function unitsOf(capacity: ConsumedCapacity | undefined): Record<string, number> {
  const indexes = Object.entries(capacity?.GlobalSecondaryIndexes ?? {}).map(([name, used]) => [name, used.CapacityUnits ?? 0]);
  return { table: capacity?.Table?.CapacityUnits ?? 0, ...Object.fromEntries(indexes) };
}

const keyNames = ["pk", "gsi1pk", "gsi2pk", "provider", "sourceId", "upstreamId", "os", "lastChangedAt"] as const;

/** The values an UpdateItem sets (`SET #name = :value, ...`) and its key, by attribute name. */
function writtenValues(input: { Key?: Record<string, unknown>; UpdateExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }): Record<string, unknown> {
  const values: Record<string, unknown> = { ...input.Key };
  for (const [, name, value] of (input.UpdateExpression ?? "").matchAll(/(#\w+) = (:\w+)/g)) {
    values[input.ExpressionAttributeNames?.[name as string] ?? ""] = input.ExpressionAttributeValues?.[value as string];
  }
  return values;
}

/**
 * Records every UpdateItem, until stopped, with the keys and values it set and the capacity it used (at
 * `initialize`, in plain values); for one in `sampleEvery` it also asks for the whole item as written.
 */
function recordWrites(client: DynamoDBClient, writes: RecordedWrite[]): { stop(): void } {
  const started = performance.now();
  let recording = true;
  let requests = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!recording || context.commandName !== "UpdateItemCommand") return next(args);
      const input = args.input as Parameters<typeof writtenValues>[0] & { ReturnValues?: string; ReturnConsumedCapacity?: string };
      const sampled = requests++ % sampleEvery === 0;
      Object.assign(input, { ReturnConsumedCapacity: "INDEXES", ...(sampled ? { ReturnValues: "ALL_NEW" } : {}) });
      const set = writtenValues(input);
      const sent = performance.now();
      const result = await next(args);
      const output = result.output as { Attributes?: Record<string, unknown>; ConsumedCapacity?: ConsumedCapacity };
      writes.push({
        finishedMs: performance.now() - started,
        latencyMs: performance.now() - sent,
        keys: Object.fromEntries(keyNames.map((name) => [name, typeof set[name] === "string" ? set[name] : undefined])) as RecordedWrite["keys"],
        units: unitsOf(output.ConsumedCapacity),
        ...(sampled ? { sample: output.Attributes } : {}),
      });
      return result;
    },
    { step: "initialize", name: "benchWriteRecorder" },
  );
  return { stop: () => void (recording = false) };
}

async function makeInventory(): Promise<FirstSync> {
  const dynamo = await startDynamoDbLocal({ sustained: true });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    // Every source's writes in flight at once, as when each source syncs in its own function (the default is 50 sockets).
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: writesInFlightPerSource * layout.length } },
  });
  const table = {
    client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } }),
    name: "BenchInventory",
  };
  await provisionTable(client, table.name);
  const perSource = Math.round(benchImages / layout.length);
  const sources = layout.map(([provider, sourceId], i) => generatedSource(provider, sourceId, perSource, i + 1));
  // The listing's work (validation, normalisation, hashing) comes before the writes and is not timed.
  const changes = sources.map((source) => source.documents.map((document) => ({ kind: "add" as const, image: normaliseImage(document) })));
  const writes: RecordedWrite[] = [];
  const observedAt = new Date().toISOString();
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  const recorder = recordWrites(client, writes);
  const reports = await Promise.all(
    sources.map(({ provider, sourceId }, i) =>
      writeImageChanges(table, { provider, sourceId }, changes[i] ?? [], { observedAt, retentionDays: 30, concurrency: writesInFlightPerSource, deadline: Infinity, cause: "sync:bench" }),
    ),
  );
  const wallMs = performance.now() - startedAt;
  const used = process.cpuUsage(cpu);
  recorder.stop();
  const failed = reports.reduce((sum, report) => sum + report.failures.length, 0);
  if (failed) throw new Error(`first sync: ${failed} writes failed`);
  for (const { provider, sourceId, documents } of sources) {
    await recordRun(table, {
      provider, sourceId, runId: "bench", trigger: "manual", status: "ok", startedAt: observedAt, finishedAt: new Date().toISOString(),
      durationMs: Math.round(wallMs), snapshotAt: observedAt, counts: { ...emptyCounts(), seen: documents.length, added: documents.length }, writes: documents.length, superseded: 0,
    });
  }
  console.log(`first sync of ${writes.length} images in ${sources.length} sources: ${(wallMs / 1000).toFixed(1)} s`);
  return { endpoint: dynamo.endpoint, client, table, sources, writes, wallMs, cpuMs: (used.user + used.system) / 1000 };
}
