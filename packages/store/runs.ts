/**
 * Sync run records: one item per run under the source's partition, and a LATEST item per source (listed
 * through gsi1 `SOURCES`) holding the most recently finished run plus the last successful one.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Provider } from "../core/resources";
import { updateExpression } from "./expressions";
import type { Table } from "./table";

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
  error?: string;
}

/** The LATEST item: the last finished run, and when the source last synced successfully. */
export interface LatestRun extends SyncRun {
  lastOkRunId?: string;
  lastOkAt?: string;
  /** Every live image of the source was present in the upstream at this time. */
  lastOkSnapshotAt?: string;
}

export const emptyCounts = (): RunCounts => ({ seen: 0, added: 0, changed: 0, removed: 0, revived: 0, unchanged: 0 });

export function sourcePartitionKey(sourceId: string): string {
  return `SOURCE#${sourceId}`;
}

const latestKey = (sourceId: string) => ({ pk: sourcePartitionKey(sourceId), sk: "LATEST" });

/** Stores the run and, unless a later-finished run is already there, makes it the source's latest. */
export async function recordRun(table: Table, run: SyncRun): Promise<void> {
  const runItem = { pk: sourcePartitionKey(run.sourceId), sk: `RUN#${run.startedAt}#${run.runId}`, kind: "run", ...run };
  const lastOk = run.status === "ok" ? { lastOkRunId: run.runId, lastOkAt: run.finishedAt, lastOkSnapshotAt: run.snapshotAt } : {};
  const update = updateExpression({
    set: {
      kind: "source",
      gsi1pk: "SOURCES",
      gsi1sk: run.sourceId,
      ...run,
      // Named so that a run without them removes the previous run's values.
      snapshotAt: run.snapshotAt,
      upstreamMs: run.upstreamMs,
      error: run.error,
      ...lastOk,
    },
  });
  await Promise.all([
    table.client.send(new PutCommand({ TableName: table.name, Item: runItem })),
    table.client
      .send(
        new UpdateCommand({
          TableName: table.name,
          Key: latestKey(run.sourceId),
          ...update,
          ConditionExpression: "attribute_not_exists(#finishedAt) OR #finishedAt <= :finishedAt",
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }),
  ]);
}

export async function getLatestRun(table: Table, sourceId: string): Promise<LatestRun | undefined> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: latestKey(sourceId) }));
  return Item && stripKeys<LatestRun>(Item);
}

/** The latest run of every source that has ever run, by source id. */
export async function listLatestRuns(table: Table): Promise<LatestRun[]> {
  const runs: LatestRun[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.client.send(
      new QueryCommand({
        TableName: table.name,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :sources",
        ExpressionAttributeValues: { ":sources": "SOURCES" },
        ExclusiveStartKey: startKey,
      }),
    );
    runs.push(...(page.Items ?? []).map((item) => stripKeys<LatestRun>(item)));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
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
      ExpressionAttributeValues: { ":pk": sourcePartitionKey(sourceId), ":run": "RUN#" },
      ScanIndexForward: false,
      Limit: page.limit ?? 50,
      ExclusiveStartKey: page.cursor,
    }),
  );
  return { runs: (result.Items ?? []).map((item) => stripKeys<SyncRun>(item)), nextCursor: result.LastEvaluatedKey };
}

function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, kind: _kind, ...rest } = item;
  return rest as T;
}
