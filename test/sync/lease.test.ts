/**
 * Overlapping runs for one source (EventBridge double-firing, a manual run during the scheduled one) and
 * a crashed run's lease; plus the scheduled handlers as Lambda invokes them.
 */
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler as coxedgeHandler } from "../../functions/sync-coxedge";
import { invoke } from "../../packages/local/adapters/lambda";
import { acquireLease } from "../../packages/store/leases";
import { listRuns, type SyncRun } from "../../packages/store/runs";
import { startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ images: 15 });
});
afterAll(() => h.close());

const leaseItem = () => h.table.client.send(new GetCommand({ TableName: h.table.name, Key: { pk: `SOURCE#${h.tritonSourceId}`, sk: "LEASE" } }));

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
    expect((await leaseItem()).Item).toBeUndefined();
  });

  it("a crashed run's lease blocks the source until it lapses", async () => {
    await acquireLease(h.table, { provider: "triton", sourceId: h.tritonSourceId, runId: "crashed-run", seconds: 1 });
    const [blocked] = await h.sync("triton");
    expect(blocked).toMatchObject({ status: "skipped-locked", error: expect.stringContaining("lease held by run crashed-run") });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const [after] = await h.sync("triton");
    expect(after?.status).toBe("ok");
    expect((await leaseItem()).Item).toBeUndefined();
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
