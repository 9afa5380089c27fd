/**
 * Sync runs and the per-source lease. One item per run under the source's partition, and one LATEST item
 * per source (listed through gsi1 `SOURCES`) that holds the last run that synced (ok or failed), the last
 * successful one, and the lease of the run in progress, if any.
 *
 * The lease makes runs of a source exclusive: taken with a conditional write, given back by the same write
 * that records the run, and lapsing on its own at `leaseUntil` when its holder crashed. Keeping it on the
 * LATEST item means a run costs two small writes besides its image writes: taking the lease (which also
 * returns the last successful snapshot time) and recording the run (which also releases it). Runs take the
 * lease one after another, so the latest run is the one that started last.
 */
import { itemKeys, listingIndex } from "./keys";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, paginateQuery, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Provider } from "../core/resources";
import { updateExpression } from "./expressions";
import type { CommonState } from "./normalise";
import { expiresAfterDays, type Table } from "./table";

export type RunStatus = "ok" | "failed" | "skipped-locked";

export interface RunCounts {
  /** Images in the upstream listing. */
  seen: number;
  added: number;
  changed: number;
  /** Tombstoned: gone from the listing. */
  removed: number;
  /** Tombstones that reappeared in the listing. */
  revived: number;
  unchanged: number;
}

export interface SyncRun {
  provider: Provider;
  sourceId: string;
  runId: string;
  trigger: "schedule" | "manual";
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** When the upstream listing was requested: the time the written state was observed. */
  snapshotAt?: string;
  /** Time spent fetching the upstream listing (with retries). */
  upstreamMs?: number;
  counts: RunCounts;
  /** Image write requests sent; 0 when nothing changed. */
  writes: number;
  /** Writes skipped because a later observation of the image was already stored. */
  superseded: number;
  /**
   * What the listing was compared with: nothing, being byte for byte the listing the state digest is known
   * to match (`listing`); the digest, image by image (`digest`); every image item (`items`).
   */
  compared?: "listing" | "digest" | "items";
  /** Removals held back for confirmation by the next listing (sync/plan.ts guardRemovals). */
  heldRemovals?: { count: number; digest: string };
  /** Listed images DynamoDB cannot hold (sync/sources.ts toSnapshot): how many, and the first with its reason. */
  unstorable?: { count: number; first: string };
  /** The source's images once this run's listing is applied (sync/inventory-counts.ts); absent when it listed nothing. */
  inventory?: InventoryCounts;
  error?: string;
}

/** A source's images by lifecycle state, and its tombstones, as of the listing taken at `at`. */
export interface InventoryCounts {
  at: string;
  states: Partial<Record<CommonState, number>>;
  removed: number;
}

/** The LATEST item: the last run that held the lease, when the source last synced successfully, the lease. */
export interface LatestRun extends SyncRun, Partial<LeaseFields> {
  lastOkRunId?: string;
  lastOkAt?: string;
  /** Every live image of the source was present in the upstream at this time. */
  lastOkSnapshotAt?: string;
  /** Failed runs since the last successful one (0 after a success). */
  consecutiveFailures?: number;
  /** When the source's first recorded run started: the age of its health before any success. */
  firstRunAt?: string;
}

/** The lease of the run in progress; absent when none is. */
export interface LeaseFields {
  leaseRunId: string;
  leaseAcquiredAt: string;
  /** Epoch ms after which anyone may take the lease over. */
  leaseUntil: number;
}
const leaseFieldNames = ["leaseRunId", "leaseAcquiredAt", "leaseUntil"] as const satisfies readonly (keyof LeaseFields)[];

export const emptyCounts = (): RunCounts => ({ seen: 0, added: 0, changed: 0, removed: 0, revived: 0, unchanged: 0 });

export function sourcePartitionKey(sourceId: string): string {
  return itemKeys.sourcePartition(sourceId);
}

const latestKey = (sourceId: string) => ({ pk: sourcePartitionKey(sourceId), sk: itemKeys.latestRun });
/** Every source's LATEST item is listed by the listing index under `SOURCES`. */
const sourceIndex = (sourceId: string) => ({ kind: "source", [listingIndex.pk]: itemKeys.allSources, [listingIndex.sk]: sourceId });

export type LeaseResult =
  | { acquired: true; lease: LeaseFields; lastOkSnapshotAt: string | undefined; heldRemovals: SyncRun["heldRemovals"] }
  | { acquired: false; holder: LeaseFields | undefined };

/** Takes the source's lease for `seconds` unless another run holds it; then returns the holder's lease. */
export async function acquireLease(
  table: Table,
  request: { provider: Provider; sourceId: string; runId: string; seconds: number },
): Promise<LeaseResult> {
  const now = Date.now();
  const lease: LeaseFields = { leaseRunId: request.runId, leaseAcquiredAt: new Date(now).toISOString(), leaseUntil: now + request.seconds * 1000 };
  try {
    const { Attributes } = await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: latestKey(request.sourceId),
        ...updateExpression({
          set: { ...sourceIndex(request.sourceId), provider: request.provider, sourceId: request.sourceId, ...lease },
          conditionValues: { ":now": now },
        }),
        ConditionExpression: "attribute_not_exists(#leaseUntil) OR #leaseUntil < :now",
        ReturnValues: "ALL_NEW",
      }),
    );
    return {
      acquired: true,
      lease,
      lastOkSnapshotAt: Attributes?.lastOkSnapshotAt as string | undefined,
      heldRemovals: Attributes?.heldRemovals as SyncRun["heldRemovals"],
    };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const holder = await getLatestRun(table, request.sourceId);
    return { acquired: false, holder: holder?.leaseRunId ? (holder as LeaseFields) : undefined };
  }
}

/**
 * Stores the run, and makes it the source's latest while giving its lease back, in one write. Returns the
 * LATEST item it made, or undefined when it did not become the latest: not for skipped-locked runs, nor
 * when its lease had lapsed and another run took the source over (that run, which started later, owns
 * LATEST then).
 */
export async function recordRun(table: Table, run: SyncRun, retentionDays?: number): Promise<LatestRun | undefined> {
  const expiresAt = retentionDays === undefined ? undefined : expiresAfterDays(run.finishedAt, retentionDays);
  const runItem = { pk: sourcePartitionKey(run.sourceId), sk: itemKeys.run(run.startedAt, run.runId), kind: "run", ...run, expiresAt };
  const put = table.client.send(new PutCommand({ TableName: table.name, Item: runItem }));
  if (run.status === "skipped-locked") {
    await put;
    return undefined;
  }
  // Only a successful listing says which removals are held (a failed one leaves the previous hold in place).
  const lastOk = run.status === "ok"
    ? { lastOkRunId: run.runId, lastOkAt: run.finishedAt, lastOkSnapshotAt: run.snapshotAt, heldRemovals: run.heldRemovals }
    : {};
  const { heldRemovals: _held, ...runFields } = run;
  const update = updateExpression({
    set: {
      ...sourceIndex(run.sourceId),
      ...runFields,
      // Named so that a run without them removes the previous run's values.
      snapshotAt: run.snapshotAt,
      upstreamMs: run.upstreamMs,
      error: run.error,
      unstorable: run.unstorable,
      ...lastOk,
      ...(run.status === "ok" ? { consecutiveFailures: 0 } : {}),
    },
    setIfAbsent: { firstRunAt: run.startedAt },
    ...(run.status === "failed" ? { add: { consecutiveFailures: 1 } } : {}),
    remove: leaseFieldNames,
    conditionValues: { ":holder": run.runId },
  });
  const release = table.client
    .send(
      new UpdateCommand({
        TableName: table.name,
        Key: latestKey(run.sourceId),
        ...update,
        ConditionExpression: "(attribute_not_exists(#leaseRunId) OR #leaseRunId = :holder) AND (attribute_not_exists(#startedAt) OR #startedAt <= :startedAt)",
        ReturnValues: "ALL_NEW",
      }),
    )
    .then(
      ({ Attributes }) => Attributes && stripKeys<LatestRun>(Attributes),
      (error: unknown) => {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      },
    );
  const [, released] = await Promise.all([put, release]);
  return released;
}

/** The source's LATEST item; before the first run finishes it has only lease fields. */
export async function getLatestRun(table: Table, sourceId: string): Promise<LatestRun | undefined> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: latestKey(sourceId) }));
  return Item && stripKeys<LatestRun>(Item);
}

/** The latest run of every source that has finished one, by source id. */
export async function listLatestRuns(table: Table): Promise<LatestRun[]> {
  const runs: LatestRun[] = [];
  const pages = paginateQuery(
    { client: table.client },
    {
      TableName: table.name,
      IndexName: listingIndex.name,
      KeyConditionExpression: "#pk = :sources",
      // A source whose first run is still in progress has only its lease.
      FilterExpression: "attribute_exists(finishedAt)",
      ExpressionAttributeNames: { "#pk": listingIndex.pk },
      ExpressionAttributeValues: { ":sources": itemKeys.allSources },
    },
  );
  for await (const page of pages) runs.push(...(page.Items ?? []).map((item) => stripKeys<LatestRun>(item)));
  return runs;
}

/** A source's runs, newest first, a page at a time (`cursor` is the previous page's `nextCursor`). */
export async function listRuns(
  table: Table,
  sourceId: string,
  page: { limit?: number; cursor?: Record<string, unknown> } = {},
): Promise<{ runs: SyncRun[]; nextCursor?: Record<string, unknown> }> {
  const result = await table.client.send(
    new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :run)",
      ExpressionAttributeValues: { ":pk": sourcePartitionKey(sourceId), ":run": itemKeys.runPrefix },
      ScanIndexForward: false,
      Limit: page.limit ?? 50,
      ExclusiveStartKey: page.cursor,
    }),
  );
  return { runs: (result.Items ?? []).map((item) => stripKeys<SyncRun>(item)), nextCursor: result.LastEvaluatedKey };
}

function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, kind: _kind, expiresAt: _expiresAt, ...rest } = item;
  for (const attribute of [listingIndex.pk, listingIndex.sk]) delete rest[attribute];
  return rest as T;
}
