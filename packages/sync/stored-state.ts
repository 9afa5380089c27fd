/**
 * What a run compares the listing with: the source's state digest when it can be trusted (a few items),
 * else every image item of the source (store/state-digest.ts says when and why). After the writes, a run
 * whose every write landed as planned leaves a fresh digest of the partition behind.
 */
import type { ChangeReport, ImageChange } from "../store/inventory";
import type { NormalisedImage } from "../store/normalise";
import { readSourceState, type SourceRef } from "../store/inventory";
import { loadStateDigest, markStateDigestPending, writeStateDigest, type StoredImageState } from "../store/state-digest";
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
 * applied, and that becomes the digest, with each listed image's fingerprint. Otherwise (a failed, skipped or
 * superseded write) the digest stays marked and the next run reads the partition. A digest that already
 * says all this is left as it is.
 */
export async function afterWrites(
  table: Table,
  run: { source: SourceRef; runId: string; observedAt: string; tombstoneRetentionDays: number },
  stored: StoredState,
  applied: { listing: readonly NormalisedImage[]; changes: readonly ImageChange[] },
  report: ChangeReport,
): Promise<void> {
  const allLanded = report.failures.length === 0 && report.skipped === 0 && report.superseded === 0;
  if (!allLanded) return;
  const upToDate = stored.fromDigest && applied.changes.length === 0 && applied.listing.every((image) => stored.images.get(image.upstreamId)?.fingerprint === image.fingerprint);
  if (upToDate) return;
  await writeStateDigest(table, {
    sourceId: run.source.sourceId,
    runId: run.runId,
    invalidations: stored.invalidations,
    state: nextState(stored.images, applied, run.observedAt),
    tombstonesAfter: new Date(Date.now() - run.tombstoneRetentionDays * 86_400_000).toISOString(),
  });
}

function nextState(
  images: ReadonlyMap<string, StoredImageState>,
  { listing, changes }: { listing: readonly NormalisedImage[]; changes: readonly ImageChange[] },
  observedAt: string,
): Map<string, StoredImageState> {
  const next = new Map(images);
  for (const change of changes) {
    if (change.kind === "remove") {
      const before = next.get(change.upstreamId);
      if (before) next.set(change.upstreamId, { ...before, removedAt: observedAt });
    } else {
      next.set(change.image.upstreamId, { contentHash: change.image.contentHash, lastSeenAt: observedAt });
    }
  }
  // Every listed image is now stored with the listed content (written, or found the same).
  for (const image of listing) {
    const entry = next.get(image.upstreamId);
    if (entry && entry.fingerprint !== image.fingerprint) next.set(image.upstreamId, { ...entry, fingerprint: image.fingerprint });
  }
  return next;
}
