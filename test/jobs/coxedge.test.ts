/**
 * Cox Edge jobs end to end: create and delete through tasks polled with GetTask, to success and to
 * upstream failure; duplicates and a lost answer reconciled by family and tag.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobsContext } from "../../packages/jobs/context";
import { getImage, upsertImage } from "../../packages/store/inventory";
import type { JobRecord } from "../../packages/store/jobs";
import { coxedgeSourceId, coxedgeWorkload, startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.coxedge.faults.clear();
  h.coxedge.state.settings.taskFailureRate = 0;
});

const table = () => jobsContext().table;
const newJobId = (action: string) => `coxedge-${action}-${randomUUID().slice(0, 8)}`;
const inventoryItem = (upstreamId: string) => getImage(table(), { provider: "coxedge", sourceId: coxedgeSourceId, upstreamId });
const callCount = (operation: string) => h.coxedge.counters.get(operation);
const newTag = () => `v${randomUUID().slice(0, 8)}`;
const withFamilyAndTag = (family: string, tag: string) => h.coxedge.state.snapshot().filter((image) => image.family === family && image.tag === tag);

async function run(action: string, params: Record<string, unknown>, operation: string): Promise<{ job: JobRecord; calls: number }> {
  const before = callCount(operation);
  const jobId = newJobId(action);
  await h.send({ jobId, provider: "coxedge", source: coxedgeSourceId, action, params });
  const job = await h.waitForJob(jobId);
  return { job, calls: callCount(operation) - before };
}

describe("create", () => {
  it("starts one task, polls it to SUCCESS and lists the READY image at once", async () => {
    const tag = newTag();
    const { job, calls } = await run("create", { family: "ubuntu", tag, ...coxedgeWorkload, description: "base" }, "CreateImage");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", attempts: 1, upstream: { taskId: expect.any(String) } });
    expect(job.polls).toBeGreaterThanOrEqual(1);
    const [image] = withFamilyAndTag("ubuntu", tag);
    expect(job.result?.imageId).toBe(image?.id);
    expect(await inventoryItem(image?.id as string)).toMatchObject({ name: "ubuntu", version: tag, state: "active", status: "READY", type: "custom" });
  });

  it("fails with the upstream message when Cox Edge refuses (container workload, 400)", async () => {
    const { job } = await run("create", { family: "ubuntu", tag: newTag(), workloadId: "5d0e7c1a-3b8f-4d2e-9a61-0c4f2b7e8d90", instanceName: "c-web-lax-0" }, "CreateImage");
    expect(job).toMatchObject({
      state: "failed",
      error: { code: "UpstreamValidationError", status: 400, upstreamMessage: expect.stringContaining("only VM workloads are allowed") },
    });
  });

  it("fails when the task ends in FAILURE", async () => {
    h.coxedge.state.settings.taskFailureRate = 1;
    const { job } = await run("create", { family: "ubuntu", tag: newTag(), ...coxedgeWorkload }, "CreateImage");
    expect(job).toMatchObject({ state: "failed", error: { code: "TaskFailed", upstreamCode: "FAILURE" } });
  });
});

describe("delete", () => {
  it("deletes a custom image through its task and tombstones it", async () => {
    const image = h.coxedge.state.putImage({ family: "old", tag: newTag() });
    await upsertImage(table(), { provider: "coxedge", image, sourceId: coxedgeSourceId, observedAt: new Date(Date.now() - 60_000) });
    const { job, calls } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.id } });
    expect(withFamilyAndTag("old", image.tag)).toHaveLength(0);
    expect((await inventoryItem(image.id))?.removedAt).toEqual(expect.any(String));
  });

  it("fails with the upstream message for a default image", async () => {
    const image = h.coxedge.state.putImage({ family: "debian", tag: newTag(), type: "default" });
    const { job } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(job).toMatchObject({ state: "failed", error: { status: 400, upstreamCode: "NOT_CUSTOM_IMAGE" } });
  });
});

describe("exactly one upstream effect", () => {
  it("a job message delivered twice starts one task", async () => {
    const tag = newTag();
    const jobId = newJobId("dup");
    const message = { jobId, provider: "coxedge", source: coxedgeSourceId, action: "create", params: { family: "ubuntu", tag, ...coxedgeWorkload } };
    const before = callCount("CreateImage");
    await Promise.all([h.send(message), h.send(message)]);
    expect(await h.waitForJob(jobId)).toMatchObject({ state: "succeeded" });
    expect(callCount("CreateImage") - before).toBe(1);
  });

  it("an answer lost after the task started is reconciled by family and tag and followed through the image", async () => {
    const tag = newTag();
    h.coxedge.faults.truncate({ method: "POST", times: 1 });
    const { job, calls } = await run("create", { family: "ubuntu", tag, ...coxedgeWorkload }, "CreateImage");
    expect(calls).toBe(1);
    const [image] = withFamilyAndTag("ubuntu", tag);
    expect(job).toMatchObject({ state: "succeeded", attempts: 2, result: { imageId: image?.id }, upstream: { preexistingImageIds: [] } });
    expect(job.upstream?.taskId).toBeUndefined();
    expect(await inventoryItem(image?.id as string)).toMatchObject({ status: "READY" });
  });

  it("a 429 is retried no sooner than its Retry-After, and the job still starts one task", async () => {
    const tag = newTag();
    h.coxedge.faults.throttle(2, { method: "POST", times: 1 });
    const { job, calls } = await run("create", { family: "ubuntu", tag, ...coxedgeWorkload }, "CreateImage");
    expect(calls).toBe(2); // the throttled call and the retry
    expect(job).toMatchObject({ state: "succeeded", attempts: 2 });
    expect(Date.parse(job.submittedAt as string) - Date.parse(job.createdAt)).toBeGreaterThanOrEqual(2000);
    expect(withFamilyAndTag("ubuntu", tag)).toHaveLength(1);
  });

  it("a delete whose answer was lost is not repeated while its task runs", async () => {
    const image = h.coxedge.state.putImage({ family: "gone", tag: newTag() });
    h.coxedge.state.settings.taskDelayMs = 1500;
    h.coxedge.faults.truncate({ method: "DELETE", times: 1 });
    try {
      const { job, calls } = await run("delete", { imageId: image.id }, "DeleteImage");
      // The retry's DELETE meets "task in progress" (409) and follows the image until it is gone.
      expect(calls).toBe(2);
      expect(job).toMatchObject({ state: "succeeded", attempts: 2, result: { imageId: image.id } });
      expect(withFamilyAndTag("gone", image.tag)).toHaveLength(0);
    } finally {
      h.coxedge.state.settings.taskDelayMs = 300;
    }
  });
});
