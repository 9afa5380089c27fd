/**
 * Cox Edge jobs end to end: create and delete through tasks polled with GetTask, to success and to
 * upstream failure; tasks that are gone, final answers taken without polling; duplicates and a lost answer
 * reconciled by family and tag or through the image, with the simulator refusing conflicts with 400
 * (its default: the documented status) or 409.
 * Evidence named in comments: the CloudMC API docs source (`source/includes/_getting_started.md`,
 * `source/includes/stackpath/_images.md`), coxedge/terraform-provider-coxedge `coxedge/apiclient/*.go`,
 * coxedge/cluster-api-provider-coxedge `pkg/cloud/coxedge/client.go`, cloudops/cloudmc-services-js-client
 * `src/PollingResolver.js`.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deleteRefusalGraceChecks } from "../../packages/jobs/coxedge";
import { jobsContext } from "../../packages/jobs/context";
import { getImage, upsertImage } from "../../packages/store/inventory";
import type { JobRecord } from "../../packages/store/jobs";
import type { CoxEdgeSimSettings } from "../../packages/simulators/coxedge/state";
import { coxedgeSourceId, coxedgeWorkload, startHarness, type Harness } from "./harness";

let h: Harness;
let initialSettings: CoxEdgeSimSettings;
beforeAll(async () => {
  h = await startHarness();
  initialSettings = { ...h.coxedge.state.settings };
});
afterAll(() => h.close());
beforeEach(() => {
  h.coxedge.faults.clear();
  Object.assign(h.coxedge.state.settings, initialSettings);
});

const table = () => jobsContext().table;
const newJobId = (action: string) => `coxedge-${action}-${randomUUID().slice(0, 8)}`;
const inventoryItem = (upstreamId: string) => getImage(table(), { provider: "coxedge", sourceId: coxedgeSourceId, upstreamId });
const callCount = (operation: string) => h.coxedge.counters.get(operation);
const newTag = () => `v${randomUUID().slice(0, 8)}`;
const withFamilyAndTag = (family: string, tag: string) => h.coxedge.state.snapshot().filter((image) => image.family === family && image.tag === tag);

async function run(action: string, params: Record<string, unknown>, operation: string, timeoutMs?: number): Promise<{ job: JobRecord; calls: number }> {
  const before = callCount(operation);
  const jobId = newJobId(action);
  await h.send({ jobId, provider: "coxedge", source: coxedgeSourceId, action, params });
  const job = await h.waitForJob(jobId, undefined, timeoutMs);
  return { job, calls: callCount(operation) - before };
}

/** Sends a job and waits until it is submitted (its first upstream call answered), for changes upstream before its first check. */
async function submitted(action: string, params: Record<string, unknown>): Promise<string> {
  const jobId = newJobId(action);
  await h.send({ jobId, provider: "coxedge", source: coxedgeSourceId, action, params });
  await h.waitForJob(jobId, (job) => job.state !== "queued" && job.state !== "submitting");
  return jobId;
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

  // The upstream message of an error body with an integer code (the CloudMC docs
  // `source/includes/_getting_started.md`) reaches the job's error, its code as a string.
  it("fails with the upstream message and code when Cox Edge refuses (container workload, 400)", async () => {
    const { job } = await run("create", { family: "ubuntu", tag: newTag(), workloadId: "5d0e7c1a-3b8f-4d2e-9a61-0c4f2b7e8d90", instanceName: "c-web-lax-0" }, "CreateImage");
    expect(job).toMatchObject({
      state: "failed",
      error: {
        code: "UpstreamValidationError",
        status: 400,
        upstreamCode: "1001",
        upstreamMessage: expect.stringContaining("only VM workloads are allowed"),
        message: expect.stringContaining("only VM workloads are allowed"),
      },
    });
  });

  // FAILED: the CloudMC docs `source/includes/_getting_started.md`, cloudops/cloudmc-services-js-client
  // `src/PollingResolver.js`; FAILURE: coxedge/terraform-provider-coxedge `coxedge/apiclient/tasks.go`.
  it.each(["FAILED", "FAILURE"] as const)("fails when the task ends in %s", async (spelling) => {
    h.coxedge.state.settings.taskFailureRate = 1;
    h.coxedge.state.settings.taskFailureStatus = spelling;
    const { job } = await run("create", { family: "ubuntu", tag: newTag(), ...coxedgeWorkload }, "CreateImage");
    expect(job).toMatchObject({ state: "failed", error: { code: "TaskFailed", upstreamCode: spelling } });
  });

  // What an image task's `result` holds is undocumented (`result.id` in coxedge/terraform-provider-coxedge
  // `coxedge/apiclient/models.go`, `result.workloadId` in coxedge/cluster-api-provider-coxedge
  // `pkg/cloud/coxedge/client.go`).
  it("finds the image by family and tag when the SUCCESS task's result holds no image id", async () => {
    h.coxedge.state.settings.resultIncludesImageId = false;
    const tag = newTag();
    const { job } = await run("create", { family: "ubuntu", tag, ...coxedgeWorkload }, "CreateImage");
    const [image] = withFamilyAndTag("ubuntu", tag);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image?.id } });
    expect(await inventoryItem(image?.id as string)).toMatchObject({ status: "READY" });
  });

  it("takes a create answered SUCCESS at once without polling, finding the image by family and tag", async () => {
    h.coxedge.state.settings.taskDelayMs = 0;
    const tag = newTag();
    const tasksBefore = callCount("GetTask");
    const { job } = await run("create", { family: "ubuntu", tag, ...coxedgeWorkload }, "CreateImage");
    expect(job).toMatchObject({ state: "succeeded", polls: 0, result: { imageId: withFamilyAndTag("ubuntu", tag)[0]?.id } });
    expect(callCount("GetTask") - tasksBefore).toBe(0);
  });
});

// "a task will only stay alive for 30 minutes (in general)": the CloudMC docs `source/includes/_getting_started.md`.
// A task that is gone (404) is not a failure: the job is decided from the image.
describe("a task that is gone (404)", () => {
  beforeEach(() => {
    h.coxedge.state.settings.taskTtlMs = 0;
  });

  it("create: follows the image from then on, to READY", async () => {
    h.coxedge.state.settings.taskDelayMs = 2500;
    const tag = newTag();
    const tasksBefore = callCount("GetTask");
    const { job } = await run("create", { family: "ubuntu", tag, ...coxedgeWorkload }, "CreateImage");
    const [image] = withFamilyAndTag("ubuntu", tag);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image?.id }, upstream: { imageId: image?.id } });
    expect(job.upstream?.taskId).toBeUndefined();
    expect(job.polls).toBeGreaterThanOrEqual(2);
    expect(callCount("GetTask") - tasksBefore).toBe(1);
  });

  it("create: fails when the image it finds has FAILED", async () => {
    h.coxedge.state.settings.taskFailureRate = 1;
    const { job } = await run("create", { family: "ubuntu", tag: newTag(), ...coxedgeWorkload }, "CreateImage");
    expect(job).toMatchObject({ state: "failed", error: { code: "ImageFailed" } });
  });

  it("create: fails with a clear message when no image with the family and tag exists", async () => {
    h.coxedge.state.settings.taskDelayMs = 60_000;
    const tag = newTag();
    const jobId = await submitted("create", { family: "ubuntu", tag, ...coxedgeWorkload });
    for (const image of withFamilyAndTag("ubuntu", tag)) h.coxedge.state.removeImage(image.id);
    expect(await h.waitForJob(jobId)).toMatchObject({
      state: "failed",
      error: { code: "TaskExpired", message: expect.stringMatching(new RegExp(`task .* is gone .*no image with family ubuntu and tag ${tag} exists`)) },
    });
  });

  it("delete: succeeds when the image is gone", async () => {
    const image = h.coxedge.state.putImage({ family: "expired", tag: newTag() });
    const { job } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.id } });
  });

  it("delete: fails with a clear message when the image is still there", async () => {
    h.coxedge.state.settings.taskFailureRate = 1;
    const image = h.coxedge.state.putImage({ family: "expired", tag: newTag() });
    const { job } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(job).toMatchObject({ state: "failed", error: { code: "TaskExpired", message: expect.stringContaining(`image ${image.id} still exists`) } });
    expect(withFamilyAndTag("expired", image.tag)).toHaveLength(1);
  });
});

describe("delete", () => {
  it("deletes a custom image through its task and tombstones it", async () => {
    const image = h.coxedge.state.putImage({ family: "old", tag: newTag() });
    await upsertImage(table(), { provider: "coxedge", image, sourceId: coxedgeSourceId, observedAt: new Date(Date.now() - 60_000), cause: "sync:test" });
    const { job, calls } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.id } });
    expect(withFamilyAndTag("old", image.tag)).toHaveLength(0);
    expect((await inventoryItem(image.id))?.removedAt).toEqual(expect.any(String));
  });

  it("fails with the upstream message for a default image", async () => {
    const image = h.coxedge.state.putImage({ family: "debian", tag: newTag(), type: "default" });
    const { job } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(job).toMatchObject({ state: "failed", error: { status: 400, upstreamCode: "2010", upstreamMessage: expect.stringContaining("only custom images") } });
  });

  // The images docs `source/includes/stackpath/_images.md` show a delete answering `"taskStatus": "SUCCESS"`;
  // cloudops/cloudmc-services-js-client `src/PollingResolver.js` resolves such an answer without polling.
  it("finishes a delete answered SUCCESS at once without polling (no GetTask)", async () => {
    h.coxedge.state.settings.taskDelayMs = 0;
    const image = h.coxedge.state.putImage({ family: "quick", tag: newTag() });
    await upsertImage(table(), { provider: "coxedge", image, sourceId: coxedgeSourceId, observedAt: new Date(Date.now() - 60_000), cause: "sync:test" });
    const tasksBefore = callCount("GetTask");
    const { job } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(job).toMatchObject({ state: "succeeded", polls: 0, result: { imageId: image.id } });
    expect(callCount("GetTask") - tasksBefore).toBe(0);
    expect((await inventoryItem(image.id))?.removedAt).toEqual(expect.any(String));
  });

  it("fails a delete answered FAILED at once without polling (no GetTask)", async () => {
    h.coxedge.state.settings.taskDelayMs = 0;
    h.coxedge.state.settings.taskFailureRate = 1;
    const image = h.coxedge.state.putImage({ family: "quick", tag: newTag() });
    const tasksBefore = callCount("GetTask");
    const { job } = await run("delete", { imageId: image.id }, "DeleteImage");
    expect(job).toMatchObject({ state: "failed", polls: 0, error: { code: "TaskFailed", upstreamCode: "FAILED" } });
    expect(callCount("GetTask") - tasksBefore).toBe(0);
  });
});

// Neither a duplicate family+tag nor a delete during a running task has a documented status (the CloudMC docs
// `source/includes/_getting_started.md` list 400 and no 409): nothing here may depend on a 409.
describe.each([400, 409] as const)("exactly one upstream effect (conflicts answered %i)", (conflictStatus) => {
  beforeEach(() => {
    h.coxedge.state.settings.conflictStatus = conflictStatus;
  });

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
    const { job, calls } = await run("delete", { imageId: image.id }, "DeleteImage");
    // The retry's DELETE meets "task in progress" (refused with conflictStatus) and follows the image until it is gone.
    expect(calls).toBe(2);
    expect(job).toMatchObject({ state: "succeeded", attempts: 2, result: { imageId: image.id } });
    expect(withFamilyAndTag("gone", image.tag)).toHaveLength(0);
  });

  it("a delete whose answer was lost fails with the refusal's upstream message when the image outlasts the grace", async () => {
    const image = h.coxedge.state.putImage({ family: "stuck", tag: newTag() });
    h.coxedge.state.settings.taskDelayMs = 120_000;
    h.coxedge.faults.truncate({ method: "DELETE", times: 1 });
    const { job, calls } = await run("delete", { imageId: image.id }, "DeleteImage", 45_000);
    // The lost DELETE, the refused repeat, and one more after deleteRefusalGraceChecks checks of the image.
    expect(calls).toBe(3);
    expect(job.polls).toBe(deleteRefusalGraceChecks);
    expect(job).toMatchObject({
      state: "failed",
      error: { status: conflictStatus, upstreamCode: "2012", upstreamMessage: expect.stringContaining("has a task in progress") },
    });
    expect(withFamilyAndTag("stuck", image.tag)).toHaveLength(1);
  }, 60_000);
});
