/** The scheduled sync handlers as Lambda invokes them: the event checked, the provider's sources synced. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler as coxedgeHandler } from "../../functions/sync-coxedge";
import { invoke } from "../../packages/local/adapters/lambda";
import { startHarness, type Harness } from "../sync/harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ images: 15 });
  Object.assign(process.env, h.env);
});
afterAll(() => h.close());

describe("scheduled handler", () => {
  const settings = { functionName: "CoxEdgeSync", timeoutSeconds: 30 };

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
