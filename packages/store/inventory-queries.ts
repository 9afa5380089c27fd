/**
 * Read side of the inventory for the HTTP API: filtered, paginated image listings and image look-ups.
 *
 * Access patterns (keys in docs/architecture.md): each source's images have their own partition
 * ("segment") in each index, sorted by `<provider>#<sourceId>#<upstreamId>`:
 * - every image: gsi1 (`IMAGES#<provider>#<sourceId>`); a provider or a source picks the segments to read.
 * - by os (Cox Edge: family): gsi2 (`IMAGEOS#<provider>#<sourceId>#<os>`, same sort key).
 * Every other filter is a FilterExpression evaluated on the read items. Segments are read one after the
 * other in sort-key order, so a listing has the order one index over everything would have, and a page
 * position is the last sort key read: stable order, no duplicates, no gaps, even when a source is added
 * between two pages. Every value a caller supplies goes into ExpressionAttributeValues; attribute names
 * are fixed here.
 */
import { itemKeys, listingIndex, secondaryIndex, type IndexKeys } from "./keys";
import { backoff } from "../core/backoff";
import { BatchGetCommand, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { providers, type Provider } from "../core/resources";
import { imagePartitionKey, type ImageItem, type ImageKey, type SourceRef } from "./inventory";
import type { CommonState } from "./normalise";
import type { Table } from "./table";

export type Presence = "present" | "removed" | "all";

export interface ImageFilter {
  provider?: Provider;
  source?: string;
  name?: string;
  nameContains?: string;
  os?: string;
  version?: string;
  type?: string;
  owner?: string;
  public?: boolean;
  /** Tombstoned images (`removedAt` set) or not. */
  presence: Presence;
  /** The common lifecycle state; applies to present images. */
  state?: CommonState;
  /** Triton tags: each key must hold this value, compared as text (a number or boolean tag matches its text). */
  tags?: Record<string, string>;
}

/** Where a listing continues: after this sort key (an image's, or the end of a source's images). */
export interface PagePosition {
  after: string;
}

/** What the listing reads of each item: the common view and sighting times, never the raw document. */
export const summaryAttributes = [
  "provider", "sourceId", "upstreamId", "name", "version", "os", "type", "state", "status", "public", "owner",
  "createdAt", "publishedAt", "firstSeenAt", "lastSeenAt", "lastChangedAt", "removedAt",
] as const satisfies readonly (keyof ImageItem)[];

export type ImageSummaryItem = Pick<ImageItem, (typeof summaryAttributes)[number]>;

const projectionNames = Object.fromEntries(summaryAttributes.map((attribute) => [`#p_${attribute}`, attribute]));
const projection = Object.keys(projectionNames).join(", ");

/** One source's partition in the index a listing reads, and the sort keys its images lie between. */
export interface Segment {
  index: IndexKeys;
  hash: string;
  start: string;
  end: string;
}

/**
 * The partitions a listing reads, in sort-key order: one per source the filter allows. A named source is
 * read even if `sources` lacks it (under every provider it may belong to, unless `sources` says which);
 * otherwise the listing covers `sources`, the sources that have synced. Exported for unit tests.
 */
export function segments(filter: ImageFilter, sources: readonly SourceRef[]): Segment[] {
  const named = filter.source === undefined ? sources : sources.filter((source) => source.sourceId === filter.source);
  const among = filter.source !== undefined && !named.length ? providers.map((provider) => ({ provider, sourceId: filter.source as string })) : named;
  const bySort = new Map(among.filter((source) => filter.provider === undefined || source.provider === filter.provider).map((source) => [itemKeys.imageSortStart(source), source]));
  return [...bySort.keys()].toSorted().map((start) => {
    const source = bySort.get(start) as SourceRef;
    return filter.os === undefined
      ? { index: listingIndex, hash: itemKeys.sourceImages(source), start, end: itemKeys.imageSortEnd(source) }
      : { index: secondaryIndex, hash: itemKeys.sourceImagesWithOs(source, filter.os), start, end: itemKeys.imageSortEnd(source) };
  });
}

/** The FilterExpression for the filters no index key covers. Exported for unit tests. */
export function filterExpression(filter: ImageFilter): Pick<QueryCommandInput, "FilterExpression" | "ExpressionAttributeNames" | "ExpressionAttributeValues"> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const clauses: string[] = [];
  const equal = (attribute: string, value: unknown) => {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    clauses.push(`#${attribute} = :${attribute}`);
  };
  if (filter.presence !== "all") {
    names["#removedAt"] = "removedAt";
    clauses.push(filter.presence === "removed" ? "attribute_exists(#removedAt)" : "attribute_not_exists(#removedAt)");
  }
  if (filter.name !== undefined) equal("name", filter.name);
  if (filter.nameContains !== undefined) {
    names["#name"] = "name";
    values[":nameContains"] = filter.nameContains;
    clauses.push("contains(#name, :nameContains)");
  }
  for (const attribute of ["version", "type", "owner", "public", "state"] as const) {
    if (filter[attribute] !== undefined) equal(attribute, filter[attribute]);
  }
  for (const [index, [key, text]] of Object.entries(filter.tags ?? {}).entries()) {
    names["#tags"] = "tags";
    names[`#tag${index}`] = key;
    const alternatives = tagValueAlternatives(text).map((value, n) => {
      values[`:tag${index}_${n}`] = value;
      return `#tags.#tag${index} = :tag${index}_${n}`;
    });
    clauses.push(`(${alternatives.join(" OR ")})`);
  }
  if (!clauses.length) return {};
  return {
    FilterExpression: clauses.join(" AND "),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

/** The stored values a tag filter's text matches: the text, and the number or boolean written the same way. */
function tagValueAlternatives(text: string): (string | number | boolean)[] {
  const number = Number(text);
  if (Number.isFinite(number) && String(number) === text) return [text, number];
  if (text === "true" || text === "false") return [text, text === "true"];
  return [text];
}

export interface ImagePage {
  items: ImageSummaryItem[];
  /** Where the next page starts; absent when the listing is complete. */
  next?: PagePosition;
}

/** Segments read at once, at most, while a listing finds nothing in them (a rare filter, a missing os). */
const maxReadAhead = 8;
/** Items a read-ahead evaluates of each later segment: enough to see it is empty, little to waste if the page fills first. */
const readAheadLimit = 10;

/**
 * One page of images in index order, of the `sources` given (see `segments`). A page holds at most `limit`
 * items; it can hold fewer (even none) and still have a `next` position when `budgetMs` ran out while
 * skipping non-matching items, so a rare filter over a large inventory answers in bounded time instead of
 * reading every source in one request. Segments are read in order, only until the page is full; while
 * they yield nothing, the next ones are read ahead in parallel (1, 2, 4, ... at a time, a few items of each
 * but the first).
 */
export async function listImages(
  table: Table,
  filter: ImageFilter,
  sources: readonly SourceRef[],
  page: { limit: number; after?: PagePosition; budgetMs?: number },
): Promise<ImagePage> {
  const listing: Listing = {
    table,
    filtering: filterExpression(filter),
    limit: page.limit,
    deadline: Date.now() + (page.budgetMs ?? 2000),
    items: [],
    position: page.after?.after,
    // One item past the page tells whether more follow; later reads are sized by the share that matched.
    readSize: page.limit + 1,
    evaluated: 0,
  };
  const remaining = segments(filter, sources).filter((segment) => listing.position === undefined || listing.position < segment.end);
  let readAhead = 1;
  for (let next = 0; next < remaining.length; ) {
    const batch = remaining.slice(next, next + readAhead);
    const found = listing.items.length;
    // Every segment after the first starts where its images start: the position is before them all.
    const firstReads = batch.map((segment, n) => querySegment(listing, segment, startAfter(listing.position, segment), n === 0 ? listing.readSize : Math.min(listing.readSize, readAheadLimit)));
    // A page that fills early leaves later reads unawaited: their failures must not go unhandled.
    for (const read of firstReads) read.catch(() => undefined);
    for (const [n, segment] of batch.entries()) {
      const done = await readSegment(listing, segment, await (firstReads[n] as ReturnType<typeof querySegment>), next + n === remaining.length - 1);
      if (done) return done;
    }
    next += batch.length;
    readAhead = listing.items.length === found ? Math.min(readAhead * 2, maxReadAhead) : 1;
  }
  return { items: listing.items };
}

/** A page being read: what it reads with, what it has, and the sort key it has read up to. */
interface Listing {
  table: Table;
  filtering: ReturnType<typeof filterExpression>;
  limit: number;
  deadline: number;
  items: ImageSummaryItem[];
  position?: string;
  readSize: number;
  evaluated: number;
}

/** Where reading a segment starts: after the position when it lies within the segment, else at the segment's start. */
const startAfter = (position: string | undefined, segment: Segment) => (position !== undefined && position > segment.start ? position : segment.start);

/** Takes a segment's items from its first read on; the page when it is complete or full, else undefined (on to the next segment). */
async function readSegment(listing: Listing, segment: Segment, firstRead: Awaited<ReturnType<typeof querySegment>>, isLast: boolean): Promise<ImagePage | undefined> {
  const { items, limit } = listing;
  for (let result = firstRead; ; result = await querySegment(listing, segment, listing.position as string, listing.readSize)) {
    items.push(...((result.Items ?? []) as ImageSummaryItem[]));
    if (items.length > limit) {
      items.length = limit;
      return { items, next: { after: itemKeys.imageSort(items[limit - 1] as ImageSummaryItem) } };
    }
    const lastRead = result.LastEvaluatedKey?.[segment.index.sk] as string | undefined;
    listing.position = lastRead ?? segment.end;
    if (lastRead === undefined && isLast) return { items };
    if (items.length === limit || Date.now() > listing.deadline) return { items, next: { after: listing.position } };
    listing.evaluated += result.ScannedCount ?? 0;
    // Empty partitions so far (a source without this os) say nothing about how many items match.
    const matchedShare = listing.evaluated === 0 ? 1 : Math.max(items.length / listing.evaluated, 0.05);
    listing.readSize = Math.min(1000, Math.ceil(((limit - items.length + 1) / matchedShare) * 1.2));
    if (lastRead === undefined) return undefined;
  }
}

/** Up to `limit` items of a segment with sort keys above `afterKey` (evaluated; the filter may keep fewer), projected to the summary. */
function querySegment(listing: Listing, segment: Segment, afterKey: string, limit: number) {
  const { table, filtering } = listing;
  return table.client.send(
    new QueryCommand({
      TableName: table.name,
      IndexName: segment.index.name,
      KeyConditionExpression: "#p_hash = :hash AND #p_sort > :after",
      ...filtering,
      ExpressionAttributeNames: { ...filtering.ExpressionAttributeNames, ...projectionNames, "#p_hash": segment.index.pk, "#p_sort": segment.index.sk },
      ExpressionAttributeValues: { ...filtering.ExpressionAttributeValues, ":hash": segment.hash, ":after": afterKey },
      ProjectionExpression: projection,
      Limit: limit,
    }),
  );
}

const maxBatchGetAttempts = 8;

/** Whole image items (raw document included); absent ones are skipped. */
export async function getImages(table: Table, keys: readonly ImageKey[]): Promise<ImageItem[]> {
  const found: ImageItem[] = [];
  let pending: Record<string, unknown>[] = keys.map((key) => ({ pk: imagePartitionKey(key), sk: key.upstreamId }));
  for (let attempt = 0; pending.length; attempt++) {
    // Unprocessed keys mean throttling: back off, but give up rather than hold the request until the timeout.
    if (attempt === maxBatchGetAttempts) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`);
    if (attempt) await new Promise((r) => setTimeout(r, backoff(attempt, { base: 100, max: 1000, jitter: "full" })));
    // BatchGetItem takes at most 100 keys.
    const batch = pending.slice(0, 100);
    const result = await table.client.send(new BatchGetCommand({ RequestItems: { [table.name]: { Keys: batch } } }));
    found.push(...((result.Responses?.[table.name] ?? []) as ImageItem[]));
    pending = [...((result.UnprocessedKeys?.[table.name]?.Keys ?? []) as Record<string, unknown>[]), ...pending.slice(100)];
  }
  return found;
}
