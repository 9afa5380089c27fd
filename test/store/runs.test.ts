/** The per-source lease and run records in DynamoDB Local, without a sync engine in between. */
import { describe, expect, it } from "vitest";
import { acquireLease, getLatestRun, listRuns, recordRun, type SyncRun } from "../../packages/store/runs";
import { tableForThisFile } from "../support/stack";

const testTable = tableForThisFile();

describe("lease", () => {
  it("a run whose lease lapsed and was taken over is recorded but does not overwrite the new holder", async () => {
    const source = { provider: "triton" as const, sourceId: "lapsed-source" };
    await acquireLease(testTable.table, { ...source, runId: "slow-run", seconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await acquireLease(testTable.table, { ...source, runId: "next-run", seconds: 60 })).toMatchObject({ acquired: true });
    const now = new Date().toISOString();
    const slowRun: SyncRun = {
      ...source, runId: "slow-run", trigger: "manual", status: "ok", startedAt: now, finishedAt: now, durationMs: 0,
      counts: { seen: 0, added: 0, changed: 0, removed: 0, revived: 0, unchanged: 0 }, writes: 0, superseded: 0,
    };
    expect(await recordRun(testTable.table, slowRun)).toBeUndefined();
    expect(await getLatestRun(testTable.table, source.sourceId)).toMatchObject({ leaseRunId: "next-run" });
    expect((await getLatestRun(testTable.table, source.sourceId))?.status).toBeUndefined();
    expect((await listRuns(testTable.table, source.sourceId)).runs.map((run) => run.runId)).toEqual(["slow-run"]);
  });
});

describe("source health on the LATEST item", () => {
  it("counts failed runs in a row, resets on success, and remembers the first run", async () => {
    const source = { provider: "coxedge" as const, sourceId: "health-source" };
    const record = async (runId: string, status: SyncRun["status"], startedAt: string) => {
      await acquireLease(testTable.table, { ...source, runId, seconds: 60 });
      return recordRun(testTable.table, {
        ...source, runId, trigger: "schedule", status, startedAt, finishedAt: startedAt, durationMs: 0,
        counts: { seen: 0, added: 0, changed: 0, removed: 0, revived: 0, unchanged: 0 }, writes: 0, superseded: 0,
      });
    };
    expect(await record("r1", "failed", "2026-01-01T00:00:00.000Z")).toMatchObject({ consecutiveFailures: 1, firstRunAt: "2026-01-01T00:00:00.000Z" });
    expect((await record("r1b", "failed", "2026-01-01T00:15:00.000Z"))?.lastOkAt).toBeUndefined();
    expect(await record("r2", "ok", "2026-01-01T00:30:00.000Z")).toMatchObject({ consecutiveFailures: 0, lastOkAt: "2026-01-01T00:30:00.000Z" });
    await record("r3", "failed", "2026-01-01T00:45:00.000Z");
    expect(await record("r4", "failed", "2026-01-01T01:00:00.000Z")).toMatchObject({
      consecutiveFailures: 2,
      lastOkAt: "2026-01-01T00:30:00.000Z",
      firstRunAt: "2026-01-01T00:00:00.000Z",
    });
  });
});
