/**
 * A source's image counts once a listing is applied, recorded on its run and LATEST item so that
 * `GET /images/counts` reads one item per source instead of the inventory.
 */
import type { StoredImageState } from "../store/state-digest";
import type { CommonState, NormalisedImage } from "../store/normalise";
import type { InventoryCounts, RunCounts } from "../store/runs";

/**
 * The listed images by lifecycle state, and the tombstones kept: the stored ones, less those this run
 * revives, plus those it makes. Removals held back by the mass-removal guard are in neither (they are still
 * present, but no longer listed with a state).
 */
export function inventoryCounts(
  listing: readonly NormalisedImage[],
  stored: ReadonlyMap<string, StoredImageState>,
  planned: Pick<RunCounts, "removed" | "revived">,
  at: string,
): InventoryCounts {
  const states: Partial<Record<CommonState, number>> = {};
  for (const image of listing) states[image.state] = (states[image.state] ?? 0) + 1;
  let tombstones = 0;
  for (const image of stored.values()) if (image.removedAt) tombstones++;
  return { at, states, removed: tombstones - planned.revived + planned.removed };
}
