/**
 * Every key the table's items are written and queried under, in one place (docs/architecture.md has the
 * table): partition and sort key formats, and the two global indexes with the attributes they key on,
 * read from `core/resources.ts`, which also creates them.
 */
import { inventoryTable, type Provider } from "../core/resources";

const { gsi1, gsi2 } = inventoryTable.globalIndexes;

/** gsi1: every image, every source's LATEST item and every job, each kind under its own partition. */
export const listingIndex = { name: "gsi1", pk: gsi1.hashKey, sk: gsi1.rangeKey } as const;
/** gsi2: images by os (Cox Edge: family) and jobs by state. */
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
  /** Images in gsi1 and gsi2 sort by `<provider>#<sourceId>#<upstreamId>`, so a provider or source is a prefix. */
  imageSort: (image: { provider: Provider; sourceId: string; upstreamId: string }) => `${image.provider}#${image.sourceId}#${image.upstreamId}`,
  allImages: "IMAGES",
  imagesWithOs: (os: string) => `IMAGEOS#${os}`,

  /** A source's runs and its LATEST item share the source's partition. */
  sourcePartition: (sourceId: string) => `SOURCE#${sourceId}`,
  run: (startedAt: string, runId: string) => `RUN#${startedAt}#${runId}`,
  runPrefix: "RUN#",
  latestRun: "LATEST",
  allSources: "SOURCES",

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
