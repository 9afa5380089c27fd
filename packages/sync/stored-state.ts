/**
 * What a run compares the listing with: the source's state digest when it can be trusted (a few items),
 * else every image item of the source (store/state-digest.ts says when and why). A trusted digest may also
 * know a listing that would change nothing: a run whose listing has that fingerprint compares nothing. After
 * the writes, a run whose every write landed as planned leaves a fresh digest of the partition behind.
 */
import type { ChangeReport, ImageChange } from "../store/inventory";
import type { NormalisedImage } from "../store/normalise";
import { readSourceState, type SourceRef } from "../store/inventory";
import { loadStateDigest, markStateDigestPending, recordKnownListing, writeStateDigest, type KnownListing, type LoadedDigest, type StoredImageState } from "../store/state-digest";
import type { Table } from "../store/table";

export interface StoredState {
  images: Map<string, StoredImageState>;
  /** The digest head's invalidation count when read; the new digest is written only if it is unchanged. */
  invalidations: number;
  /** The trusted digest the images were read from; absent when they were read from the image partition. */
  digest?: LoadedDigest["trusted"];
}

/** What is stored, in two steps: the trusted digest's head at once, the state when a comparison needs it. */
export interface StoredRead {
  /** The trusted digest's head: its tombstones, and the listing it is known to match. */
  digest: LoadedDigest["trusted"];
  state(): Promise<StoredState>;
}

export async function readStoredState(table: Table, source: SourceRef): Promise<StoredRead> {
  const digest = await loadStateDigest(table, source.sourceId);
  const { invalidations, trusted } = digest;
  const fromPartition = async (): Promise<StoredState> => ({ images: await readSourceState(table, source), invalidations });
  // Without a trusted digest the partition is read at once, while the listing is still on its way.
  const early = trusted ? undefined : fromPartition();
  early?.catch(() => undefined); // awaited once the lease is ours
  // A digest that knows no listing will be compared with: its shards are read now too, alongside the listing.
  if (trusted && !trusted.listing) digest.state().catch(() => undefined);
  return {
    digest: trusted,
    state: async () => {
      if (early) return early;
      // A damaged digest (a shard missing or unreadable) costs a full read.
      const images = await digest.state();
      return images ? { images, invalidations, digest: trusted } : fromPartition();
    },
  };
}

/** Before a run writes: a digest it was read from no longer describes the partition until it is replaced. */
export async function beforeWrites(table: Table, source: SourceRef, stored: StoredState, runId: string, changes: readonly ImageChange[]): Promise<void> {
  if (stored.digest && changes.length > 0) await markStateDigestPending(table, source.sourceId, runId);
}

/**
 * After the writes: when each one landed as planned, the partition is the stored state with the changes
 * applied, and that becomes the digest, with each listed image's fingerprint and, unless removals were held
 * back (the same listing again would apply them), the listing as the one known to change nothing. Otherwise
 * (a failed, skipped or superseded write) the digest stays marked and the next run reads the partition. A
 * digest that already says all this is left as it is (its head learns the listing if need be).
 */
export async function afterWrites(
  table: Table,
  run: { source: SourceRef; runId: string; observedAt: string; tombstoneRetentionDays: number },
  stored: StoredState,
  applied: { listing: readonly NormalisedImage[]; changes: readonly ImageChange[]; known: KnownListing | undefined },
  report: ChangeReport,
): Promise<void> {
  const allLanded = report.failures.length === 0 && report.skipped === 0 && report.superseded === 0;
  if (!allLanded) return;
  const { sourceId } = run.source;
  const upToDate = stored.digest !== undefined && applied.changes.length === 0 && applied.listing.every((image) => stored.images.get(image.upstreamId)?.fingerprint === image.fingerprint);
  if (upToDate) {
    const { digest } = stored;
    if (digest && applied.known && digest.listing?.fingerprint !== applied.known.fingerprint) {
      await recordKnownListing(table, { sourceId, digestId: digest.digestId, invalidations: stored.invalidations, listing: applied.known });
    }
    return;
  }
  await writeStateDigest(table, {
    sourceId,
    runId: run.runId,
    invalidations: stored.invalidations,
    state: nextState(stored.images, applied, run.observedAt),
    tombstonesAfter: new Date(Date.now() - run.tombstoneRetentionDays * 86_400_000).toISOString(),
    listing: applied.known,
    // Shards whose entries did not change are kept: a run that changed a few images rewrites a few shards.
    reuse: stored.digest?.shards,
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
