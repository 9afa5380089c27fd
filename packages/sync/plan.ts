/**
 * Compares a source's full listing with what is stored for it and decides the writes: new images are
 * added, changed ones (by content hash) rewritten, vanished ones tombstoned, reappearing ones revived.
 */
import { sameContent } from "../store/state-digest";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { ImageChange } from "../store/inventory";
import type { StoredImageState } from "../store/state-digest";
import type { NormalisedImage } from "../store/normalise";
import { emptyCounts, type RunCounts } from "../store/runs";

/** DynamoDB's limit for a sort key, which holds the upstream id. */
const maxIdBytes = 1024;

/** The listing is unusable as a snapshot; nothing is written for it. */
export class SnapshotValidationError extends Error {
  override readonly name = "SnapshotValidationError";
}

/** Checks what the upstream schemas cannot: ids unique across the whole listing and storable as keys. */
export function validateSnapshot(listing: readonly NormalisedImage[]): void {
  const seen = new Set<string>();
  for (const [index, image] of listing.entries()) {
    if (seen.has(image.upstreamId)) throw new SnapshotValidationError(`listing[${index}].id: duplicate id ${image.upstreamId}`);
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so only long ids need counting.
    if (image.upstreamId.length * 3 > maxIdBytes && Buffer.byteLength(image.upstreamId) > maxIdBytes) {
      throw new SnapshotValidationError(`listing[${index}].id: longer than ${maxIdBytes} bytes`);
    }
    seen.add(image.upstreamId);
  }
}

export interface Plan {
  changes: ImageChange[];
  counts: RunCounts;
}

/**
 * `lastOkSnapshotAt` is when the previous successful snapshot was taken: every live image was present
 * then, so it becomes the lastSeenAt of an image tombstoned now (when later than the image's own).
 */
export function planChanges(
  listing: readonly NormalisedImage[],
  stored: ReadonlyMap<string, StoredImageState>,
  lastOkSnapshotAt: string | undefined,
  /** Listed but not stored (sources.ts `unstorable`): neither written nor removed. */
  listedOnly: readonly string[] = [],
): Plan {
  const counts = { ...emptyCounts(), seen: listing.length + listedOnly.length };
  const changes: ImageChange[] = [];
  const listed = new Set<string>(listedOnly);
  for (const image of listing) {
    listed.add(image.upstreamId);
    const current = stored.get(image.upstreamId);
    if (!current) {
      changes.push({ kind: "add", image });
      counts.added++;
    } else if (current.removedAt) {
      changes.push({ kind: "revive", image });
      counts.revived++;
      // The same fingerprint is the same content; else the content hashes decide (key order is no change).
    } else if (current.fingerprint !== image.fingerprint && !sameContent(current.contentHash, image.contentHash)) {
      changes.push({ kind: "change", image });
      counts.changed++;
    } else {
      counts.unchanged++;
    }
  }
  for (const [upstreamId, current] of stored) {
    if (listed.has(upstreamId) || current.removedAt) continue;
    const lastSeenAt = lastOkSnapshotAt && lastOkSnapshotAt > current.lastSeenAt ? lastOkSnapshotAt : undefined;
    changes.push({ kind: "remove", upstreamId, lastSeenAt });
    counts.removed++;
  }
  return { changes, counts };
}

/** How many removals one listing may make before they need confirming by the next listing. */
export interface RemovalGuard {
  /** Share of the source's live images; above it (and above `minCount`) removals are held. */
  maxShare: number;
  minCount: number;
}

/** Removals a run held back: how many, and a digest of exactly which images. */
export interface HeldRemovals {
  count: number;
  digest: string;
}

/**
 * A listing that drops many images at once is more often a partial answer that looks whole (a proxy, a
 * paging bug upstream) than a real mass deletion, and tombstoning on it would be wrong. So removals above
 * the guard are held: the run writes everything else and records which images it would have removed; the
 * next successful listing that lacks exactly the same images confirms them, and they are applied then.
 */
export function guardRemovals(
  plan: Plan,
  stored: ReadonlyMap<string, StoredImageState>,
  previouslyHeld: HeldRemovals | undefined,
  guard: RemovalGuard,
): Plan & { held?: HeldRemovals } {
  const removals = plan.changes.filter((change) => change.kind === "remove").map((change) => change.upstreamId);
  let live = 0;
  for (const image of stored.values()) if (!image.removedAt) live++;
  if (removals.length <= guard.minCount || removals.length <= guard.maxShare * live) return plan;
  const held = { count: removals.length, digest: digestOf(removals) };
  if (previouslyHeld?.digest === held.digest) return plan;
  return {
    changes: plan.changes.filter((change) => change.kind !== "remove"),
    counts: { ...plan.counts, removed: 0 },
    held,
  };
}

function digestOf(ids: readonly string[]): string {
  return createHash("sha256").update(ids.toSorted().join("\n")).digest("base64url");
}
