/**
 * Listed images DynamoDB cannot hold (nested past its 32 levels, an empty map key, a number beyond what the
 * SDK writes) are set aside with the reason: the source keeps syncing, and they are never tombstoned.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLatestRun } from "../../packages/store/runs";
import { startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ images: 10 });
});
afterAll(() => h.close());

const nested = (depth: number): Record<string, unknown> => (depth === 0 ? { leaf: "x" } : { level: nested(depth - 1) });

describe("unstorable upstream images", () => {
  it("a listing with unstorable images syncs the rest, names the first, and writes none of them", async () => {
    const deep = h.triton.addImage({ name: "deep-tags", tags: nested(200) as never });
    const huge = h.triton.addImage({ name: "huge-number", tags: { size: 1e300 } as never });
    const [run] = await h.sync("triton");
    expect(run?.error).toBeUndefined();
    expect(run?.status).toBe("ok");
    expect(run?.unstorable?.count).toBe(2);
    expect(run?.unstorable?.first).toMatch(/^[0-9a-f-]{36}: raw\.tags\.(level\.){2,}.*must not nest more than 30 levels deep$|^[0-9a-f-]{36}: raw\.tags\.size: must be 0 or between 1e-130 and 2\^53 - 1 in size$/);
    const stored = await h.stored("triton");
    expect(stored.has(deep.uuid)).toBe(false);
    expect(stored.has(huge.uuid)).toBe(false);
    const upstream = await h.upstream("triton");
    expect(stored.size).toBe(upstream.size - 2);
    expect((await getLatestRun(h.table, h.tritonSourceId))?.unstorable?.count).toBe(2);
    // The same listing again is the known one: compared with nothing, it still reports them.
    const [again] = await h.sync("triton");
    expect(again).toMatchObject({ status: "ok", compared: "listing", writes: 0, unstorable: run?.unstorable });
    expect(again?.counts).toEqual({ seen: upstream.size, added: 0, changed: 0, removed: 0, revived: 0, unchanged: upstream.size - 2 });
  });

  it("a stored image that becomes unstorable upstream is left as it was, not tombstoned", async () => {
    const [id] = [...(await h.stored("triton")).keys()];
    const before = (await h.stored("triton")).get(id as string);
    h.triton.modifyImage(id as string, { tags: { "": "empty key" } as never });
    const [run] = await h.sync("triton");
    expect(run).toMatchObject({ status: "ok", counts: expect.objectContaining({ removed: 0, changed: 0 }) });
    expect(run?.unstorable).toMatchObject({ count: 3 });
    const after = (await h.stored("triton")).get(id as string);
    expect(after).toEqual(before);
  });

  it("once they are storable again they sync like any image, and the run no longer reports them", async () => {
    for (const image of h.triton.imageRecords().filter((record) => record.name === "deep-tags" || record.name === "huge-number")) h.triton.removeImage(image.uuid);
    const [id] = [...(await h.stored("triton")).keys()].filter((key) => JSON.stringify(h.triton.getImageRecord(key)?.tags ?? {}).includes("empty key"));
    h.triton.modifyImage(id as string, { tags: { role: "fixed" } as never });
    const [run] = await h.sync("triton");
    expect(run).toMatchObject({ status: "ok", counts: expect.objectContaining({ changed: 1 }) });
    expect(run?.unstorable).toBeUndefined();
    expect((await getLatestRun(h.table, h.tritonSourceId))?.unstorable).toBeUndefined();
  });
});
