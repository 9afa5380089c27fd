/**
 * What a run compares the listing with: the source's state digest when it can be trusted (a few items),
 * else every image item of the source (store/state-digest.ts says when and why). After the writes, a run
 * whose every write landed as planned leaves a fresh digest of the partition behind.
 */
import type { ChangeReport, ImageChange, StoredImageState } from "../store/inventory";
import { readSourceState, type SourceRef } from "../store/inventory";
import { loadStateDigest, markStateDigestPending, writeStateDigest } from "../store/state-digest";
import type { Table } from "../store/table";

export interface StoredState {
  images: Map<string, StoredImageState>;
  /** Read from the digest (else from the image partition). */
  fromDigest: boolean;
  /** The digest head's invalidation count when read; the new digest is written only if it is unchanged. */
  invalidations: number;
}

export async function readStoredState(table: Table, source: SourceRef): Promise<StoredState> {
  const digest = await loadStateDigest(table, source.sourceId);
  if (digest.state) return { images: digest.state, fromDigest: true, invalidations: digest.invalidations };
  return { images: await readSourceState(table, source), fromDigest: false, invalidations: digest.invalidations };
}

/** Before a run writes: a digest it was read from no longer describes the partition until it is replaced. */
export async function beforeWrites(table: Table, source: SourceRef, stored: StoredState, runId: string, changes: readonly ImageChange[]): Promise<void> {
  if (stored.fromDigest && changes.length > 0) await markStateDigestPending(table, source.sourceId, runId);
}

/**
 * After the writes: when each one landed as planned, the partition is the stored state with the changes
 * applied, and that becomes the digest. Otherwise (a failed, skipped or superseded write) the digest stays
 * marked and the next run reads the partition.
 */
export async function afterWrites(
  table: Table,
  run: { source: SourceRef; runId: string; observedAt: string; tombstoneRetentionDays: number },
  stored: StoredState,
  changes: readonly ImageChange[],
  report: ChangeReport,
): Promise<void> {
  const allLanded = report.failures.length === 0 && report.skipped === 0 && report.superseded === 0;
  if (!allLanded || (stored.fromDigest && changes.length === 0)) return;
  await writeStateDigest(table, {
    sourceId: run.source.sourceId,
    runId: run.runId,
    invalidations: stored.invalidations,
    state: applyChanges(stored.images, changes, run.observedAt),
    tombstonesAfter: new Date(Date.now() - run.tombstoneRetentionDays * 86_400_000).toISOString(),
  });
}

function applyChanges(images: ReadonlyMap<string, StoredImageState>, changes: readonly ImageChange[], observedAt: string): Map<string, StoredImageState> {
  const next = new Map(images);
  for (const change of changes) {
    if (change.kind === "remove") {
      const before = next.get(change.upstreamId);
      if (before) next.set(change.upstreamId, { ...before, removedAt: observedAt });
    } else {
      next.set(change.image.upstreamId, { contentHash: change.image.contentHash, lastSeenAt: observedAt });
    }
  }
  return next;
}
