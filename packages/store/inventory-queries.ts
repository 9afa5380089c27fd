/**
 * Read side of the inventory for the HTTP API: filtered, paginated image listings and image look-ups.
 *
 * Access patterns (keys in docs/architecture.md):
 * - every image: gsi1 (`IMAGES`, sorted by `<provider>#<sourceId>#<upstreamId>`); a provider or a source
 *   narrows it with `begins_with` on the sort key.
 * - by os (Cox Edge: family): gsi2 (`IMAGEOS#<os>`, same sort key), so os, os+provider and os+source are
 *   key conditions too. Every other filter is a FilterExpression evaluated on the read items.
 * Both indexes sort alike, so a listing is a sequence of key ranges ("segments") read in order and a page
 * position is (segment, last key): stable order, no duplicates, no gaps. Every value a caller supplies goes
 * into ExpressionAttributeValues; attribute names are fixed here.
 */
import { itemKeys, listingIndex, secondaryIndex, type IndexAttributes, type IndexKeys } from "./keys";
import { backoff } from "../core/backoff";
import { BatchGetCommand, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { providers, type Provider } from "../core/resources";
import { imagePartitionKey, type ImageItem, type ImageKey } from "./inventory";
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
}

export interface PagePosition {
  segment: number;
  key?: Record<string, string>;
}

/** What the listing reads of each item: the common view and sighting times, never the raw document. */
export const summaryAttributes = [
  "provider", "sourceId", "upstreamId", "name", "version", "os", "type", "state", "status", "public", "owner",
  "createdAt", "publishedAt", "firstSeenAt", "lastSeenAt", "lastChangedAt", "removedAt",
] as const satisfies readonly (keyof ImageItem)[];

export type ImageSummaryItem = Pick<ImageItem, (typeof summaryAttributes)[number]>;
type ListedItem = ImageSummaryItem & Pick<ImageItem, "pk" | "sk"> & IndexAttributes;

type Index = IndexKeys;


interface Segment {
  index: Index;
  hash: string;
  prefix?: string;
}

/** The key ranges a listing reads, in index order. Exported for unit tests. */
export function segments(filter: ImageFilter): Segment[] {
  const index = filter.os === undefined ? listingIndex : secondaryIndex;
  const hash = filter.os === undefined ? itemKeys.allImages : itemKeys.imagesWithOs(filter.os);
  // Sorted like the sort keys, so the segments follow the index's own order.
  const among = filter.provider ? [filter.provider] : providers.toSorted();
  if (filter.source !== undefined) return among.map((p) => ({ index, hash, prefix: `${p}#${filter.source}#` }));
  if (filter.provider) return [{ index, hash, prefix: `${filter.provider}#` }];
  return [{ index, hash }];
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
  if (!clauses.length) return {};
  return {
    FilterExpression: clauses.join(" AND "),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

export interface ImagePage {
  items: ImageSummaryItem[];
  /** Where the next page starts; absent when the listing is complete. */
  next?: PagePosition;
}

/**
 * One page of images in index order. A page holds at most `limit` items; it can hold fewer (even none)
 * and still have a `next` position when `budgetMs` ran out while skipping non-matching items, so a rare
 * filter over a large inventory answers in bounded time instead of reading the whole index in one request.
 */
export async function listImages(
  table: Table,
  filter: ImageFilter,
  page: { limit: number; after?: PagePosition; budgetMs?: number },
): Promise<ImagePage> {
  const all = segments(filter);
  const filtering = filterExpression(filter);
  const deadline = Date.now() + (page.budgetMs ?? 2000);
  const items: ListedItem[] = [];
  let { segment, key } = page.after ?? { segment: 0 };
  // One item past the page tells whether more follow; later reads are sized by the share that matched.
  let readSize = page.limit + 1;
  let evaluated = 0;

  while (segment < all.length) {
    const { index, hash, prefix } = all[segment] as Segment;
    const projection = ["pk", "sk", index.pk, index.sk, ...summaryAttributes];
    const result = await table.client.send(
      new QueryCommand({
        TableName: table.name,
        IndexName: index.name,
        KeyConditionExpression: `#p_${index.pk} = :hash${prefix === undefined ? "" : ` AND begins_with(#p_${index.sk}, :prefix)`}`,
        ...filtering,
        ExpressionAttributeNames: { ...filtering.ExpressionAttributeNames, ...Object.fromEntries(projection.map((a) => [`#p_${a}`, a])) },
        ExpressionAttributeValues: { ...filtering.ExpressionAttributeValues, ":hash": hash, ...(prefix === undefined ? {} : { ":prefix": prefix }) },
        ProjectionExpression: projection.map((a) => `#p_${a}`).join(", "),
        ExclusiveStartKey: key,
        Limit: readSize,
      }),
    );
    items.push(...((result.Items ?? []) as ListedItem[]));
    if (items.length > page.limit) {
      items.length = page.limit;
      return { items, next: { segment, key: keyOf(items[page.limit - 1] as ListedItem, index) } };
    }
    if (result.LastEvaluatedKey) {
      key = result.LastEvaluatedKey as Record<string, string>;
    } else {
      segment += 1;
      key = undefined;
    }
    if (segment === all.length) break;
    if (items.length === page.limit || Date.now() > deadline) return { items, next: key ? { segment, key } : { segment } };
    evaluated += result.ScannedCount ?? 0;
    const matchedShare = Math.max(items.length / Math.max(evaluated, 1), 0.05);
    readSize = Math.min(1000, Math.ceil(((page.limit - items.length + 1) / matchedShare) * 1.2));
  }
  return { items };
}

function keyOf(item: ListedItem, index: Index): Record<string, string> {
  return { pk: item.pk, sk: item.sk, [index.pk]: item[index.pk] as string, [index.sk]: item[index.sk] as string };
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
