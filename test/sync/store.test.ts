/**
 * Single-image refreshes (what jobs call): the same item as a sync would write, no write when nothing
 * changed, and ordering by observation time so an older picture never overwrites a newer one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentClient } from "../../packages/core/aws";
import type { CoxEdgeImage } from "../../packages/providers/coxedge/schemas";
import type { TritonImage } from "../../packages/providers/triton/schemas";
import { getImage, markImageRemoved, readSourceState, upsertImage } from "../../packages/store/inventory";
import { contentHash, normaliseImage } from "../../packages/store/normalise";
import type { Table } from "../../packages/store/table";
import { createTestTable } from "../support/stack";

let table: Table;
let drop: () => Promise<void>;
beforeAll(async () => {
  const created = await createTestTable();
  table = { client: documentClient(), name: created.tableName };
  drop = created.drop;
});
afterAll(() => drop());

const tritonImage: TritonImage = {
  id: "2b683a82-a066-11e3-97ab-2faa44701c5a",
  name: "base",
  version: "13.4.0",
  os: "smartos",
  requirements: {},
  type: "zone-dataset",
  description: "A 32-bit SmartOS image",
  files: [{ compression: "gzip", sha1: "3bebb6ae2cdb26eef20cfb30fdc4a00a059a0b7b", size: 110742036 }],
  tags: { role: "os", group: "base-32" },
  published_at: "2014-02-28T10:50:42Z",
  owner: "930896af-bf8c-48d4-885c-6573a94b1853",
  public: true,
  state: "active",
};
const source = { provider: "triton" as const, sourceId: "store-test" };
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second));

describe("normalisation", () => {
  it("hashes content, not key order", () => {
    const reordered = Object.fromEntries(Object.entries(tritonImage).toReversed()) as TritonImage;
    expect(contentHash(reordered)).toBe(contentHash(tritonImage));
    expect(contentHash({ ...tritonImage, tags: { group: "base-32", role: "os" } })).toBe(contentHash(tritonImage));
    expect(contentHash({ ...tritonImage, description: "other" })).not.toBe(contentHash(tritonImage));
  });

  it("maps Cox Edge fields onto the common view", () => {
    const image: CoxEdgeImage = {
      id: "a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110",
      stackId: "a8050b2b-39eb-4929-bce5-1af42055903e",
      family: "ubuntu",
      tag: "v20201110",
      slug: "stackpath-edge",
      createdAt: "2020-11-10T20:34:11.328575Z",
      description: "Image using ubuntu",
      reference: "stackpath-edge/ubuntu:v20201110",
      status: "PROCESSING",
    };
    expect(normaliseImage({ provider: "coxedge", image }).view).toEqual({
      name: "ubuntu",
      version: "v20201110",
      os: "ubuntu",
      type: "default",
      state: "creating",
      status: "PROCESSING",
      public: true,
      owner: image.stackId,
      description: "Image using ubuntu",
      createdAt: "2020-11-10T20:34:11.328Z",
    });
  });
});

describe("upsertImage and markImageRemoved", () => {
  const key = { ...source, upstreamId: tritonImage.id };

  it("adds, leaves unchanged content alone, and changes", async () => {
    expect(await upsertImage(table, { ...source, image: tritonImage, observedAt: at(1) })).toBe("added");
    expect(await upsertImage(table, { ...source, image: tritonImage, observedAt: at(2) })).toBe("unchanged");
    expect(await getImage(table, key)).toMatchObject({ observedAt: at(1).toISOString(), lastSeenAt: at(1).toISOString() });

    const { os: _os, ...withoutOs } = tritonImage;
    expect(await upsertImage(table, { ...source, image: { ...withoutOs, state: "disabled" }, observedAt: at(3) })).toBe("changed");
    const item = await getImage(table, key);
    expect(item).toMatchObject({ state: "disabled", status: "disabled", firstSeenAt: at(1).toISOString(), lastChangedAt: at(3).toISOString() });
    // A field the upstream dropped is dropped from the view too.
    expect(item && "os" in item).toBe(false);
  });

  it("never lets an older observation overwrite a newer one", async () => {
    expect(await upsertImage(table, { ...source, image: { ...tritonImage, description: "stale" }, observedAt: at(2) })).toBe("superseded");
    expect((await getImage(table, key))?.state).toBe("disabled");
    expect(await markImageRemoved(table, { ...key, observedAt: at(2), retentionDays: 30 })).toBe("skipped");
  });

  it("tombstones with the retention as TTL, once, and revives", async () => {
    expect(await markImageRemoved(table, { ...key, observedAt: at(4), retentionDays: 30 })).toBe("removed");
    expect(await markImageRemoved(table, { ...key, observedAt: at(5), retentionDays: 30 })).toBe("skipped");
    const tombstone = await getImage(table, key);
    expect(tombstone).toMatchObject({ removedAt: at(4).toISOString(), expiresAt: at(4).getTime() / 1000 + 30 * 86_400 });
    expect((await readSourceState(table, source)).get(key.upstreamId)).toEqual({
      contentHash: tombstone?.contentHash,
      lastSeenAt: at(3).toISOString(),
      removedAt: at(4).toISOString(),
    });

    expect(await upsertImage(table, { ...source, image: tritonImage, observedAt: at(6) })).toBe("revived");
    const revived = await getImage(table, key);
    expect(revived?.removedAt).toBeUndefined();
    expect(revived?.expiresAt).toBeUndefined();
    expect(revived?.firstSeenAt).toBe(at(1).toISOString());
  });

  it("skips removing an image it never stored", async () => {
    expect(await markImageRemoved(table, { ...source, upstreamId: "unknown", observedAt: at(7), retentionDays: 30 })).toBe("skipped");
    expect(await getImage(table, { ...source, upstreamId: "unknown" })).toBeUndefined();
  });
});
