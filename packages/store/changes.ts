/**
 * Change records: one item per image write that changed something (made by packages/changes/record.ts), kept
 * `retentionDays`. Two ways to read them: an image's history (its own partition, newest first) and the
 * feed (the listing index, one partition per day and shard, merged newest first).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { paginateQuery, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { createHash } from "node:crypto";
import type { Provider } from "../core/resources";
import { changeFeedShards, itemKeys, listingIndex } from "./keys";
import { expiresAfterDays, type Table } from "./table";

export interface FieldChange {
  /** Like `view.description`, `raw.tags.role`, `raw.files[0].size` or `raw.tags["triton.cns.services"]`. */
  path: string;
  /** Absent when the field was added. */
  old?: unknown;
  /** Absent when the field was removed. */
  new?: unknown;
}

/** Added, changed (a new content hash), removed (tombstoned) or revived (a tombstone listed again). */
export const changeKinds = ["added", "changed", "removed", "revived"] as const;
export type ChangeKind = (typeof changeKinds)[number];

export interface ChangeRecord {
  /** The stream event's id: one change record per write, however often the event is delivered. */
  id: string;
  /** When the change was observed upstream (the write's observation time). */
  at: string;
  kind: ChangeKind;
  provider: Provider;
  sourceId: string;
  upstreamId: string;
  name: string;
  version: string;
  /** Paths in the common view (`view.…`) and in the upstream document (`raw.…`), with old and new values. */
  fields: FieldChange[];
  /** True when there were more field changes than a record keeps. */
  fieldsTruncated?: boolean;
  hashBefore?: string;
  hashAfter?: string;
  /** `sync:<runId>` or `job:<jobId>`. */
  cause?: string;
}

/** The change feed partition a record goes to: its day's, in a shard chosen by the image. */
export function changeFeedPartition(record: Pick<ChangeRecord, "at" | "sourceId" | "upstreamId">): string {
  const shard = createHash("sha256").update(`${record.sourceId}#${record.upstreamId}`).digest().readUInt16BE(0) % changeFeedShards;
  return itemKeys.changeFeed(record.at.slice(0, 10), shard);
}

/** The item a change record is stored as: in its image's history and in the feed. */
export function changeRecordItem(record: ChangeRecord, retentionDays: number): Record<string, unknown> {
  const sort = itemKeys.changeSort(record.at, record.id);
  return {
    pk: itemKeys.changePartition(record),
    sk: sort,
    [listingIndex.pk]: changeFeedPartition(record),
    [listingIndex.sk]: sort,
    ...record,
    // `kind` names the item type in this table, so the change's own kind is stored as `changeKind`.
    kind: "change",
    changeKind: record.kind,
    expiresAt: expiresAfterDays(record.at, retentionDays),
  };
}

/** Stores the record once: a repeated stream event finds it there (returns false). */
export async function putChangeRecord(table: Table, record: ChangeRecord, retentionDays: number): Promise<boolean> {
  const item = changeRecordItem(record, retentionDays);
  try {
    await table.client.send(new PutCommand({ TableName: table.name, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export interface ChangeFilter {
  /** ISO times; `since` inclusive, `until` exclusive. */
  since: string;
  until: string;
  provider?: Provider;
  source?: string;
  kind?: ChangeKind;
}

/** Where a feed page ended: the sort key of its last record. */
export interface ChangePosition {
  before: string;
}

/** Newest first within [since, until): each day's shards are read and merged, then earlier days. */
export async function listChanges(
  table: Table,
  filter: ChangeFilter,
  page: { limit: number; cursor?: ChangePosition },
): Promise<{ changes: ChangeRecord[]; cursor?: ChangePosition }> {
  const upper = page.cursor?.before ?? filter.until;
  const found: ChangeRecord[] = [];
  for (const day of daysBetween(filter.since, upper).toReversed()) {
    const shards = await Promise.all(
      Array.from({ length: changeFeedShards }, (_, shard) => readFeedShard(table, itemKeys.changeFeed(day, shard), filter, upper, page.limit - found.length)),
    );
    found.push(...shards.flat().toSorted((a, b) => sortKey(b).localeCompare(sortKey(a))).slice(0, page.limit - found.length));
    if (found.length >= page.limit) break;
  }
  const last = found.at(-1);
  return { changes: found, ...(found.length === page.limit && last ? { cursor: { before: sortKey(last) } } : {}) };
}

/** An image's changes, newest first, a page at a time. */
export async function imageHistory(
  table: Table,
  image: { provider: Provider; sourceId: string; upstreamId: string },
  page: { limit: number; cursor?: ChangePosition },
): Promise<{ changes: ChangeRecord[]; cursor?: ChangePosition }> {
  const result = await table.client.send(
    new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: page.cursor ? "pk = :pk AND sk < :before" : "pk = :pk",
      ExpressionAttributeValues: { ":pk": itemKeys.changePartition(image), ...(page.cursor ? { ":before": page.cursor.before } : {}) },
      ScanIndexForward: false,
      Limit: page.limit,
    }),
  );
  const changes = (result.Items ?? []).map(toRecord);
  const last = changes.at(-1);
  return { changes, ...(result.LastEvaluatedKey && last ? { cursor: { before: sortKey(last) } } : {}) };
}

/** Up to `limit` matching records of one feed partition below `upper`, newest first. */
async function readFeedShard(table: Table, partition: string, filter: ChangeFilter, upper: string, limit: number): Promise<ChangeRecord[]> {
  const records: ChangeRecord[] = [];
  const names: Record<string, string> = { "#pk": listingIndex.pk, "#sk": listingIndex.sk };
  const values: Record<string, unknown> = { ":pk": partition, ":since": filter.since, ":upper": upper };
  const clauses: string[] = [];
  for (const [attribute, value] of [["provider", filter.provider], ["sourceId", filter.source], ["changeKind", filter.kind]] as const) {
    if (value === undefined) continue;
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    clauses.push(`#${attribute} = :${attribute}`);
  }
  const pages = paginateQuery(
    { client: table.client, pageSize: Math.max(limit, 25) },
    {
      TableName: table.name,
      IndexName: listingIndex.name,
      KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :since AND :upper",
      ...(clauses.length ? { FilterExpression: clauses.join(" AND ") } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
    },
  );
  // Pages are read only while the shard's share of the page is short.
  for await (const page of pages) {
    // BETWEEN includes `upper`, which is the cursor's own record or the exclusive `until`.
    records.push(...(page.Items ?? []).map(toRecord).filter((record) => sortKey(record) < upper));
    if (records.length >= limit) break;
  }
  return records.slice(0, limit);
}

function sortKey(record: ChangeRecord): string {
  return itemKeys.changeSort(record.at, record.id);
}

/** The UTC days (YYYY-MM-DD) from `since` up to `until` (a time or a sort key starting with one), oldest first. */
function daysBetween(since: string, until: string): string[] {
  const days: string[] = [];
  for (let day = Date.parse(since.slice(0, 10)); day <= Date.parse(until.slice(0, 10)); day += 86_400_000) days.push(new Date(day).toISOString().slice(0, 10));
  return days;
}

function toRecord(item: Record<string, unknown>): ChangeRecord {
  const { pk: _pk, sk: _sk, kind: _kind, changeKind, expiresAt: _expiresAt, ...rest } = item;
  delete rest[listingIndex.pk];
  delete rest[listingIndex.sk];
  return { ...rest, kind: changeKind as ChangeKind } as unknown as ChangeRecord;
}
