/**
 * HTTP API read latency and throughput: 100k images (IMAGESYNC_BENCH_API_IMAGES) in 10 sources in DynamoDB
 * Local, written as a first sync writes them (bench/first-sync.ts, shared with bench/partitions.ts), the
 * deployed handler wiring behind the local API Gateway adapter in its own process, autocannon against it.
 * Three requests: an unfiltered page (default limit 100), a filtered page (os + state) and get-by-id, each
 * against the handler as configured (1 s read cache, so a hot URL is mostly served from memory) and with
 * the cache off (every request reads DynamoDB Local). Goal: p99 ≤ 25 ms and ≥ 1,000 req/s.
 *
 * API overhead: uncached, each request is compared with the bare DynamoDB requests that answer it — the
 * very requests the handler sent (recorded in the server process), replayed in the same order with the
 * SDK's low-level client, at the same concurrency: 1 (the request alone: what the API adds to it) and 10
 * (under load: on this 2-core machine the three processes then saturate both cores, so the ratio there is
 * mostly the CPU each side spends per request, the local HTTP adapter's included); and, at 1, the handler
 * alone, called with the adapter's event in the server process, against the same requests sent from there:
 * what is ours without the HTTP hop that API Gateway makes on AWS. The two alternate in short
 * slices so both see the same machine load, both driven from one small process of their own (this
 * process holds the inventory's documents, whose garbage collection would stall whichever side ran here).
 * Goal: API p50 and p99 ≤ 1.25 × bare. Standalone: `npx tsx bench/api.ts`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { BatchGetItemCommand, DynamoDBClient, GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import autocannon from "autocannon";
import { apiFunction, apiRoutes } from "../packages/core/resources";
import { benchImages, firstSyncInventory } from "./first-sync";

const durationSeconds = Number(process.env.IMAGESYNC_BENCH_API_SECONDS ?? 6);
/** Load for the absolute figures; the overhead is compared at each concurrency (1: the request alone; 10: under load). */
const loadConnections = 10;
const comparedConcurrencies = [1, loadConnections];
/** API and bare slices alternate this many times per request (durationSeconds split between them). */
const rounds = 6;
const local = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };

/** A DynamoDB request as the handler sent it: the low-level command's name and its marshalled input. */
interface RecordedRequest {
  command: string;
  input: object;
}

const replayable: Record<string, new (input: never) => QueryCommand | BatchGetItemCommand | GetItemCommand> = { QueryCommand, BatchGetItemCommand, GetItemCommand };

/** What the load driver is asked to do, for `seconds`, `connections` at a time. */
type DriverCommand =
  | { kind: "autocannon" | "api"; url: string; headers: Record<string, string>; seconds: number; connections: number }
  | { kind: "bare"; endpoint: string; requests: RecordedRequest[]; seconds: number; connections: number };

interface AutocannonSummary {
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
  kbPerResponse: number;
}

/** Latencies (ms) of the answered requests, and how many failed. */
interface Sample {
  latencies: number[];
  failed: number;
}

/** A process running this file in another role, spoken to in JSON lines: one command, one answer. */
interface Child {
  ask<T>(command: unknown): Promise<T>;
  close(): void;
}

async function startChild<T>(role: "server" | "driver", env: Record<string, string>): Promise<{ child: Child; greeting: T }> {
  const spawned = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: "ERROR", POWERTOOLS_METRICS_DISABLED: "true", IMAGESYNC_BENCH_API_ROLE: role },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: spawned.stdout })[Symbol.asyncIterator]();
  const next = async <R>() => {
    const line = await lines.next();
    if (line.done) throw new Error(`the bench's ${role} process exited`);
    return JSON.parse(line.value) as R;
  };
  const child: Child = {
    ask: (command) => {
      spawned.stdin.write(`${JSON.stringify(command)}\n`);
      return next();
    },
    close: () => spawned.kill(),
  };
  return { child, greeting: await next<T>() };
}

/** Answers each JSON line on stdin with `answer`'s result on stdout; exits when stdin closes (with its parent). */
function answerLines(answer: (command: never) => Promise<unknown> | unknown): void {
  let queue = Promise.resolve();
  createInterface({ input: process.stdin })
    .on("line", (line) => {
      queue = queue.then(async () => console.log(JSON.stringify(await answer(JSON.parse(line) as never))));
    })
    .on("close", () => process.exit(0));
}

/** The API server role: the same handler with and without the read cache, on two ports; records DynamoDB requests on request. */
async function serve(): Promise<void> {
  const [{ startHttpAdapter }, { invoke }, { createHandler }, { ConfigLoader }, { dynamoClient }] = await Promise.all([
    import("../packages/local/adapters/http"),
    import("../packages/local/adapters/lambda"),
    import("../functions/api"),
    import("../packages/core/config"),
    import("../packages/core/aws"),
  ]);
  const recorded: RecordedRequest[] = [];
  let recording = false;
  // At `build` the request is serialised, so the input is in the low-level form (the document client marshals late).
  dynamoClient().middlewareStack.add(
    (next, context) => async (args) => {
      if (recording) recorded.push({ command: context.commandName as string, input: structuredClone(args.input) as object });
      return next(args);
    },
    { step: "build", name: "benchRecorder" },
  );
  const settings = { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds };
  const uncachedHandler = createHandler(new ConfigLoader(), { cacheTtlMs: 0 });
  // The last event the adapter made for the uncached handler, to replay straight to the handler.
  let lastEvent: Parameters<typeof uncachedHandler>[0] | undefined;
  const [cached, uncached] = await Promise.all([
    startHttpAdapter({ handler: createHandler(new ConfigLoader()), routes: apiRoutes, settings }),
    startHttpAdapter({ handler: (event, context) => uncachedHandler((lastEvent = event), context), routes: apiRoutes, settings }),
  ]);
  console.log(JSON.stringify({ cached: cached.url, uncached: uncached.url }));
  const bareClient = new DynamoDBClient({});
  answerLines((command: { record: boolean } | Extract<DriverCommand, { kind: "bare" }> | { kind: "handler"; seconds: number; connections: number }) => {
    if ("kind" in command && command.kind === "bare") return runBare(bareClient, command.requests, command.seconds, command.connections);
    if ("kind" in command) return replayHandler(() => invoke(uncachedHandler, structuredClone(lastEvent) as NonNullable<typeof lastEvent>, settings), command.seconds, command.connections);
    recording = command.record;
    if (recording) recorded.length = 0;
    return recording ? {} : recorded;
  });
}

/** Calls `handle` for `seconds`, `connections` at a time, timing each call (the handler alone, no HTTP). */
async function replayHandler(handle: () => Promise<unknown>, seconds: number, connections: number): Promise<Sample> {
  const sample: Sample = { latencies: [], failed: 0 };
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const result = (await handle()) as { statusCode?: number };
        if (result.statusCode === 200) sample.latencies.push(performance.now() - started);
        else sample.failed++;
      }
    }),
  );
  return sample;
}

/** Runs the recorded requests in order, `connections` at a time, for `seconds`; the latency of each whole sequence. */
async function runBare(client: DynamoDBClient, requests: readonly RecordedRequest[], seconds: number, connections: number): Promise<Sample> {
  const sample: Sample = { latencies: [], failed: 0 };
  const until = performance.now() + seconds * 1000;
  const send = ({ command, input }: RecordedRequest) => client.send(new (replayable[command] as (typeof replayable)[string])(input as never) as QueryCommand);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          for (const request of requests) await send(request);
          sample.latencies.push(performance.now() - started);
        } catch {
          sample.failed++;
        }
      }
    }),
  );
  return sample;
}

/** Autocannon for `seconds`, with every response's latency. */
async function runApi(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<Sample> {
  const sample: Sample = { latencies: [], failed: 0 };
  const instance = autocannon({ url, connections, headers, duration: seconds });
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status === 200) sample.latencies.push(ms);
    else sample.failed++;
  });
  const result = await instance;
  sample.failed += result.errors + result.timeouts;
  return sample;
}

async function runAutocannon(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<AutocannonSummary> {
  const result = await autocannon({ url, connections, headers, duration: seconds });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: Math.round(result.requests.average),
    non2xx: result.non2xx + result.errors + result.timeouts,
    kbPerResponse: Math.round(result.throughput.total / (result.requests.total || 1) / 102.4) / 10,
  };
}

/** The load driver role: autocannon against the API, or the bare requests against DynamoDB Local. */
function drive(): void {
  const clients = new Map<string, DynamoDBClient>();
  const clientFor = (endpoint: string) => {
    const client = clients.get(endpoint) ?? new DynamoDBClient({ endpoint, region: local.AWS_REGION, credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID, secretAccessKey: local.AWS_SECRET_ACCESS_KEY } });
    clients.set(endpoint, client);
    return client;
  };
  console.log(JSON.stringify({ ready: true }));
  answerLines((command: DriverCommand) => {
    if (command.kind === "bare") return runBare(clientFor(command.endpoint), command.requests, command.seconds, command.connections);
    if (command.kind === "api") return runApi(command.url, command.headers, command.seconds, command.connections);
    return runAutocannon(command.url, command.headers, command.seconds, command.connections);
  });
}

async function probe(url: string, token: string): Promise<void> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

/**
 * What answering one uncached GET takes from DynamoDB. Recorded twice back to back and the shorter kept:
 * the handler re-reads the source list once a second, a read the bare side should not be charged for.
 */
async function requestsOf(server: Child, url: string, token: string): Promise<RecordedRequest[]> {
  const record = async () => {
    await server.ask({ record: true });
    await probe(url, token);
    return server.ask<RecordedRequest[]>({ record: false });
  };
  const [first, second] = [await record(), await record()];
  const requests = first.length <= second.length ? first : second;
  const unknown = requests.find((request) => !(request.command in replayable));
  if (unknown) throw new Error(`GET ${url} sent ${unknown.command}, which the bare client cannot replay`);
  return requests;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

interface Latencies {
  p50: number;
  p99: number;
  rps: number;
}

function summarise(latencies: number[], seconds: number): Latencies {
  const sorted = latencies.toSorted((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), rps: Math.round(latencies.length / seconds) };
}

interface Comparison {
  request: string;
  /** Through the local HTTP adapter (as a client sees it), or the handler called in its own process. */
  via: "HTTP" | "handler alone";
  concurrency: number;
  api: Latencies;
  bare: Latencies;
  requests: number;
  failed: number;
}

/** The uncached API against its bare DynamoDB requests, in alternating slices of durationSeconds / rounds each. */
async function compareWithBare(
  children: { server: Child; driver: Child },
  target: { request: string; url: string; endpoint: string; token: string; concurrency: number; via: Comparison["via"] },
): Promise<Comparison> {
  // Also leaves the request's event in the server, for the handler alone to replay.
  const requests = await requestsOf(children.server, target.url, target.token);
  // The handler alone is timed in the server process, against the bare requests sent from there too.
  const runner = target.via === "HTTP" ? children.driver : children.server;
  const headers = { authorization: `Bearer ${target.token}` };
  const api: Sample = { latencies: [], failed: 0 };
  const bare: Sample = { latencies: [], failed: 0 };
  // A warm-up slice of each first (JIT, connections, DynamoDB Local's caches), then the measured ones.
  for (let round = 0; round <= rounds; round++) {
    const seconds = round === 0 ? 1 : durationSeconds / rounds;
    const connections = target.concurrency;
    const apiSlice = await runner.ask<Sample>(target.via === "HTTP" ? { kind: "api", url: target.url, headers, seconds, connections } : { kind: "handler", seconds, connections });
    const bareSlice = await runner.ask<Sample>({ kind: "bare", endpoint: target.endpoint, requests, seconds, connections });
    if (round === 0) continue;
    for (const [into, slice] of [[api, apiSlice], [bare, bareSlice]] as const) {
      into.latencies.push(...slice.latencies);
      into.failed += slice.failed;
    }
  }
  return { request: target.request, via: target.via, concurrency: target.concurrency, api: summarise(api.latencies, durationSeconds), bare: summarise(bare.latencies, durationSeconds), requests: requests.length, failed: api.failed + bare.failed };
}

interface Row extends AutocannonSummary {
  request: string;
}

function printResults(rows: Row[], comparisons: Comparison[], sourceCount: number): void {
  console.log(`\nHTTP API, ${benchImages} images in ${sourceCount} sources, DynamoDB Local, autocannon ${loadConnections} connections × ${durationSeconds} s (goal p99 ≤ 25 ms, ≥ 1000 req/s)`);
  console.log("read cache 1 s: as deployed, a hot URL is read from DynamoDB once a second; off: every request reads DynamoDB Local");
  const cachedRows = rows.map((r) => ({ request: r.request, "read cache": "1 s", "p50 ms": r.p50, "p99 ms": r.p99, "req/s": r.rps, "KB/resp": r.kbPerResponse, "non-2xx/errors": r.non2xx }));
  const uncachedRows = comparisons.filter((c) => c.via === "HTTP" && c.concurrency === loadConnections).map((c) => ({ request: c.request, "read cache": "off", "p50 ms": Math.round(c.api.p50), "p99 ms": Math.round(c.api.p99), "req/s": c.api.rps, "KB/resp": "", "non-2xx/errors": c.failed }));
  console.table([...cachedRows, ...uncachedRows].map((r) => ({ ...r, goal: r["p99 ms"] <= 25 && r["req/s"] >= 1000 ? "met" : "missed" })));
  console.log(`\nAPI overhead, read cache off: the API vs the same DynamoDB requests sent bare (low-level SDK client), at the same concurrency,`);
  console.log(`alternating in ${rounds} slices of ${durationSeconds / rounds} s each (goal: API ÷ bare ≤ 1.25 at p50 and p99)`);
  const ms = (value: number) => value.toFixed(1);
  console.table(comparisons.map((c) => ({
    request: c.request,
    via: c.via,
    concurrency: c.concurrency,
    "DynamoDB requests": c.requests,
    "API p50 ms": ms(c.api.p50),
    "API p99 ms": ms(c.api.p99),
    "API req/s": c.api.rps,
    "bare p50 ms": ms(c.bare.p50),
    "bare p99 ms": ms(c.bare.p99),
    "bare req/s": c.bare.rps,
    "ratio p50": (c.api.p50 / c.bare.p50).toFixed(2),
    "ratio p99": (c.api.p99 / c.bare.p99).toFixed(2),
    "non-2xx/errors": c.failed,
    goal: c.api.p50 <= 1.25 * c.bare.p50 && c.api.p99 <= 1.25 * c.bare.p99 ? "met" : "missed",
  })));
}

export async function run(): Promise<void> {
  const { endpoint, table, sources } = await firstSyncInventory();
  const token = randomBytes(24).toString("base64url");
  const started = await startChild<Record<"cached" | "uncached", string>>("server", { ...local, AWS_ENDPOINT_URL_DYNAMODB: endpoint, IMAGESYNC_TABLE_NAME: table.name, IMAGESYNC_API_TOKEN: token });
  const { child: driver } = await startChild("driver", {});
  const children = { server: started.child, driver };
  try {
    const tritonDocuments = sources.find((source) => source.provider === "triton")?.documents ?? [];
    const someTriton = tritonDocuments[Math.floor(tritonDocuments.length / 2)]?.image.id as string;
    const requests = [
      ["page (limit 100)", "/images"],
      ["page os=linux&state=active", "/images?os=linux&state=active"],
      ["get by id", `/images/triton/${someTriton}`],
    ] as const;
    const headers = { authorization: `Bearer ${token}` };
    const rows: Row[] = [];
    for (const [request, path] of requests) {
      const url = `${started.greeting.cached}${path}`;
      await probe(url, token);
      await driver.ask({ kind: "autocannon", url, headers, seconds: 2, connections: loadConnections }); // warm-up: JIT, connections, DynamoDB Local's caches
      rows.push({ request, ...(await driver.ask<AutocannonSummary>({ kind: "autocannon", url, headers, seconds: durationSeconds, connections: loadConnections })) });
    }
    const comparisons: Comparison[] = [];
    const compared = [...comparedConcurrencies.map((concurrency) => ({ via: "HTTP" as const, concurrency })), { via: "handler alone" as const, concurrency: 1 }];
    for (const { via, concurrency } of compared) {
      for (const [request, path] of requests) comparisons.push(await compareWithBare(children, { request, url: `${started.greeting.uncached}${path}`, endpoint, token, concurrency, via }));
    }
    printResults(rows, comparisons, sources.length);
  } finally {
    started.child.close();
    driver.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const role = process.env.IMAGESYNC_BENCH_API_ROLE;
  if (role === "server") await serve();
  else if (role === "driver") drive();
  else {
    await run();
    process.exit(0);
  }
}
