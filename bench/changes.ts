/**
 * Change history lag and throughput: a first sync of 10k Triton images (IMAGESYNC_BENCH_CHANGE_IMAGES), a
 * sync with ~1% changed and one with nothing changed, with the real Changes function fed by the local
 * streams adapter (DynamoDB Local's Streams API, polled every 250 ms like `npm start`). Lag is from an image
 * write's response to its change record's write response, both seen by one DynamoDB client middleware.
 * Records/s end to end: change records over the time from the sync's first image write to the last record;
 * of function time: over the time the Changes function itself ran (its capacity, one shard).
 * Standalone: `npx tsx bench/changes.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DynamoDBRecord } from "aws-lambda";
import { startDynamoDbLocal } from "../packages/local/dynamodb-local";
import { provisionTable } from "../packages/local/provision";
import { localSdkEnvironment } from "../packages/local/sdk-env";
import { startTritonSimulator } from "../packages/simulators/triton/simulator";
import { markdownTable } from "./table";

interface Phase {
  name: string;
  imageWrites: number;
  streamImageRecords: number;
  changeRecords: number;
  /** Change records per second of the Changes function's own running time: its capacity. */
  handlerRecordsPerSecond: number;
  lagP50: number;
  lagP99: number;
  recordsPerSecond: number;
}

const quantile = (values: number[], q: number) => values.toSorted((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;

export async function run(): Promise<void> {
  const images = Number(process.env.IMAGESYNC_BENCH_CHANGE_IMAGES ?? 10_000);
  const dataDir = mkdtempSync(join(tmpdir(), "imagesync-bench-changes-"));
  const dynamo = await startDynamoDbLocal();
  const triton = await startTritonSimulator({ images, seed: images });
  // The Changes function and the sync read these, as on Lambda; set before their modules load.
  Object.assign(process.env, {
    ...localSdkEnvironment({ dynamo: dynamo.endpoint }),
    IMAGESYNC_TABLE_NAME: "BenchChanges", IMAGESYNC_EVENTS_FILE: join(dataDir, "events.jsonl"),
    IMAGESYNC_TRITON_SOURCES: JSON.stringify([{ id: "triton-bench", datacenter: "bench", url: triton.url, account: triton.account, keyId: triton.keyId, privateKey: triton.privateKeyPem, timeoutMs: 60_000, maxAttempts: 1, concurrency: 4 }]),
  });
  const [{ dynamoClient }, { ConfigLoader }, { syncProvider }, { handler }, { startStreamPoller }] = await Promise.all([
    import("../packages/core/aws"),
    import("../packages/core/config"),
    import("../packages/sync/engine"),
    import("../functions/changes"),
    import("../packages/local/adapters/streams"),
  ]);
  await provisionTable(dynamoClient(), "BenchChanges");
  const writes = recordWrites(dynamoClient());
  let imageRecords = 0;
  let handlerMs = 0;
  const poller = await startStreamPoller({
    dynamo: dynamoClient(),
    tableName: "BenchChanges",
    handler: async (event, context) => {
      imageRecords += event.Records.filter(isImageRecord).length;
      const started = performance.now();
      try {
        return await handler(event, context);
      } finally {
        handlerMs += performance.now() - started;
      }
    },
    settings: { functionName: "Changes", timeoutSeconds: 60 },
    batchSize: 100,
    maxRetryAttempts: 5,
  });
  const phase = async (name: string, before: () => void): Promise<Phase> => {
    before();
    writes.reset();
    imageRecords = 0;
    handlerMs = 0;
    const [result] = await syncProvider("triton", { deadline: Date.now() + 600_000, trigger: "manual" }, new ConfigLoader());
    if (result?.status !== "ok") throw new Error(`${name}: sync ${result?.status}: ${result?.error}`);
    await poller.drained();
    const summary = writes.summary();
    return { name, streamImageRecords: imageRecords, ...summary, handlerRecordsPerSecond: handlerMs > 0 ? summary.changeRecords / (handlerMs / 1000) : 0 };
  };
  try {
    console.log(`Change history, ${images} Triton images, DynamoDB Local in memory, Node ${process.version}; stream polled every 250 ms`);
    const phases = [
      await phase("first sync", () => undefined),
      await phase("1% changed", () => triton.mutateImages(0.01, { seed: 1 })),
      await phase("no change", () => undefined),
    ];
    console.log(markdownTable(
      ["sync", "image writes", "image stream records", "change records", "lag p50", "lag p99", "records/s end to end", "records/s of function time"],
      phases.map((p) => [
        p.name, String(p.imageWrites), String(p.streamImageRecords), String(p.changeRecords), `${Math.round(p.lagP50)} ms`, `${Math.round(p.lagP99)} ms`,
        String(Math.round(p.recordsPerSecond)), String(Math.round(p.handlerRecordsPerSecond)),
      ]),
    ));
  } finally {
    await poller.stop();
    await triton.close();
    await dynamo.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function isImageRecord(record: DynamoDBRecord): boolean {
  return (record.dynamodb?.NewImage ?? record.dynamodb?.OldImage)?.kind?.S === "image";
}

type Client = ReturnType<typeof import("../packages/core/aws").dynamoClient>;

/** When each image write and each change record write was answered, by image; lag pairs them up. */
function recordWrites(client: Client) {
  const imageWrittenAt = new Map<string, number>();
  const changeWrittenAt = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      // Document client commands may arrive marshalled or not, depending on where the middleware sits.
      const input = args.input as { Key?: Record<string, unknown>; Item?: Record<string, unknown> };
      const text = (value: unknown) => String(typeof value === "object" && value !== null ? (value as { S?: string }).S : value);
      const item = input.Item ?? input.Key ?? {};
      const pk = text(item.pk);
      if (context.commandName === "PutItemCommand" && text(item.kind) === "change") changeWrittenAt.set(`${text(item.sourceId)}#${text(item.upstreamId)}`, performance.now());
      else if (pk.startsWith("IMAGE#")) imageWrittenAt.set(`${pk.split("#")[2]}#${text(item.sk)}`, performance.now());
      return result;
    },
    { step: "initialize", name: "benchChangeLag" },
  );
  return {
    reset() {
      imageWrittenAt.clear();
      changeWrittenAt.clear();
    },
    summary() {
      const lags = [...changeWrittenAt].flatMap(([key, at]) => (imageWrittenAt.has(key) ? [at - (imageWrittenAt.get(key) as number)] : []));
      const times = [...changeWrittenAt.values()];
      const firstImage = Math.min(...imageWrittenAt.values());
      const seconds = times.length ? (Math.max(...times) - firstImage) / 1000 : 0;
      return {
        imageWrites: imageWrittenAt.size,
        changeRecords: changeWrittenAt.size,
        lagP50: quantile(lags, 0.5),
        lagP99: quantile(lags, 0.99),
        recordsPerSecond: seconds > 0 ? changeWrittenAt.size / seconds : 0,
      };
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  await run();
  process.exit(0);
}
