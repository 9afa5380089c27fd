/**
 * Writes per partition key per second during a first sync: 100k images in 10 sources written at full speed
 * into DynamoDB Local (bench/first-sync.ts, shared with bench/api.ts), every write recorded by a client
 * middleware with the item as written. Each write is counted under every partition key it writes — the
 * table's and each index's — and under the change record the stream function then writes for it (its own
 * partition and a change-feed shard in gsi1; counted as if the stream function kept pace, which it cannot
 * exceed for long). Counted twice: with the keys as written (a partition per source, writes paced), and
 * with the same writes mapped to the keys before (gsi1 `IMAGES`, gsi2 `IMAGEOS#<os>`, unpaced).
 *
 * DynamoDB Local is far slower than AWS, so each key's rate is also projected to AWS speed: a key takes a
 * fixed share of the writes ("sources' worth": 1 for a source's own key, 10 for `IMAGES`), and on AWS a
 * source writes min(32 in flight ÷ 10 ms, one core ÷ the client CPU each write took here) a second, capped
 * by the pace. Goal: ≤ 1,000 writes/s for any key. Also prints what docs/capacity.md uses: item sizes and
 * the write units DynamoDB charged per image write.
 * Standalone: `npx tsx bench/partitions.ts`.
 */
import { fileURLToPath } from "node:url";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { imageChange } from "../packages/changes/record";
import { changeFeedPartition, changeRecordItem } from "../packages/store/changes";
import { imageWritesPerSecondPerSource, type ImageItem } from "../packages/store/inventory";
import { itemKeys } from "../packages/store/keys";
import { firstSyncInventory, writesInFlightPerSource, type FirstSync, type RecordedWrite } from "./first-sync";
import { markdownTable } from "./table";

/**
 * AWS's write latency assumed for the projection: DynamoDB promises "single-digit millisecond" latency
 * (https://aws.amazon.com/dynamodb/), so 10 ms is the slow end; a faster DynamoDB only raises the unpaced rates.
 */
const awsWriteLatencyMs = 10;
const partitionWritesPerSecond = 1000;

type Scheme = "before" | "after";
/** Where a key lives: the table or an index, and whether the image write or its change record writes it. */
const places = ["table", "gsi1", "gsi2", "change record", "change feed (gsi1)"] as const;
type Place = (typeof places)[number];

/** The partition keys one recorded image write writes, by place, under a key scheme. */
function keysOf(write: RecordedWrite, scheme: Scheme): [Place, string][] {
  const { pk, gsi1pk, gsi2pk, os, provider, sourceId, upstreamId, lastChangedAt } = write.keys;
  if (!pk || !gsi1pk || !provider || !sourceId || !upstreamId || !lastChangedAt) throw new Error(`a write without its keys: ${JSON.stringify(write.keys)}`);
  const image = { provider: provider as "triton" | "coxedge", sourceId, upstreamId };
  const gsi2 = scheme === "after" ? gsi2pk : os === undefined ? undefined : itemKeys.legacyImagesWithOs(os);
  return [
    ["table", pk],
    ["gsi1", scheme === "after" ? gsi1pk : itemKeys.legacyAllImages],
    ...(gsi2 === undefined ? [] : [["gsi2", gsi2] as [Place, string]]),
    ["change record", itemKeys.changePartition(image)],
    ["change feed (gsi1)", changeFeedPartition({ at: lastChangedAt, sourceId, upstreamId })],
  ];
}

interface KeyLoad {
  place: Place;
  key: string;
  writes: number;
  /** The most writes in one second (DynamoDB Local's wall clock). */
  peak: number;
}

function loads(writes: readonly RecordedWrite[], scheme: Scheme): KeyLoad[] {
  const perSecond = new Map<string, { place: Place; key: string; writes: number; seconds: Map<number, number> }>();
  for (const write of writes) {
    const second = Math.floor(write.finishedMs / 1000);
    for (const [place, key] of keysOf(write, scheme)) {
      const id = `${place} ${key}`;
      const load = perSecond.get(id) ?? { place, key, writes: 0, seconds: new Map<number, number>() };
      load.writes++;
      load.seconds.set(second, (load.seconds.get(second) ?? 0) + 1);
      perSecond.set(id, load);
    }
  }
  return [...perSecond.values()].map(({ place, key, writes: count, seconds }) => ({ place, key, writes: count, peak: Math.max(...seconds.values()) }));
}

/** A source's write rate on AWS under each scheme, and what bounds it. */
function awsRates(sync: FirstSync): { unpaced: number; paced: number; network: number; cpu: number; cpuMsPerWrite: number } {
  const cpuMsPerWrite = sync.cpuMs / sync.writes.length;
  const network = writesInFlightPerSource * (1000 / awsWriteLatencyMs);
  const cpu = 1000 / cpuMsPerWrite;
  const unpaced = Math.min(network, cpu);
  return { unpaced, paced: Math.min(imageWritesPerSecondPerSource, unpaced), network, cpu, cpuMsPerWrite };
}

function printLoads(sync: FirstSync): void {
  const rates = awsRates(sync);
  const perSource = sync.writes.length / sync.sources.length;
  const header = ["keys", "where", "busiest key", "peak writes/s here", "sources' worth", "projected writes/s on AWS", "goal ≤ 1,000/s"];
  const rows: string[][] = [];
  for (const scheme of ["before", "after"] as const) {
    const all = loads(sync.writes, scheme);
    for (const place of places) {
      const busiest = all.filter((load) => load.place === place).toSorted((a, b) => b.writes - a.writes || b.peak - a.peak)[0];
      if (!busiest) continue;
      const worth = busiest.writes / perSource;
      const projected = worth * (scheme === "before" ? rates.unpaced : rates.paced);
      const label = scheme === "before" ? "before (IMAGES, IMAGEOS#<os>; unpaced)" : `after (per source; ${imageWritesPerSecondPerSource}/s per source)`;
      rows.push([label, place, busiest.key, String(busiest.peak), worth.toFixed(2), String(Math.round(projected)), projected <= partitionWritesPerSecond ? "met" : "missed"]);
    }
  }
  const latency = sync.writes.reduce((sum, write) => sum + write.latencyMs, 0) / sync.writes.length;
  console.log(`\nFirst sync of ${sync.writes.length} images in ${sync.sources.length} sources at full speed, DynamoDB Local: ${(sync.wallMs / 1000).toFixed(1)} s, ` +
    `${Math.round(sync.writes.length / (sync.wallMs / 1000))} writes/s (${Math.round(perSource / (sync.wallMs / 1000))}/s per source), mean write latency ${latency.toFixed(0)} ms`);
  console.log(markdownTable(header, rows));
  console.log(`Projection: a key takes the writes of "sources' worth" sources. On AWS one source writes ${Math.round(rates.unpaced)}/s unpaced = min(${writesInFlightPerSource} in flight ÷ ${awsWriteLatencyMs} ms = ${Math.round(rates.network)}/s, ` +
    `one core ÷ ${rates.cpuMsPerWrite.toFixed(2)} ms client CPU per write measured here = ${Math.round(rates.cpu)}/s), and ${Math.round(rates.paced)}/s paced. ` +
    "Change records are counted as if the stream function kept pace with the writes (it cannot outrun them for long).");
}

/** An item's size as DynamoDB counts it: names and text in UTF-8, numbers ~1 byte per 2 digits + 1, maps and lists 3 bytes + 1 per element. */
function valueBytes(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value);
  if (typeof value === "number") return Math.ceil(String(Math.abs(value)).replace(/e.*$|\D/g, "").replace(/^0+/, "").length / 2) + 1;
  if (typeof value === "boolean" || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, element) => sum + 1 + valueBytes(element), 0);
  if (typeof value === "object") return 3 + Object.entries(value).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + valueBytes(element), 0);
  return 0;
}

const itemBytes = (item: Record<string, unknown>) => Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;

/** The change record the stream function stores for an image's first write (`added`), as an item. */
function addedRecordItem(image: Record<string, unknown>): Record<string, unknown> {
  const record = imageChange("8f14e45fceea167a5a36dedd4bea2543", undefined, image as unknown as ImageItem);
  if (!record) throw new Error("an image's first write made no change record");
  return changeRecordItem(record, 90);
}

function printSizes(sync: FirstSync): void {
  const header = ["provider", "sampled items", "median bytes", "p90 bytes", "max bytes", "write units: table", "gsi1", "gsi2", "its change record, median bytes"];
  const rows = (["triton", "coxedge"] as const).map((provider) => {
    const writes = sync.writes.filter((write) => write.keys.provider === provider);
    const samples = writes.flatMap((write) => (write.sample ? [write.sample] : []));
    const sorted = (sizes: number[]) => sizes.toSorted((a, b) => a - b);
    const sizes = sorted(samples.map(itemBytes));
    const recordSizes = sorted(samples.map((sample) => itemBytes(addedRecordItem(sample))));
    const meanUnits = (name: string) => (writes.reduce((sum, write) => sum + (write.units[name] ?? 0), 0) / writes.length).toFixed(2);
    return [provider, String(sizes.length), String(quantile(sizes, 0.5)), String(quantile(sizes, 0.9)), String(sizes.at(-1) ?? 0), meanUnits("table"), meanUnits("gsi1"), meanUnits("gsi2"), String(quantile(recordSizes, 0.5))];
  });
  console.log("\nImage items as written (size by DynamoDB's rules; write units per image write as DynamoDB Local charged them, mean), and the `added` change record each makes:");
  console.log(markdownTable(header, rows));
}

/** The items every run writes whatever changed: the source's LATEST item (lease and latest run) and the run record. */
async function printRunItemSizes(sync: FirstSync): Promise<void> {
  const source = sync.sources[0] as FirstSync["sources"][number];
  const { Items = [] } = await sync.table.client.send(
    new QueryCommand({ TableName: sync.table.name, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": itemKeys.sourcePartition(source.sourceId) } }),
  );
  const sizes = Items.map((item) => `${String(item.sk).startsWith(itemKeys.runPrefix) ? "run record" : String(item.sk)} ${itemBytes(item)} bytes`);
  console.log(`Items every run writes, for ${source.sourceId}: ${sizes.join(", ")}`);
}

export async function run(): Promise<void> {
  const sync = await firstSyncInventory();
  printLoads(sync);
  printSizes(sync);
  await printRunItemSizes(sync);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
  process.exit(0);
}
