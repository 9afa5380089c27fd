/**
 * Single-image refreshes (what jobs call): the same item as a sync would write, no write when nothing
 * changed, and ordering by observation time so an older picture never overwrites a newer one.
 */
import { describe, expect, it } from "vitest";
import { getImage, markImageRemoved, readSourceState, upsertImage } from "../../packages/store/inventory";
import { tableForThisFile } from "../support/stack";
import { tritonImage } from "./fixtures";

const testTable = tableForThisFile();

const source = { provider: "triton" as const, sourceId: "store-test" };
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));

describe("upsertImage and markImageRemoved", () => {
  const key = { ...source, upstreamId: tritonImage.id };

  it("adds, leaves unchanged content alone, and changes", async () => {
    expect(await upsertImage(testTable.table, { ...source, image: tritonImage, observedAt: at(1), cause: "sync:test" })).toBe("added");
    expect(await upsertImage(testTable.table, { ...source, image: tritonImage, observedAt: at(2), cause: "sync:test" })).toBe("unchanged");
    expect(await getImage(testTable.table, key)).toMatchObject({ observedAt: at(1).toISOString(), lastSeenAt: at(1).toISOString() });

    const { os: _os, ...withoutOs } = tritonImage;
    expect(await upsertImage(testTable.table, { ...source, image: { ...withoutOs, state: "disabled" }, observedAt: at(3), cause: "sync:test" })).toBe("changed");
    const item = await getImage(testTable.table, key);
    expect(item).toMatchObject({ state: "disabled", status: "disabled", firstSeenAt: at(1).toISOString(), lastChangedAt: at(3).toISOString() });
    // A field the upstream dropped is dropped from the view too.
    expect(item && "os" in item).toBe(false);
  });

  it("never lets an older observation overwrite a newer one", async () => {
    expect(await upsertImage(testTable.table, { ...source, image: { ...tritonImage, description: "stale" }, observedAt: at(2), cause: "sync:test" })).toBe("superseded");
    expect((await getImage(testTable.table, key))?.state).toBe("disabled");
    expect(await markImageRemoved(testTable.table, { ...key, observedAt: at(2), retentionDays: 30, cause: "sync:test" })).toBe("skipped");
  });

  it("tombstones with the retention as TTL, once, and revives", async () => {
    expect(await markImageRemoved(testTable.table, { ...key, observedAt: at(4), retentionDays: 30, cause: "sync:test" })).toBe("removed");
    expect(await markImageRemoved(testTable.table, { ...key, observedAt: at(5), retentionDays: 30, cause: "sync:test" })).toBe("skipped");
    const tombstone = await getImage(testTable.table, key);
    expect(tombstone).toMatchObject({ removedAt: at(4).toISOString(), expiresAt: at(4).getTime() / 1000 + 30 * 86_400 });
    expect((await readSourceState(testTable.table, source)).get(key.upstreamId)).toEqual({
      contentHash: tombstone?.contentHash,
      lastSeenAt: at(3).toISOString(),
      removedAt: at(4).toISOString(),
    });

    expect(await upsertImage(testTable.table, { ...source, image: tritonImage, observedAt: at(6), cause: "sync:test" })).toBe("revived");
    const revived = await getImage(testTable.table, key);
    expect(revived?.removedAt).toBeUndefined();
    expect(revived?.expiresAt).toBeUndefined();
    expect(revived?.firstSeenAt).toBe(at(1).toISOString());
  });

  it("skips removing an image it never stored", async () => {
    expect(await markImageRemoved(testTable.table, { ...source, upstreamId: "unknown", observedAt: at(7), retentionDays: 30, cause: "sync:test" })).toBe("skipped");
    expect(await getImage(testTable.table, { ...source, upstreamId: "unknown" })).toBeUndefined();
  });
});
