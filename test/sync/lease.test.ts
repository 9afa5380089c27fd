/**
 * Overlapping runs for one source (EventBridge double-firing, a manual run during the scheduled one) and
 * a crashed run's lease, as the sync engine meets them. The lease's own store rules are in
 * test/store/runs.test.ts, the scheduled handlers in test/functions/sync-handler.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLease, getLatestRun, listRuns, type SyncRun } from "../../packages/store/runs";
import { startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ images: 15 });
});
afterAll(() => h.close());

const lease = async () => (await getLatestRun(h.table, h.tritonSourceId))?.leaseRunId;

describe("lease", () => {
  it("of two concurrent runs for a source one syncs and the other is skipped-locked", async () => {
    h.triton.faults.latency(300);
    let runs: SyncRun[];
    try {
      runs = (await Promise.all([h.sync("triton"), h.sync("triton")])).flat();
    } finally {
      h.triton.faults.clear();
    }
    const ok = runs.find((run) => run.status === "ok");
    const skipped = runs.find((run) => run.status === "skipped-locked");
    expect(ok?.counts.added).toBe((await h.upstream("triton")).size);
    expect(skipped).toMatchObject({ writes: 0, counts: { seen: 0 } });
    expect(skipped?.error).toContain(`lease held by run ${ok?.runId}`);
    expect(h.imageWrites()).toBe(ok?.counts.added);
    const recorded = (await listRuns(h.table, h.tritonSourceId)).runs.map((run) => run.runId);
    expect(recorded.toSorted()).toEqual([ok?.runId, skipped?.runId].toSorted());
    // The source's latest is the run that synced; the lease went back with it.
    expect(await getLatestRun(h.table, h.tritonSourceId)).toMatchObject({ runId: ok?.runId, status: "ok" });
    expect(await lease()).toBeUndefined();
  });

  it("a crashed run's lease blocks the source until it lapses", async () => {
    await acquireLease(h.table, { provider: "triton", sourceId: h.tritonSourceId, runId: "crashed-run", seconds: 1 });
    const [blocked] = await h.sync("triton");
    expect(blocked).toMatchObject({ status: "skipped-locked", error: expect.stringContaining("lease held by run crashed-run") });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const [after] = await h.sync("triton");
    expect(after?.status).toBe("ok");
    expect(await lease()).toBeUndefined();
  });
});
