/**
 * Image items: one per upstream image and source, written only when something changed.
 *
 * Ordering between writers (a sync run, a job refreshing one image) is decided by `observedAt`, the time
 * the upstream state being written was read: a write only lands on an item observed earlier, so a slow
 * writer can never put an older picture of an image over a newer one, and nothing needs a lock.
 *
 * `lastSeenAt` is written with content changes only (an unchanged image costs no write). For a live
 * image the source's last successful snapshot (`lastOkSnapshotAt` on its LATEST run item) also proves
 * it was seen then; `effectiveLastSeenAt` combines the two.
 */
import { itemKeys, listingIndex, secondaryIndex, type IndexAttributes } from "./keys";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, paginateQuery, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";
import { pacer } from "../core/pace";
import type { Provider } from "../core/resources";
import { updateExpression } from "./expressions";
import { normaliseImage, viewFieldsOf, type ImageView, type NormalisedImage, type UpstreamDocument } from "./normalise";
import { invalidateStateDigest, type StoredImageState } from "./state-digest";
import { expiresAfterDays, type Table } from "./table";

export interface SourceRef {
  provider: Provider;
  sourceId: string;
}

export interface ImageKey extends SourceRef {
  upstreamId: string;
}

/** The stored item. Tombstones keep everything and add `removedAt` and `expiresAt` (TTL). */
export interface ImageItem extends ImageView, ImageKey {
  pk: string;
  sk: string;
  gsi1pk?: string;
  gsi1sk?: string;
  gsi2pk?: string;
  gsi2sk?: string;
  kind: "image";
  /** The validated upstream document. */
  raw: Record<string, unknown>;
  contentHash: string;
  firstSeenAt: string;
  /** Last write that saw the image present; see effectiveLastSeenAt. */
  lastSeenAt: string;
  lastChangedAt: string;
  /** When the upstream state this item holds was read; orders concurrent writers. */
  observedAt: string;
  /** What made the last write (`sync:<runId>` or `job:<jobId>`), for the change history. */
  cause?: WriteCause;
  removedAt?: string;
  /** Epoch seconds: DynamoDB's TTL deletes the tombstone after the retention. */
  expiresAt?: number;
}

export type ImageChange =
  | { kind: "add" | "change" | "revive"; image: NormalisedImage }
  | { kind: "remove"; upstreamId: string; lastSeenAt?: string };

export function imagePartitionKey(source: SourceRef): string {
  return itemKeys.imagePartition(source);
}

function itemKey(key: ImageKey): { pk: string; sk: string } {
  return { pk: imagePartitionKey(key), sk: key.upstreamId };
}


/**
 * Index attributes of an image, the one place that decides which indexes it appears in; written with
 * every content write (undefined ones are removed). Tombstones keep theirs: they stay queryable. Each source
 * has its own partitions (keys.ts), so no index key takes more writes than one source's sync makes.
 */
export function imageIndexAttributes(image: ImageKey & Pick<ImageView, "os">): IndexAttributes {
  const sort = itemKeys.imageSort(image);
  return {
    [listingIndex.pk]: itemKeys.sourceImages(image),
    [listingIndex.sk]: sort,
    // The HTTP API's os (Cox Edge: family) filter, sorted like the listing index (see inventory-queries.ts).
    [secondaryIndex.pk]: image.os === undefined ? undefined : itemKeys.sourceImagesWithOs(image, image.os),
    [secondaryIndex.sk]: image.os === undefined ? undefined : sort,
  };
}

/** When a live image was last seen: its own lastSeenAt or the source's last successful snapshot, whichever is later. */
export function effectiveLastSeenAt(image: Pick<ImageItem, "lastSeenAt" | "removedAt">, lastOkSnapshotAt: string | undefined): string {
  if (image.removedAt || !lastOkSnapshotAt || lastOkSnapshotAt < image.lastSeenAt) return image.lastSeenAt;
  return lastOkSnapshotAt;
}

/** Every image item of a source (live and tombstones), projected to what a diff needs. */
export async function readSourceState(table: Table, source: SourceRef): Promise<Map<string, StoredImageState>> {
  const state = new Map<string, StoredImageState>();
  const pages = paginateQuery(
    // Pages of 1000: DynamoDB Local answers 10k-item partitions ~5x faster than with its default 1 MB pages.
    { client: table.client, pageSize: 1000 },
    {
      TableName: table.name,
      KeyConditionExpression: "#pk = :pk",
      ProjectionExpression: "#sk, #contentHash, #lastSeenAt, #removedAt",
      ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk", "#contentHash": "contentHash", "#lastSeenAt": "lastSeenAt", "#removedAt": "removedAt" },
      ExpressionAttributeValues: { ":pk": imagePartitionKey(source) },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const { sk, ...stored } = item as StoredImageState & { sk: string };
      state.set(sk, stored);
    }
  }
  return state;
}

export async function getImage(table: Table, key: ImageKey): Promise<ImageItem | undefined> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: itemKey(key) }));
  return Item as ImageItem | undefined;
}

/** Whether the write landed, or a write of a later observation was there first. */
export type WriteResult = "written" | "superseded";

/**
 * What made a write, carried on the item so the table's stream (and so the change history) can name it:
 * `sync:<runId>` or `job:<jobId>`.
 */
export type WriteCause = `sync:${string}` | `job:${string}`;

/** Inserts, updates or revives an image with the given content. */
export async function writeImageContent(
  table: Table,
  sourceId: string,
  image: NormalisedImage,
  observedAt: string,
  cause: WriteCause,
): Promise<WriteResult> {
  const key: ImageKey = { provider: image.provider, sourceId, upstreamId: image.upstreamId };
  const view = viewFieldsOf(image.view);
  const update = updateExpression({
    set: {
      kind: "image",
      ...key,
      ...view,
      ...imageIndexAttributes({ ...key, ...image.view }),
      raw: image.raw,
      contentHash: image.contentHash,
      observedAt,
      lastSeenAt: observedAt,
      lastChangedAt: observedAt,
      cause,
      removedAt: undefined,
      expiresAt: undefined,
    },
    setIfAbsent: { firstSeenAt: observedAt },
    conditionNames: ["pk"],
  });
  return conditionalUpdate(table, key, update, "attribute_not_exists(#pk) OR #observedAt < :observedAt");
}

/** Turns a live image into a tombstone that DynamoDB's TTL deletes after the retention. */
export async function writeTombstone(
  table: Table,
  key: ImageKey,
  options: { observedAt: string; retentionDays: number; cause: WriteCause; lastSeenAt?: string },
): Promise<WriteResult> {
  const update = updateExpression({
    set: {
      removedAt: options.observedAt,
      observedAt: options.observedAt,
      lastChangedAt: options.observedAt,
      cause: options.cause,
      expiresAt: expiresAfterDays(options.observedAt, options.retentionDays),
      ...(options.lastSeenAt ? { lastSeenAt: options.lastSeenAt } : {}),
    },
    conditionNames: ["pk"],
  });
  return conditionalUpdate(table, key, update, "attribute_exists(#pk) AND attribute_not_exists(#removedAt) AND #observedAt < :observedAt");
}

async function conditionalUpdate(
  table: Table,
  key: ImageKey,
  update: ReturnType<typeof updateExpression>,
  condition: string,
): Promise<WriteResult> {
  try {
    await table.client.send(new UpdateCommand({ TableName: table.name, Key: itemKey(key), ...update, ConditionExpression: condition }));
    return "written";
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return "superseded";
    throw error;
  }
}

export interface ChangeReport {
  /** Write requests sent (each one UpdateItem). */
  requests: number;
  written: number;
  superseded: number;
  /** Changes not attempted because the deadline passed. */
  skipped: number;
  failures: { upstreamId: string; error: unknown }[];
}

/**
 * A source's image writes a second, at most. Each one writes the source's own partition in the table and in
 * each index (keys.ts), about 2 write units apiece for a typical image (bench/partitions.ts), and one
 * partition takes 1,000 units and 1,000 writes a second: 400 stays below both however fast the function and
 * DynamoDB are (docs/capacity.md).
 */
export const imageWritesPerSecondPerSource = 400;

/**
 * Applies a sync's changes with parallel conditional UpdateItems, paced to `imageWritesPerSecondPerSource`.
 * The SDK retries throttled and failed requests; what still fails is reported, not thrown, so one bad item
 * cannot stop the others.
 */
export async function writeImageChanges(
  table: Table,
  source: SourceRef,
  changes: readonly ImageChange[],
  options: { observedAt: string; retentionDays: number; concurrency: number; deadline: number; cause: WriteCause },
): Promise<ChangeReport> {
  const { observedAt, retentionDays, deadline, cause } = options;
  const report: ChangeReport = { requests: 0, written: 0, superseded: 0, skipped: 0, failures: [] };
  const limit = pLimit(options.concurrency);
  const pace = pacer(imageWritesPerSecondPerSource);
  await Promise.all(
    changes.map((change) =>
      limit(async () => {
        await pace();
        if (Date.now() >= deadline) {
          report.skipped++;
          return;
        }
        const upstreamId = change.kind === "remove" ? change.upstreamId : change.image.upstreamId;
        report.requests++;
        try {
          const result =
            change.kind === "remove"
              ? await writeTombstone(table, { ...source, upstreamId }, { observedAt, retentionDays, cause, lastSeenAt: change.lastSeenAt })
              : await writeImageContent(table, source.sourceId, change.image, observedAt, cause);
          report[result]++;
        } catch (error) {
          report.failures.push({ upstreamId, error });
        }
      }),
    ),
  );
  return report;
}

export type UpsertOutcome = "added" | "changed" | "revived" | "unchanged" | "superseded";

/**
 * Refreshes one image from an upstream document read at `observedAt` (e.g. a job's GetImage), with the
 * same normalisation, hash and rules as a sync: an unchanged image costs one read and no write. Like every
 * write outside a sync run, it first invalidates the source's state digest (store/state-digest.ts).
 */
export async function upsertImage(
  table: Table,
  input: UpstreamDocument & { sourceId: string; observedAt: Date; cause: WriteCause },
): Promise<UpsertOutcome> {
  const image = normaliseImage(input);
  const key: ImageKey = { provider: input.provider, sourceId: input.sourceId, upstreamId: image.upstreamId };
  // First: no sync may trust its state digest of this source once the image may have changed.
  await invalidateStateDigest(table, input.sourceId);
  const { Item: stored } = await table.client.send(
    new GetCommand({
      TableName: table.name,
      Key: itemKey(key),
      ProjectionExpression: "#contentHash, #removedAt",
      ExpressionAttributeNames: { "#contentHash": "contentHash", "#removedAt": "removedAt" },
    }),
  );
  if (stored && !stored.removedAt && stored.contentHash === image.contentHash) return "unchanged";
  const result = await writeImageContent(table, input.sourceId, image, input.observedAt.toISOString(), input.cause);
  if (result === "superseded") return "superseded";
  return !stored ? "added" : stored.removedAt ? "revived" : "changed";
}

/**
 * Tombstones one image found gone at `observedAt` (e.g. after a job deleted it). "skipped" when there is
 * no live item or a later observation was already written.
 */
export async function markImageRemoved(
  table: Table,
  input: ImageKey & { observedAt: Date; retentionDays: number; cause: WriteCause },
): Promise<"removed" | "skipped"> {
  const { observedAt, retentionDays, cause, ...key } = input;
  await invalidateStateDigest(table, key.sourceId);
  const result = await writeTombstone(table, key, { observedAt: observedAt.toISOString(), retentionDays, cause });
  return result === "written" ? "removed" : "skipped";
}
