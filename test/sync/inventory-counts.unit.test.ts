/** The counts a sync records per source: listed images by state, and the tombstones kept and made. */
import { describe, expect, it } from "vitest";
import type { StoredImageState } from "../../packages/store/state-digest";
import type { CommonState, NormalisedImage } from "../../packages/store/normalise";
import { inventoryCounts } from "../../packages/sync/inventory-counts";

const listed = (upstreamId: string, state: CommonState) => ({ upstreamId, state }) as NormalisedImage;
const stored = (removedAt?: string): StoredImageState => ({ contentHash: "h", lastSeenAt: "2026-01-01T00:00:00.000Z", ...(removedAt ? { removedAt } : {}) });

describe("inventoryCounts", () => {
  it("counts the listing by state and every tombstone left after the run", () => {
    const listing = [listed("a", "active"), listed("b", "active"), listed("c", "disabled"), listed("revived", "creating")];
    const before = new Map([
      ["a", stored()],
      ["gone-now", stored()],
      ["old-tombstone", stored("2026-01-02T00:00:00.000Z")],
      ["revived", stored("2026-01-02T00:00:00.000Z")],
    ]);
    // The plan tombstones "gone-now" and revives "revived", which is listed again, so no longer a tombstone.
    expect(inventoryCounts(listing, before, { removed: 1, revived: 1 }, "2026-02-01T00:00:00.000Z")).toEqual({
      at: "2026-02-01T00:00:00.000Z",
      states: { active: 2, disabled: 1, creating: 1 },
      removed: 2,
    });
  });

  it("counts nothing for an empty source", () => {
    expect(inventoryCounts([], new Map(), { removed: 0, revived: 0 }, "2026-02-01T00:00:00.000Z")).toEqual({ at: "2026-02-01T00:00:00.000Z", states: {}, removed: 0 });
  });
});
