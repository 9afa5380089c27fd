/**
 * HTTP API read latency and throughput: 100k images (IMAGESYNC_BENCH_API_IMAGES) in DynamoDB Local, the
 * deployed handler wiring behind the local API Gateway adapter in its own process, autocannon against it.
 * Three requests: an unfiltered page (default limit 100), a filtered page (os + state) and get-by-id, each
 * against the handler as configured (1 s read cache, so a hot URL is mostly served from memory) and with
 * the cache off (every request reads DynamoDB Local). Goal: p99 ≤ 25 ms and ≥ 1,000 req/s.
 * Standalone: `npx tsx bench/api.ts`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import autocannon from "autocannon";
import { apiFunction, apiRoutes, type Provider } from "../packages/core/resources";
import { startDynamoDbLocal } from "../packages/local/dynamodb-local";
import { provisionTable } from "../packages/local/provision";
import { environmentStack, generateCatalog } from "../packages/simulators/coxedge/catalog";
import { SeededRandom } from "../packages/simulators/kit";
import { TritonImageSchema } from "../packages/providers/triton/schemas";
import { generateImage } from "../packages/simulators/triton/catalog";
import { translate } from "../packages/simulators/triton/model";
import { writeImageChanges } from "../packages/store/inventory";
import { normaliseImage, type UpstreamDocument } from "../packages/store/normalise";
import { emptyCounts, recordRun } from "../packages/store/runs";

const images = Number(process.env.IMAGESYNC_BENCH_API_IMAGES ?? 100_000);
const durationSeconds = Number(process.env.IMAGESYNC_BENCH_API_SECONDS ?? 8);
const connections = 10;

/** 35% and 35% in two Triton datacenters, 30% in a Cox Edge environment, all generated like the simulators do. */
function catalog(): { provider: Provider; sourceId: string; documents: UpstreamDocument[] }[] {
  const triton = (sourceId: string, count: number, seed: number) => {
    const random = new SeededRandom(seed);
    const context = { random, accountUuid: random.uuid(), adminUuid: random.uuid(), otherOwners: [random.uuid(), random.uuid()], startIndex: 0, origins: [] };
    const documents = Array.from({ length: count }, (_, i): UpstreamDocument => ({
      provider: "triton",
      image: TritonImageSchema.parse(translate(generateImage(context, i), [9, 0])),
    }));
    return { provider: "triton" as const, sourceId, documents };
  };
  const tritonCount = Math.round(images * 0.35);
  const coxedge = generateCatalog({ images: images - 2 * tritonCount, seed: 3 }, environmentStack("bench"));
  return [
    triton("triton-bench-1", tritonCount, 1),
    triton("triton-bench-2", tritonCount, 2),
    { provider: "coxedge", sourceId: "coxedge-bench", documents: coxedge.map((image) => ({ provider: "coxedge", image })) },
  ];
}

interface Row {
  request: string;
  cache: string;
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
  kbPerResponse: number;
}

async function measure(url: string, path: string, token: string): Promise<Omit<Row, "request" | "cache">> {
  const options = { url: `${url}${path}`, connections, headers: { authorization: `Bearer ${token}` } };
  const probe = await fetch(options.url, { headers: options.headers });
  if (probe.status !== 200) throw new Error(`GET ${path} answered ${probe.status}: ${await probe.text()}`);
  await autocannon({ ...options, duration: 2 }); // warm-up: JIT, connections, DynamoDB Local's caches
  const result = await autocannon({ ...options, duration: durationSeconds });
  const responses = result.requests.total || 1;
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: Math.round(result.requests.average),
    non2xx: result.non2xx + result.errors + result.timeouts,
    kbPerResponse: Math.round(result.throughput.total / responses / 102.4) / 10,
  };
}

/** The API server process: the same handler with and without the read cache, on two ports. */
async function serve(): Promise<void> {
  const [{ startHttpAdapter }, { createHandler }, { ConfigLoader }] = await Promise.all([
    import("../packages/local/adapters/http"),
    import("../functions/api"),
    import("../packages/core/config"),
  ]);
  const settings = { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds };
  const [cached, uncached] = await Promise.all(
    [undefined, 0].map((cacheTtlMs) =>
      startHttpAdapter({ handler: createHandler(new ConfigLoader(), cacheTtlMs === undefined ? {} : { cacheTtlMs }), routes: apiRoutes, settings }),
    ),
  );
  console.log(JSON.stringify({ cached: cached?.url, uncached: uncached?.url }));
  // Ends with its parent.
  process.stdin.resume().on("end", () => process.exit(0));
}

export async function run(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  const token = randomBytes(24).toString("base64url");
  const local = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
  // Own clients, not the process-wide ones: other benchmarks in this process use other servers.
  const dynamoClient = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: local.AWS_REGION,
    credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID, secretAccessKey: local.AWS_SECRET_ACCESS_KEY },
  });
  const table = {
    client: DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } }),
    name: "BenchInventory",
  };
  let server: ReturnType<typeof spawn> | undefined;
  try {
    await provisionTable(dynamoClient, table.name);
    const seedStarted = performance.now();
    const sources = catalog();
    const observedAt = new Date().toISOString();
    for (const { provider, sourceId, documents } of sources) {
      const changes = documents.map((document) => ({ kind: "add" as const, image: normaliseImage(document) }));
      const report = await writeImageChanges(table, { provider, sourceId }, changes, { observedAt, retentionDays: 30, concurrency: 32, deadline: Infinity, cause: "sync:bench" });
      if (report.failures.length) throw new Error(`seeding ${sourceId}: ${report.failures.length} writes failed`);
      await recordRun(table, {
        provider, sourceId, runId: "seed", trigger: "manual", status: "ok", startedAt: observedAt, finishedAt: new Date().toISOString(),
        durationMs: 0, snapshotAt: observedAt, counts: { ...emptyCounts(), seen: documents.length, added: documents.length }, writes: documents.length, superseded: 0,
      });
    }
    console.log(`seeded ${images} images in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

    server = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
      env: {
        ...process.env,
        ...local,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        IMAGESYNC_TABLE_NAME: table.name,
        IMAGESYNC_API_TOKEN: token,
        POWERTOOLS_LOG_LEVEL: "ERROR",
        POWERTOOLS_METRICS_DISABLED: "true",
        IMAGESYNC_BENCH_API_SERVE: "1",
      },
      stdio: ["pipe", "pipe", "inherit"],
    });
    const urls = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: server?.stdout as NodeJS.ReadableStream }).once("line", resolve))) as Record<"cached" | "uncached", string>;

    const tritonDocuments = sources[0]?.documents ?? [];
    const someTriton = tritonDocuments[Math.floor(tritonDocuments.length / 2)]?.image.id as string;
    const requests = [
      ["page (limit 100)", "/images"],
      ["page os=linux&state=active", "/images?os=linux&state=active"],
      ["get by id", `/images/triton/${someTriton}`],
    ] as const;
    const rows: Row[] = [];
    for (const [cache, url] of [["1 s", urls.cached], ["off", urls.uncached]] as const) {
      for (const [request, path] of requests) rows.push({ request, cache, ...(await measure(url, path, token)) });
    }
    console.log(`\nHTTP API, ${images} images, DynamoDB Local, autocannon ${connections} connections × ${durationSeconds} s (goal p99 ≤ 25 ms, ≥ 1000 req/s)`);
    console.log("read cache 1 s: as deployed, a hot URL is read from DynamoDB once a second; off: every request reads DynamoDB Local");
    console.table(rows.map((r) => ({
      request: r.request,
      "read cache": r.cache,
      "p50 ms": r.p50,
      "p99 ms": r.p99,
      "req/s": r.rps,
      "KB/resp": r.kbPerResponse,
      "non-2xx/errors": r.non2xx,
      goal: r.p99 <= 25 && r.rps >= 1000 ? "met" : "missed",
    })));
  } finally {
    server?.kill();
    dynamoClient.destroy();
    await dynamo.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.env.IMAGESYNC_BENCH_API_SERVE) await serve();
  else {
    await run();
    process.exit(0);
  }
}
