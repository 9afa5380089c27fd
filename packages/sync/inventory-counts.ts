/**
 * A source's image counts once a listing is applied, recorded on its run and LATEST item so that
 * `GET /images/counts` reads one item per source instead of the inventory.
 */
import type { StoredImageState } from "../store/inventory";
import type { CommonState, NormalisedImage } from "../store/normalise";
import type { InventoryCounts } from "../store/runs";

/**
 * The listed images by lifecycle state, and the tombstones kept: stored ones not listed again plus the
 * `removedNow` this run tombstones. Removals held back by the mass-removal guard are in neither (they are
 * still present, but no longer listed with a state).
 */
export function inventoryCounts(
  listing: readonly NormalisedImage[],
  stored: ReadonlyMap<string, StoredImageState>,
  removedNow: number,
  at: string,
): InventoryCounts {
  const states: Partial<Record<CommonState, number>> = {};
  const listed = new Set<string>();
  for (const image of listing) {
    states[image.view.state] = (states[image.view.state] ?? 0) + 1;
    listed.add(image.upstreamId);
  }
  let removed = removedNow;
  for (const [upstreamId, image] of stored) if (image.removedAt && !listed.has(upstreamId)) removed++;
  return { at, states, removed };
}
