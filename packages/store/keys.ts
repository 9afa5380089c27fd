/**
 * Every key the table's items are written and queried under, in one place (docs/architecture.md has the
 * table): partition and sort key formats, and the two global indexes with the attributes they key on,
 * read from `core/resources.ts`, which also creates them.
 */
import { inventoryTable, type Provider } from "../core/resources";

const { gsi1, gsi2 } = inventoryTable.globalIndexes;

/** gsi1: every image (a partition per source), every source's LATEST item, every job, the change feed. */
export const listingIndex = { name: "gsi1", pk: gsi1.hashKey, sk: gsi1.rangeKey } as const;
/** gsi2: images by source and os (Cox Edge: family), and jobs by state. */
export const secondaryIndex = { name: "gsi2", pk: gsi2.hashKey, sk: gsi2.rangeKey } as const;
/** A global index: its name and the item attributes that hold its hash and range keys. */
export type IndexKeys = typeof listingIndex | typeof secondaryIndex;
/** The index attributes an item carries; an undefined one is removed from the item when it is written. */
export type IndexAttributes = Record<IndexKeys["pk"] | IndexKeys["sk"], string | undefined>;

/** Partitions of the change feed per day (see `itemKeys.changeFeed`). */
export const changeFeedShards = 16;

export const itemKeys = {
  /** An image: its source's partition, sorted by the upstream id. */
  imagePartition: (source: { provider: Provider; sourceId: string }) => `IMAGE#${source.provider}#${source.sourceId}`,
  /** Images in gsi1 and gsi2 sort by `<provider>#<sourceId>#<upstreamId>`: sources in order, then ids. */
  imageSort: (image: { provider: Provider; sourceId: string; upstreamId: string }) => `${image.provider}#${image.sourceId}#${image.upstreamId}`,
  /** Every sort key of a source's images starts with this. */
  imageSortStart: (source: { provider: Provider; sourceId: string }) => `${source.provider}#${source.sourceId}#`,
  /**
   * Sorts after every image of the source and before any other source's: source ids hold only
   * `[a-z0-9._-]`, all above `$`, which is the character after `#`.
   */
  imageSortEnd: (source: { provider: Provider; sourceId: string }) => `${source.provider}#${source.sourceId}$`,
  /**
   * A source's images in gsi1, and those with an os (Cox Edge: family) in gsi2: one partition per source
   * (and os), so a sync's writes land on its own sources' keys, never on one key for the whole table
   * (a partition takes about 1,000 writes/s; docs/capacity.md).
   */
  sourceImages: (source: { provider: Provider; sourceId: string }) => `IMAGES#${source.provider}#${source.sourceId}`,
  sourceImagesWithOs: (source: { provider: Provider; sourceId: string }, os: string) => `IMAGEOS#${source.provider}#${source.sourceId}#${os}`,
  /**
   * The keys every image had before it had per-source ones: gsi1 `IMAGES`, gsi2 `IMAGEOS#<os>`. The migration
   * (store/migrations.ts) moves images off them; bench/partitions.ts counts what they would take.
   */
  legacyAllImages: "IMAGES",
  legacyImagesWithOs: (os: string) => `IMAGEOS#${os}`,

  /** A source's runs and its LATEST item share the source's partition. */
  sourcePartition: (sourceId: string) => `SOURCE#${sourceId}`,
  run: (startedAt: string, runId: string) => `RUN#${startedAt}#${runId}`,
  runPrefix: "RUN#",
  latestRun: "LATEST",
  allSources: "SOURCES",
  /** The source's state digest (store/state-digest.ts): its head, and its shards `DIGEST#<version>#<nnnn>`. */
  stateDigest: "DIGEST",
  stateDigestShards: "DIGEST#",
  stateDigestShard: (version: string, shard: number) => `DIGEST#${version}#${String(shard).padStart(4, "0")}`,

  job: (jobId: string) => ({ pk: `JOB#${jobId}`, sk: "JOB" }),
  allJobs: "JOBS",
  jobsInState: (state: string) => `JOBSTATE#${state}`,
  /** An image's change history: one partition per image, in time order. */
  changePartition: (image: { provider: Provider; sourceId: string; upstreamId: string }) =>
    `CHANGE#${image.provider}#${image.sourceId}#${image.upstreamId}`,
  changeSort: (at: string, id: string) => `${at}#${id}`,
  /**
   * The change feed in the listing index: one partition per day and shard, so a first sync writing 100k
   * change records spreads them over `changeFeedShards` keys instead of one hot key.
   */
  changeFeed: (day: string, shard: number) => `CHANGES#${day}#${shard}`,
  /** The configured sources of a provider, written by its sync function. */
  sourceDirectory: (provider: Provider) => ({ pk: "DIRECTORY", sk: provider }),
  /** Powertools idempotency records of job steps. */
  jobStepIdempotency: "IDEMPOTENCY#jobs",
} as const;
