/**
 * The sync plan: which writes turn what is stored for a source into its latest listing, and which listings
 * are refused before anything is written.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ImageChange } from "../../packages/store/inventory";
import type { StoredImageState } from "../../packages/store/state-digest";
import type { NormalisedImage } from "../../packages/store/normalise";
import { guardRemovals, planChanges, SnapshotValidationError, validateSnapshot } from "../../packages/sync/plan";

/** The planner reads only ids, fingerprints and content hashes, so every image shares one view. */
function listed(upstreamId: string, contentHash = "hash-1", fingerprint = `fp-${contentHash}`): NormalisedImage {
  return { provider: "triton", upstreamId, view: { name: "base", version: "1", state: "active" }, state: "active", raw: { id: upstreamId }, contentHash, fingerprint };
}

const live = (contentHash: string, lastSeenAt = "2026-01-01T00:00:00.000Z"): StoredImageState => ({ contentHash, lastSeenAt });
const tombstone = (contentHash: string, removedAt = "2026-01-02T00:00:00.000Z"): StoredImageState => ({
  contentHash,
  lastSeenAt: "2026-01-01T00:00:00.000Z",
  removedAt,
});

/** What the store holds after writing `changes` from a snapshot taken at `now` (the model the plan is for). */
function applied(stored: ReadonlyMap<string, StoredImageState>, changes: readonly ImageChange[], now: string): Map<string, StoredImageState> {
  const result = new Map(stored);
  for (const change of changes) {
    if (change.kind === "remove") {
      const current = stored.get(change.upstreamId);
      if (!current) throw new Error(`the plan removes ${change.upstreamId}, which is not stored`);
      result.set(change.upstreamId, { ...current, lastSeenAt: change.lastSeenAt ?? current.lastSeenAt, removedAt: now });
    } else {
      result.set(change.image.upstreamId, { contentHash: change.image.contentHash, lastSeenAt: now });
    }
  }
  return result;
}

const liveHashes = (state: ReadonlyMap<string, StoredImageState>) =>
  new Map([...state].filter(([, entry]) => !entry.removedAt).map(([id, entry]) => [id, entry.contentHash]));

describe("validateSnapshot", () => {
  it("accepts an empty listing and unique ids", () => {
    expect(() => validateSnapshot([])).not.toThrow();
    expect(() => validateSnapshot([listed("a"), listed("b"), listed("c")])).not.toThrow();
  });

  it("refuses a duplicate id, naming the position where it repeats", () => {
    const duplicate = () => validateSnapshot([listed("a"), listed("b"), listed("a")]);
    expect(duplicate).toThrow(SnapshotValidationError);
    expect(duplicate).toThrow("listing[2].id: duplicate id a");
  });

  it("refuses an id longer than DynamoDB's 1024-byte sort key, counting bytes rather than characters", () => {
    expect(() => validateSnapshot([listed("x".repeat(1024))])).not.toThrow();
    expect(() => validateSnapshot([listed("ok"), listed("x".repeat(1025))])).toThrow("listing[1].id: longer than 1024 bytes");
    // "é" is two bytes in UTF-8: 512 of them fill the key exactly, 513 are 513 characters but 1026 bytes.
    expect(() => validateSnapshot([listed("é".repeat(512))])).not.toThrow();
    expect(() => validateSnapshot([listed("é".repeat(513))])).toThrow(SnapshotValidationError);
  });
});

describe("planChanges", () => {
  it("adds new images, rewrites changed ones, revives tombstones, removes vanished ones and skips the rest", () => {
    const stored = new Map([
      ["same", live("h1")],
      ["edited", live("h1")],
      ["returned", tombstone("h1")],
      ["vanished", live("h1")],
      ["long-gone", tombstone("h1")],
    ]);
    const listing = [listed("same", "h1"), listed("edited", "h2"), listed("returned", "h1"), listed("new", "h1")];
    const { changes, counts } = planChanges(listing, stored, undefined);
    const kinds = Object.fromEntries(changes.map((change) => [change.kind === "remove" ? change.upstreamId : change.image.upstreamId, change.kind]));
    expect(kinds).toEqual({ edited: "change", returned: "revive", new: "add", vanished: "remove" });
    expect(counts).toEqual({ seen: 4, added: 1, changed: 1, revived: 1, removed: 1, unchanged: 1 });
  });

  it("revives a tombstone even when its content is unchanged, since the tombstone must go", () => {
    const { changes } = planChanges([listed("a", "h1")], new Map([["a", tombstone("h1")]]), undefined);
    expect(changes).toEqual([{ kind: "revive", image: listed("a", "h1") }]);
  });

  it("takes an image whose fingerprint matches the stored one as unchanged without computing its content hash", () => {
    const image = listed("a", "h1", "fp-same");
    Object.defineProperty(image, "contentHash", { get: () => expect.fail("the content hash was computed") });
    const { changes, counts } = planChanges([image], new Map([["a", { ...live("h1"), fingerprint: "fp-same" }]]), undefined);
    expect(changes).toEqual([]);
    expect(counts.unchanged).toBe(1);
  });

  it("lets the content hash decide when the fingerprints differ (or none is stored): same content is no change", () => {
    const stored = new Map([["same", { ...live("h1"), fingerprint: "fp-old" }], ["other", { ...live("h1"), fingerprint: "fp-old" }], ["plain", live("h1")]]);
    const { changes } = planChanges([listed("same", "h1", "fp-new"), listed("other", "h2", "fp-new"), listed("plain", "h1")], stored, undefined);
    expect(changes).toEqual([{ kind: "change", image: listed("other", "h2", "fp-new") }]);
  });

  describe("a tombstone's lastSeenAt", () => {
    const seen = "2026-03-01T10:00:00.000Z";
    const removal = (lastOkSnapshotAt: string | undefined) => planChanges([], new Map([["gone", live("h1", seen)]]), lastOkSnapshotAt).changes;

    it("is the last good snapshot's time when that is later than the image's own sighting", () => {
      expect(removal("2026-03-01T10:00:00.001Z")).toEqual([{ kind: "remove", upstreamId: "gone", lastSeenAt: "2026-03-01T10:00:00.001Z" }]);
    });

    it("stays the image's own when the last good snapshot is not later, or there was none", () => {
      for (const lastOkSnapshotAt of [undefined, seen, "2026-02-28T23:59:59.999Z"]) {
        expect(removal(lastOkSnapshotAt)).toEqual([{ kind: "remove", upstreamId: "gone", lastSeenAt: undefined }]);
      }
    });
  });
});

describe("planChanges, for any stored state and listing", () => {
  // Few ids and hashes, so listings and stored states overlap and contents collide often.
  const id = fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h");
  const hash = fc.constantFrom("h1", "h2", "h3");
  const instant = fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString());
  const entry = fc.record({ contentHash: hash, lastSeenAt: instant, removedAt: fc.option(instant, { nil: undefined }) }).map(
    ({ removedAt, ...rest }): StoredImageState => (removedAt ? { ...rest, removedAt } : rest),
  );
  const stored = fc.dictionary(id, entry).map((entries) => new Map(Object.entries(entries)));
  const listing = fc.uniqueArray(fc.tuple(id, hash), { selector: ([upstreamId]) => upstreamId }).map((pairs) => pairs.map(([upstreamId, h]) => listed(upstreamId, h)));
  const lastOkSnapshotAt = fc.option(instant, { nil: undefined });
  const now = "2031-01-01T00:00:00.000Z";

  it("applied to the stored state, leaves exactly the listing live, and planning again finds nothing to do", () => {
    fc.assert(
      fc.property(stored, listing, lastOkSnapshotAt, (state, images, snapshotAt) => {
        const after = applied(state, planChanges(images, state, snapshotAt).changes, now);
        expect(liveHashes(after)).toEqual(new Map(images.map((image) => [image.upstreamId, image.contentHash])));
        // Tombstones are kept, never deleted: every id once stored is still there.
        expect([...state.keys()].every((upstreamId) => after.has(upstreamId))).toBe(true);
        const again = planChanges(images, after, now);
        expect(again.changes).toEqual([]);
        expect(again.counts.unchanged).toBe(images.length);
      }),
    );
  });

  it("writes each image at most once and counts what it plans", () => {
    fc.assert(
      fc.property(stored, listing, lastOkSnapshotAt, (state, images, snapshotAt) => {
        const { changes, counts } = planChanges(images, state, snapshotAt);
        const ids = changes.map((change) => (change.kind === "remove" ? change.upstreamId : change.image.upstreamId));
        expect(new Set(ids).size).toBe(ids.length);
        const planned = (kind: ImageChange["kind"]) => changes.filter((change) => change.kind === kind).length;
        expect(counts).toEqual({
          seen: images.length,
          added: planned("add"),
          changed: planned("change"),
          revived: planned("revive"),
          removed: planned("remove"),
          unchanged: images.length - planned("add") - planned("change") - planned("revive"),
        });
      }),
    );
  });

  it("tombstones only live, unlisted images, carrying the last good snapshot's time only when it is later", () => {
    fc.assert(
      fc.property(stored, listing, lastOkSnapshotAt, (state, images, snapshotAt) => {
        const listedIds = new Set(images.map((image) => image.upstreamId));
        const removals = planChanges(images, state, snapshotAt).changes.filter((change) => change.kind === "remove");
        const expected = [...state]
          .filter(([upstreamId, current]) => !listedIds.has(upstreamId) && !current.removedAt)
          .map(([upstreamId, current]) => {
            const later = snapshotAt !== undefined && Date.parse(snapshotAt) > Date.parse(current.lastSeenAt);
            return { kind: "remove", upstreamId, lastSeenAt: later ? snapshotAt : undefined };
          });
        expect(removals).toEqual(expected);
      }),
    );
  });
});

describe("guardRemovals", () => {
  const guard = { maxShare: 0.25, minCount: 2 };
  const storedLive = (count: number) => new Map(Array.from({ length: count }, (_, i) => [`id-${i}`, live("h")] as const));
  /** A listing of the first `count` of the stored images. */
  const listingOf = (count: number) => Array.from({ length: count }, (_, i) => listed(`id-${i}`, "h"));

  it("lets removals at or below the share (or the minimum count) through", () => {
    const stored = storedLive(12);
    const plan = planChanges(listingOf(9), stored, undefined); // 3 of 12 = 25 %
    expect(guardRemovals(plan, stored, undefined, guard)).toBe(plan);
    const small = storedLive(4);
    const fewer = planChanges(listingOf(2), small, undefined); // 50 %, but only the minimum count
    expect(guardRemovals(fewer, small, undefined, guard)).toBe(fewer);
  });

  it("holds back a mass removal, keeps every other change, and names the held set", () => {
    const stored = storedLive(10);
    const listing = [...listingOf(4), listed("new-1")]; // 6 of 10 gone, one added
    const guarded = guardRemovals(planChanges(listing, stored, undefined), stored, undefined, guard);
    expect(guarded.changes.map((change) => change.kind)).toEqual(["add"]);
    expect(guarded.counts).toMatchObject({ added: 1, removed: 0, unchanged: 4 });
    expect(guarded.held).toMatchObject({ count: 6, digest: expect.any(String) });
  });

  it("applies the removals once the next listing lacks exactly the same images, and only then", () => {
    const stored = storedLive(10);
    const first = guardRemovals(planChanges(listingOf(4), stored, undefined), stored, undefined, guard);
    const confirmed = guardRemovals(planChanges(listingOf(4), stored, undefined), stored, first.held, guard);
    expect(confirmed.changes.filter((change) => change.kind === "remove")).toHaveLength(6);
    expect(confirmed.held).toBeUndefined();
    // A different dropped set is not a confirmation: it is held anew.
    const other = guardRemovals(planChanges(listingOf(3), stored, undefined), stored, first.held, guard);
    expect(other.counts.removed).toBe(0);
    expect(other.held?.digest).not.toBe(first.held?.digest);
  });
});
