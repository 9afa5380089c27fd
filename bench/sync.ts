/**
 * Catalog sync cost against the simulators and DynamoDB Local (in memory), per provider and catalog size:
 * first sync, a sync with no upstream change (must write nothing), a sync with ~1% changed (must write
 * exactly the changed images), and the floor any sync has to pay: the bare upstream listing. A no-change
 * sync is measured three ways side by side: reading every image item (the digest invalidated first, as after
 * a job; that run also writes a fresh digest), comparing image by image with the state digest (its known
 * listing forgotten first, as after a run that held removals), and what a no-change sync does once it has
 * run: finding the listing byte for byte the one the digest is known to match (goal: ≤ 2× the bare fetch).
 * Sizes: IMAGESYNC_BENCH_SIZES (default "10000", the goal's size; "1000,10000" adds the small case).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Provider } from "../packages/core/resources";
import { startDynamoDbLocal } from "../packages/local/dynamodb-local";
import { provisionTable } from "../packages/local/provision";
import { CoxEdgeClient } from "../packages/providers/coxedge/client";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../packages/simulators/coxedge/simulator";
import { TritonClient } from "../packages/providers/triton/client";
import { startTritonSimulator, type TritonSimulator } from "../packages/simulators/triton/simulator";
import { readSourceState } from "../packages/store/inventory";
import { invalidateStateDigest, loadStateDigest, writeStateDigest } from "../packages/store/state-digest";
import type { SyncRun } from "../packages/store/runs";
import type { Table } from "../packages/store/table";
import { syncSource, type SyncOptions } from "../packages/sync/engine";
import { coxedgeSource, tritonSource, type SnapshotSource } from "../packages/sync/sources";
import { markdownTable } from "./table";

const samples = 7;

interface Subject {
  provider: Provider;
  images: number;
  source: SnapshotSource;
  /** The bare listing: the same upstream calls a sync makes, nothing else; returns the listed ids. */
  fetch(): Promise<string[]>;
  /** Changes ~1% of the catalog upstream; returns the ids it changed. */
  change(): string[];
  /** Changes one listed image upstream. */
  changeOne(listedIds: readonly string[]): void;
  close(): Promise<void>;
}

async function tritonSubject(images: number): Promise<Subject> {
  const sim: TritonSimulator = await startTritonSimulator({ images, seed: images });
  const config = { id: `bench-triton-${images}`, url: sim.url, account: sim.account, keyId: sim.keyId, privateKey: sim.privateKeyPem };
  const client = new TritonClient(config);
  let round = 0;
  return {
    provider: "triton",
    images,
    source: tritonSource({ ...config, datacenter: "bench", timeoutMs: 60_000, maxAttempts: 1, concurrency: 4 }),
    fetch: async () => {
      const [all, docker] = await Promise.all([client.listImages({ state: "all" }), client.listImages({ state: "all", type: "docker" })]);
      return [...all, ...docker].map((image) => image.id);
    },
    change: () => sim.mutateImages(0.01, { seed: ++round }),
    changeOne: (listedIds) => void sim.modifyImage(listedIds[0] as string, { description: `revised ${++round}` }),
    close: async () => {
      await client.close();
      await sim.close();
    },
  };
}

async function coxedgeSubject(images: number): Promise<Subject> {
  const sim: CoxEdgeSimulator = await startCoxEdgeSimulator({ catalog: { images, seed: images } });
  const config = { id: `bench-coxedge-${images}`, baseUrl: sim.url, service: sim.service, environment: sim.environment, apiKey: sim.apiKey };
  const client = new CoxEdgeClient(config);
  return {
    provider: "coxedge",
    images,
    source: coxedgeSource({ ...config, timeoutMs: 60_000, maxAttempts: 1, concurrency: 4 }),
    fetch: async () => (await client.listImages()).map((image) => image.id),
    change: () => sim.state.churn({ modify: 0.01 }).modified,
    changeOne: () => void sim.state.churn({ modify: 1 / images }),
    close: async () => {
      await client.close();
      await sim.close();
    },
  };
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

interface Row {
  provider: Provider;
  images: number;
  listed: number;
  first: { ms: number; writes: number };
  /** No-change syncs reading every image item, comparing with the state digest, and finding the known listing. */
  fullRead: { ms: number; writes: number };
  digest: { ms: number; writes: number };
  noChange: { ms: number; writes: number };
  onePercent: { ms: number; writes: number; changed: number };
  fetchMs: number;
  readMs: number;
  /** KB of state digest shards written: by the first sync (the whole digest), a 1%-changed sync, a one-image change. */
  digestKb: { whole: number; onePercent: number; oneImage: number };
  /** Medians of each sample's sync ÷ its fetch. */
  fullReadRatio: number;
  digestRatio: number;
  ratio: number;
}

async function measure(subject: Subject, options: SyncOptions, digestWrites: { bytes: number }): Promise<Row> {
  const sync = async (): Promise<{ result: SyncRun; ms: number; digestKb: number }> => {
    const bytesBefore = digestWrites.bytes;
    const { value: result, ms } = await timed(() => syncSource(subject.source, { ...options, deadline: Date.now() + 600_000 }));
    if (result.status !== "ok") throw new Error(`${result.sourceId}: sync ${result.status}: ${result.error}`);
    return { result, ms, digestKb: (digestWrites.bytes - bytesBefore) / 1024 };
  };

  const first = await sync();
  const listed = first.result.counts.seen;
  if (first.result.writes !== listed) throw new Error(`first sync wrote ${first.result.writes} of ${listed} images`);

  // The three kinds of no-change sync and the floor, alternated so that each sample sees the same machine
  // load; the ratios reported are the medians of the samples' ratios.
  const samplesOf = { full: [] as number[], digest: [] as number[], known: [] as number[], fetch: [] as number[], read: [] as number[] };
  const ratiosOf = { full: [] as number[], digest: [] as number[], known: [] as number[] };
  let listedIds = new Set<string>();
  for (let i = 0; i < samples; i++) {
    await invalidateStateDigest(options.table, subject.source.sourceId);
    const full = await sync();
    await forgetKnownListing(options.table, subject.source.sourceId);
    const digest = await sync();
    const known = await sync();
    const ways = { full: [full, "items"], digest: [digest, "digest"], known: [known, "listing"] } as const;
    const { value: ids, ms: fetched } = await timed(subject.fetch);
    for (const [way, [{ result, ms }, compared]] of Object.entries(ways) as [keyof typeof ways, (typeof ways)[keyof typeof ways]][]) {
      if (result.writes !== 0 || result.compared !== compared) throw new Error(`no-change sync (${way}) wrote ${result.writes} images, compared with ${result.compared}`);
      samplesOf[way].push(ms);
      ratiosOf[way].push(ms / fetched);
    }
    listedIds = new Set(ids);
    samplesOf.read.push((await timed(() => readSourceState(options.table, subject.source))).ms);
    samplesOf.fetch.push(fetched);
  }

  const onePercent: { ms: number; writes: number; changed: number; digestKb: number }[] = [];
  for (let i = 0; i < 3; i++) {
    // Triton also changes images the account cannot see; only listed ones can be written.
    const changedListed = subject.change().filter((id) => listedIds.has(id)).length;
    const { result, ms, digestKb } = await sync();
    if (result.writes !== changedListed || result.counts.changed !== changedListed) {
      throw new Error(`1% sync wrote ${result.writes} for ${result.counts.changed} changed (${changedListed} listed images changed upstream)`);
    }
    onePercent.push({ ms, writes: result.writes, changed: result.counts.changed, digestKb });
  }
  const typical = onePercent.toSorted((a, b) => a.ms - b.ms)[1] as (typeof onePercent)[number];
  subject.changeOne([...listedIds]);
  const oneImage = await sync();
  if (oneImage.result.writes !== 1) throw new Error(`a one-image change wrote ${oneImage.result.writes} images`);
  return {
    provider: subject.provider,
    images: subject.images,
    listed,
    first: { ms: first.ms, writes: first.result.writes },
    fullRead: { ms: median(samplesOf.full), writes: 0 },
    digest: { ms: median(samplesOf.digest), writes: 0 },
    noChange: { ms: median(samplesOf.known), writes: 0 },
    onePercent: typical,
    fetchMs: median(samplesOf.fetch),
    readMs: median(samplesOf.read),
    digestKb: { whole: first.digestKb, onePercent: typical.digestKb, oneImage: oneImage.digestKb },
    fullReadRatio: median(ratiosOf.full),
    digestRatio: median(ratiosOf.digest),
    ratio: median(ratiosOf.known),
  };
}

function printTable(rows: Row[]): void {
  const ms = (value: number) => `${Math.round(value)} ms`;
  const header = [
    "provider", "images", "listed", "first sync (writes)", "no change: full read", "no change: digest", "no change: known listing (writes)", "1% changed (writes/changed)",
    "fetch", "full read alone", "full read ÷ fetch", "digest ÷ fetch", "known listing ÷ fetch (goal ≤ 2)", "1% ÷ fetch",
    "digest written: whole / 1% / 1 image",
  ];
  const body = rows.map((row) => [
    row.provider,
    String(row.images),
    String(row.listed),
    `${ms(row.first.ms)} (${row.first.writes})`,
    ms(row.fullRead.ms),
    ms(row.digest.ms),
    `${ms(row.noChange.ms)} (${row.noChange.writes})`,
    `${ms(row.onePercent.ms)} (${row.onePercent.writes}/${row.onePercent.changed})`,
    ms(row.fetchMs),
    ms(row.readMs),
    row.fullReadRatio.toFixed(2),
    row.digestRatio.toFixed(2),
    row.ratio.toFixed(2),
    (row.onePercent.ms / row.fetchMs).toFixed(2),
    [row.digestKb.whole, row.digestKb.onePercent, row.digestKb.oneImage].map((kb) => `${Math.round(kb)} KB`).join(" / "),
  ]);
  console.log(markdownTable(header, body));
}

/** Rewrites the digest as it is but without its known listing, as a run that held removals leaves it. */
async function forgetKnownListing(table: Table, sourceId: string): Promise<void> {
  const digest = await loadStateDigest(table, sourceId);
  const state = await digest.state();
  if (!state) throw new Error(`${sourceId}: no trusted digest to compare with`);
  await writeStateDigest(table, { sourceId, runId: "bench", invalidations: digest.invalidations, state, tombstonesAfter: "" });
}

export async function run(): Promise<void> {
  const sizes = (process.env.IMAGESYNC_BENCH_SIZES ?? "10000").split(",").map(Number);
  const dynamo = await startDynamoDbLocal();
  const raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const table: Table = { client: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }), name: "BenchInventory" };
  await provisionTable(raw, table.name);
  // Bytes of state digest shards written (PutItem of DIGEST#… items, seen in the low-level form once built).
  const digestWrites = { bytes: 0 };
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      const item = (args.input as { Item?: Record<string, { S?: string; B?: Uint8Array }> }).Item;
      if (context.commandName === "PutItemCommand" && item?.sk?.S?.startsWith("DIGEST#")) digestWrites.bytes += item.data?.B?.length ?? 0;
      return next(args);
    },
    { step: "build", name: "digestWriteCounter" },
  );
  const options: SyncOptions = { table, retentionDays: 30, runRetentionDays: 90, leaseSeconds: 900, removalGuard: { maxShare: 0.25, minCount: 10 }, deadline: 0, trigger: "manual" };
  console.log(`Catalog sync, DynamoDB Local in memory + simulators on 127.0.0.1, Node ${process.version}; medians of ${samples} samples (a no-change sync reading every item, one comparing with the digest, one finding the known listing, the bare fetch), and of 3 1%-changed syncs; ratios = medians of the samples' ratios`);
  const rows: Row[] = [];
  try {
    for (const images of sizes) {
      for (const start of [tritonSubject, coxedgeSubject]) {
        const subject = await start(images);
        try {
          rows.push(await measure(subject, options, digestWrites));
          console.log(`  measured ${subject.provider} ${images}`);
        } finally {
          await Promise.all([subject.source.close(), subject.close()]);
        }
      }
    }
    printTable(rows);
  } finally {
    raw.destroy();
    await dynamo.stop();
  }
}
