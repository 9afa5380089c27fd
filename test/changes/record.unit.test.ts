/** Change records and events, from the before and after images of one write. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffDocuments, maxFieldChanges } from "../../packages/changes/diff";
import { changeEvent, jobEvent } from "../../packages/changes/events";
import { imageChange } from "../../packages/changes/record";
import type { ImageItem } from "../../packages/store/inventory";
import type { JobRecord, StoredJobRequest } from "../../packages/store/jobs";

function image(overrides: Partial<ImageItem> = {}): ImageItem {
  return {
    pk: "IMAGE#triton#src", sk: "a1", kind: "image", provider: "triton", sourceId: "src", upstreamId: "a1",
    name: "base-64", version: "24.1.0", os: "smartos", type: "zone-dataset", state: "active", status: "active",
    public: true, owner: "o", description: "old", createdAt: "2026-01-01T00:00:00.000Z", tags: { role: "db" }, files: [],
    raw: { uuid: "a1", name: "base-64", description: "old", tags: { role: "db" }, files: [{ size: 1 }] },
    contentHash: "h1", firstSeenAt: "2026-01-01T00:00:00.000Z", lastSeenAt: "2026-01-01T00:00:00.000Z",
    lastChangedAt: "2026-01-01T00:00:00.000Z", observedAt: "2026-01-01T00:00:00.000Z", cause: "sync:run-1",
    ...overrides,
  } as ImageItem;
}

describe("imageChange", () => {
  it("a new image is added, with no field list (the inventory holds the document) and its cause", () => {
    const change = imageChange("e1", undefined, image());
    expect(change).toMatchObject({ id: "e1", kind: "added", provider: "triton", sourceId: "src", upstreamId: "a1", fields: [], hashAfter: "h1", cause: "sync:run-1" });
    expect(change?.hashBefore).toBeUndefined();
  });

  it("an added or removed image with a wide document says no field list was cut short, since none is kept", () => {
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`k${index}`, index]));
    const added = imageChange("e1w", undefined, image({ raw: { uuid: "a1", ...wide } }));
    expect(added).toMatchObject({ kind: "added", fields: [] });
    expect(added?.fieldsTruncated).toBeUndefined();
    const removed = imageChange("e3w", image({ raw: { uuid: "a1", ...wide } }), image({ raw: { uuid: "a1", ...wide }, removedAt: "2026-02-01T00:00:00.000Z" }));
    expect(removed).toMatchObject({ kind: "removed", fields: [] });
    expect(removed?.fieldsTruncated).toBeUndefined();
  });

  it("a new content hash is a change, with the changed paths of the view and the raw document, old and new", () => {
    const after = image({
      description: "new", contentHash: "h2", lastChangedAt: "2026-02-01T00:00:00.000Z", cause: "job:j1",
      raw: { uuid: "a1", name: "base-64", description: "new", tags: { role: "db", tier: "1" }, files: [{ size: 2 }] },
    });
    const change = imageChange("e2", image(), after);
    expect(change).toMatchObject({ kind: "changed", at: "2026-02-01T00:00:00.000Z", hashBefore: "h1", hashAfter: "h2", cause: "job:j1" });
    expect(change?.fields).toEqual([
      { path: "view.description", old: "old", new: "new" },
      { path: "raw.description", old: "old", new: "new" },
      { path: "raw.files[0].size", old: 1, new: 2 },
      { path: "raw.tags.tier", new: "1" },
    ]);
    const tagged = imageChange("e2b", image(), image({ contentHash: "h2", raw: { ...image().raw, tags: { role: "db", "triton.cns.services": "web" } } }));
    expect(tagged?.fields).toEqual([{ path: 'raw.tags["triton.cns.services"]', new: "web" }]);
  });

  it("tombstoning is removed, un-tombstoning is revived; tombstone rewrites and TTL deletions are not changes", () => {
    const tombstone = image({ removedAt: "2026-03-01T00:00:00.000Z", lastChangedAt: "2026-03-01T00:00:00.000Z" });
    expect(imageChange("e3", image(), tombstone)).toMatchObject({ kind: "removed", fields: [] });
    expect(imageChange("e4", tombstone, image({ contentHash: "h3", description: "back" }))).toMatchObject({ kind: "revived", hashBefore: "h1", hashAfter: "h3" });
    expect(imageChange("e5", tombstone, { ...tombstone, expiresAt: 5 })).toBeUndefined();
    expect(imageChange("e6", tombstone, undefined)).toBeUndefined();
    expect(imageChange("e7", undefined, tombstone)).toBeUndefined();
  });

  it("a write that keeps the content hash (a refresh of lastSeenAt) is not a change", () => {
    expect(imageChange("e8", image(), image({ lastSeenAt: "2026-05-01T00:00:00.000Z" }))).toBeUndefined();
  });
});

describe("diffDocuments", () => {
  const canonical = (value: unknown): string =>
    JSON.stringify(value, (_key, inner: unknown) =>
      inner && typeof inner === "object" && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).toSorted(([a], [b]) => a.localeCompare(b))) : inner,
    );

  it("reports no change exactly when the documents are equal (any JSON, keys in any order)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(diffDocuments(a, b, "doc").changes.length === 0).toBe(canonical(a) === canonical(b));
        expect(diffDocuments(a, structuredClone(a), "doc").changes).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("every reported path holds the old value before and the new value after", () => {
    // Paths are `.identifier`, `[index]` or `["any key"]` after the prefix.
    const at = (document: unknown, path: string): unknown =>
      [...path.replace(/^doc/, "").matchAll(/\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)]
        .map(([, identifier, index, quoted]) => identifier ?? index ?? (JSON.parse(quoted as string) as string))
        .reduce<unknown>((value, key) => (value !== null && typeof value === "object" && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined), document);
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        for (const change of diffDocuments(a, b, "doc").changes) {
          if (JSON.stringify(change.old ?? null).length <= 2048) expect(at(a, change.path)).toEqual(change.old);
          if (JSON.stringify(change.new ?? null).length <= 2048) expect(at(b, change.path)).toEqual(change.new);
        }
      }),
      { numRuns: 500 },
    );
  });

  it(`keeps at most ${maxFieldChanges} changes, says so, and records a value over 2 KB by its size`, () => {
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`k${String(index).padStart(3, "0")}`, index]));
    const diff = diffDocuments({}, wide, "raw");
    expect(diff.changes).toHaveLength(maxFieldChanges);
    expect(diff.truncated).toBe(true);
    expect(diffDocuments({ big: "x" }, { big: "y".repeat(5000) }, "raw").changes).toEqual([{ path: "raw.big", old: "x", new: { omitted: "5002 bytes" } }]);
  });
});

describe("events", () => {
  it("a change event names provider, source, image, name/version, changed fields and cause", () => {
    const change = imageChange("e9", image(), image({ description: "new", contentHash: "h2", raw: { uuid: "a1", description: "new" } }));
    const event = changeEvent(change!);
    expect(event.detailType).toBe("Image Changed");
    expect(event.detail).toMatchObject({ changeId: "e9", provider: "triton", source: "src", imageId: "a1", name: "base-64", version: "24.1.0", cause: "sync:run-1" });
    expect(event.detail.changedFields).toContain("view.description");
  });

  it("a job event only when the job has just finished", () => {
    const job = (state: string, extra: Partial<JobRecord<StoredJobRequest>> = {}) =>
      ({ jobId: "j1", state, updatedAt: "2026-01-01T00:00:00.000Z", request: { provider: "triton", source: "src", action: "delete", params: {} }, ...extra }) as unknown as JobRecord<StoredJobRequest>;
    expect(jobEvent(job("polling"), job("succeeded", { result: { imageId: "a1" } } as never))).toMatchObject({ detailType: "Job Succeeded", detail: { jobId: "j1", action: "delete", imageId: "a1" } });
    expect(jobEvent(job("submitted"), job("failed", { error: { code: "UpstreamError", message: "boom" } } as never))).toMatchObject({ detailType: "Job Failed", detail: { error: { code: "UpstreamError", message: "boom" } } });
    expect(jobEvent(job("succeeded"), job("succeeded"))).toBeUndefined();
    expect(jobEvent(undefined, job("queued"))).toBeUndefined();
  });
});
