/**
 * Overlapping runs for one source (EventBridge double-firing, a manual run during the scheduled one) and
 * a crashed run's lease; plus the scheduled handlers as Lambda invokes them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler as coxedgeHandler } from "../../functions/sync-coxedge";
import { invoke } from "../../packages/local/adapters/lambda";
import { acquireLease, getLatestRun, listRuns, recordRun, type SyncRun } from "../../packages/store/runs";
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

  it("a run whose lease lapsed and was taken over is recorded but does not overwrite the new holder", async () => {
    const source = { provider: "triton" as const, sourceId: "lapsed-source" };
    await acquireLease(h.table, { ...source, runId: "slow-run", seconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await acquireLease(h.table, { ...source, runId: "next-run", seconds: 60 })).toMatchObject({ acquired: true });
    const now = new Date().toISOString();
    const slowRun: SyncRun = {
      ...source, runId: "slow-run", trigger: "manual", status: "ok", startedAt: now, finishedAt: now, durationMs: 0,
      counts: { seen: 0, added: 0, changed: 0, removed: 0, revived: 0, unchanged: 0 }, writes: 0, superseded: 0,
    };
    expect(await recordRun(h.table, slowRun)).toBe(false);
    expect(await getLatestRun(h.table, source.sourceId)).toMatchObject({ leaseRunId: "next-run" });
    expect((await getLatestRun(h.table, source.sourceId))?.status).toBeUndefined();
    expect((await listRuns(h.table, source.sourceId)).runs.map((run) => run.runId)).toEqual(["slow-run"]);
  });
});

describe("scheduled handler", () => {
  const settings = { functionName: "CoxEdgeSync", timeoutSeconds: 30 };
  beforeAll(() => {
    Object.assign(process.env, h.env);
  });

  it("syncs the provider's sources from the scheduled event", async () => {
    const runs = await invoke(coxedgeHandler, { provider: "coxedge" }, settings);
    expect(runs).toMatchObject([{ sourceId: h.coxedgeSourceId, status: "ok", trigger: "schedule" }]);
  });

  it("rejects an event for another provider, naming the field", async () => {
    await expect(invoke(coxedgeHandler, { provider: "triton" }, settings)).rejects.toThrow(/invalid coxedge sync event: provider: Invalid input: expected "coxedge"/);
  });

  it("rejects an unknown source id", async () => {
    await expect(invoke(coxedgeHandler, { provider: "coxedge", sourceId: "nope" }, settings)).rejects.toThrow(/no coxedge source "nope" is configured \(configured: coxedge-test\)/);
  });
});
