/**
 * Triton jobs end to end: job messages on a real SQS queue, the real handler behind the poller, job
 * records and inventory in DynamoDB Local, CloudAPI simulated. Each action to success and to an upstream
 * refusal; duplicates, lost answers, 5xx and timeouts.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobsContext } from "../../packages/jobs/context";
import { TritonClient } from "../../packages/providers/triton/client";
import type { ImageRecord } from "../../packages/simulators/triton/simulator";
import { getImage, upsertImage } from "../../packages/store/inventory";
import { saveJob, StaleJobError, type JobRecord } from "../../packages/store/jobs";
import { loadStateDigest } from "../../packages/store/state-digest";
import { startHarness, tritonP384SourceId, tritonSourceId, tritonWestSourceId, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  h.triton.faults.clear();
  h.tritonWest.faults.clear();
  h.tritonWest.setImportDelayMs(50);
  h.triton.setCreateOutcome("active");
  h.triton.setCreateDelayMs(300);
});

const table = () => jobsContext().table;
const newJobId = (action: string) => `triton-${action}-${randomUUID().slice(0, 8)}`;
const inventoryItem = (upstreamId: string) => getImage(table(), { provider: "triton", sourceId: tritonSourceId, upstreamId });
const callCount = (operation: string) => h.triton.counters.get(operation);
const namesakes = (name: string) => h.triton.imageRecords().filter((image) => image.name === name);

/** Sends a job and waits for it to finish; returns it and how many times `operation` was called meanwhile. */
async function run(action: string, params: Record<string, unknown>, operation: string): Promise<{ job: JobRecord; calls: number }> {
  const before = callCount(operation);
  const jobId = newJobId(action);
  await h.send({ jobId, provider: "triton", source: tritonSourceId, action, params });
  const job = await h.waitForJob(jobId);
  return { job, calls: callCount(operation) - before };
}

const ownImage = (name: string): ImageRecord => h.triton.addImage({ name, owner: h.triton.accountUuid, public: false });
const publicImage = (name: string): ImageRecord => h.triton.addImage({ name });

describe("create", () => {
  it("submits once, polls GetImage until active and lists the new image at once", async () => {
    const machine = h.triton.addMachine();
    const name = `web-${randomUUID().slice(0, 6)}`;
    const { job, calls } = await run("create", { machine: machine.id, name, version: "1.0.0", description: "web tier" }, "CreateImageFromMachine");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", attempts: 1, result: { imageId: expect.any(String) } });
    expect(job.polls).toBeGreaterThanOrEqual(1);
    expect(job.submittedAt && job.finishedAt && job.submittedAt <= job.finishedAt).toBe(true);
    expect(await inventoryItem(job.result?.imageId as string)).toMatchObject({ name, version: "1.0.0", state: "active", description: "web tier" });
  });

  it("fails with the upstream message when CloudAPI refuses (unknown machine, 422)", async () => {
    const machine = randomUUID();
    const { job, calls } = await run("create", { machine, name: "nope", version: "1" }, "CreateImageFromMachine");
    expect(calls).toBe(1);
    expect(job).toMatchObject({
      state: "failed",
      attempts: 1,
      error: { code: "UpstreamValidationError", status: 422, upstreamCode: "InvalidParameter", upstreamMessage: `could not get VM "${machine}" details` },
    });
    expect(job.submittedAt).toBeUndefined();
  });

  it("fails when the image build fails, and lists the failed image", async () => {
    h.triton.setCreateOutcome("failed");
    const { job } = await run("create", { machine: h.triton.addMachine().id, name: "broken", version: "1" }, "CreateImageFromMachine");
    expect(job).toMatchObject({ state: "failed", error: { code: "ImageFailed", upstreamCode: "PrepareImageDidNotRun" } });
    expect(await inventoryItem(job.upstream?.imageId as string)).toMatchObject({ name: "broken", state: "failed" });
  });
});

describe("clone", () => {
  it("clones a shared image into the account and lists the copy", async () => {
    const name = `shared-${randomUUID().slice(0, 6)}`;
    const source = h.triton.addImage({ name, owner: randomUUID(), public: false, acl: [h.triton.accountUuid] });
    const { job, calls } = await run("clone", { imageId: source.uuid }, "CloneImage");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: expect.any(String) } });
    expect(job.result?.imageId).not.toBe(source.uuid);
    expect(await inventoryItem(job.result?.imageId as string)).toMatchObject({ name, owner: h.triton.accountUuid, state: "active" });
  });

  it("fails with the upstream message when the image is not shared with the account", async () => {
    const source = publicImage(`public-${randomUUID().slice(0, 6)}`);
    const { job } = await run("clone", { imageId: source.uuid }, "CloneImage");
    expect(job).toMatchObject({ state: "failed", error: { status: 422, upstreamCode: "ImageNotShared" } });
  });
});

describe("delete", () => {
  it("deletes the image and tombstones it in the inventory", async () => {
    const image = ownImage(`old-${randomUUID().slice(0, 6)}`);
    // Listed by an earlier sync:
    const client = new TritonClient({ url: h.triton.url, account: h.triton.account, keyId: h.triton.keyId, privateKey: h.triton.privateKeyPem });
    await upsertImage(table(), { provider: "triton", image: await client.getImage(image.uuid), sourceId: tritonSourceId, observedAt: new Date(Date.now() - 60_000), cause: "sync:test" });
    await client.close();

    const { job, calls } = await run("delete", { imageId: image.uuid }, "DeleteImage");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.uuid } });
    expect(h.triton.getImageRecord(image.uuid)).toBeUndefined();
    expect((await inventoryItem(image.uuid))?.removedAt).toEqual(expect.any(String));
  });

  it("fails with the upstream message when the account does not own the image", async () => {
    const image = publicImage(`admin-${randomUUID().slice(0, 6)}`);
    const { job } = await run("delete", { imageId: image.uuid }, "DeleteImage");
    expect(job).toMatchObject({ state: "failed", error: { status: 422, upstreamCode: "NotImageOwner" } });
    expect(h.triton.getImageRecord(image.uuid)).toBeDefined();
  });
});

describe("update", () => {
  it("updates the image and refreshes it in the inventory", async () => {
    const image = ownImage(`app-${randomUUID().slice(0, 6)}`);
    const { job, calls } = await run("update", { imageId: image.uuid, fields: { description: "now with TLS", tags: { tier: "web" } } }, "UpdateImage");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.uuid } });
    expect(await inventoryItem(image.uuid)).toMatchObject({ description: "now with TLS", tags: { tier: "web" } });
    // The write bypassed the sync, so the source's state digest is no longer trusted (sync/stored-state.ts).
    expect((await loadStateDigest(table(), tritonSourceId)).invalidations).toBeGreaterThan(0);
  });

  it("fails with the upstream message when the account does not own the image", async () => {
    const image = publicImage(`theirs-${randomUUID().slice(0, 6)}`);
    const { job } = await run("update", { imageId: image.uuid, fields: { description: "mine now" } }, "UpdateImage");
    expect(job).toMatchObject({ state: "failed", error: { status: 422, upstreamCode: "NotImageOwner" } });
  });
});

describe("export", () => {
  it("exports the image to Manta and records where", async () => {
    const image = ownImage("exportable");
    const path = `/${h.triton.account}/stor/images/exportable`;
    const { job, calls } = await run("export", { imageId: image.uuid, manta_path: path }, "ExportImage");
    expect(calls).toBe(1);
    expect(job).toMatchObject({
      state: "succeeded",
      result: { imageId: image.uuid, export: { image_path: `${path}.zfs.gz`, manifest_path: `${path}.imgmanifest` } },
    });
  });

  it("fails with the upstream message for another account's Manta path", async () => {
    const image = ownImage("exportable");
    const { job } = await run("export", { imageId: image.uuid, manta_path: "/someone-else/stor/x" }, "ExportImage");
    expect(job).toMatchObject({ state: "failed", error: { status: 422, upstreamCode: "NotMantaPathOwner" } });
  });
});

// ImportImageFromDatacenter (TritonDataCenter/sdc-cloudapi lib/datasets.js importFromDatacenter; node-triton
// lib/tritonapi.js copyImageToDatacenter): called on the target, naming the source datacenter; synchronous.
describe("copy", () => {
  const westItem = (upstreamId: string) => getImage(table(), { provider: "triton", sourceId: tritonWestSourceId, upstreamId });
  const copyJob = (imageId: string, targetSource = tritonWestSourceId) => ({ imageId, targetSource });
  const importCalls = () => h.tritonWest.counters.get("ImportImageFromDatacenter");

  it("copies an own image into another datacenter with the same uuid and lists it under the target source", async () => {
    const image = ownImage("replicated");
    const before = importCalls();
    const { job } = await run("copy", copyJob(image.uuid), "ListImages");
    expect(importCalls() - before).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.uuid }, polls: 0 });
    expect(h.tritonWest.getImageRecord(image.uuid)).toMatchObject({ name: "replicated", published_at: image.published_at });
    expect(await westItem(image.uuid)).toMatchObject({ name: "replicated", state: "active" });
    // The copy wrote the target's inventory: that source's digest is the one invalidated.
    expect((await loadStateDigest(table(), tritonWestSourceId)).invalidations).toBeGreaterThan(0);
  });

  it("stops waiting after the copy wait, then polls the target for the uuid until the copy is there", async () => {
    const image = ownImage("slow-copy");
    h.tritonWest.setImportDelayMs(2_500);
    const before = h.tritonWest.counters.get("GetImage");
    const { job } = await run("copy", copyJob(image.uuid), "ListImages");
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.uuid }, upstream: { imageId: image.uuid } });
    expect(job.polls).toBeGreaterThanOrEqual(1);
    expect(h.tritonWest.counters.get("GetImage") - before).toBeGreaterThanOrEqual(1);
    expect(await westItem(image.uuid)).toMatchObject({ name: "slow-copy" });
  });

  it("finishes at once when the image is already in the target (ImageUuidAlreadyExists)", async () => {
    const image = ownImage("already-there");
    h.tritonWest.addImage({ ...structuredClone(image) });
    const { job } = await run("copy", copyJob(image.uuid), "ListImages");
    expect(job).toMatchObject({ state: "succeeded", result: { imageId: image.uuid } });
  });

  it("fails with the upstream's reason for an image the account does not own", async () => {
    const { job } = await run("copy", copyJob(publicImage("not-mine").uuid), "ListImages");
    expect(job).toMatchObject({ state: "failed", error: { status: 401, upstreamCode: "Unauthorized", upstreamMessage: expect.stringContaining("you are not the owner") } });
  });

  it("fails clearly for an unknown or same-datacenter target, without calling upstream", async () => {
    const image = ownImage("nowhere");
    const before = importCalls();
    const unknown = await run("copy", copyJob(image.uuid, "triton-nowhere"), "ListImages");
    expect(unknown.job).toMatchObject({ state: "failed", error: { code: "UnknownSource", message: 'no triton source "triton-nowhere" is configured' } });
    const same = await run("copy", copyJob(image.uuid, tritonSourceId), "ListImages");
    expect(same.job).toMatchObject({ state: "failed", error: { code: "InvalidTarget" } });
    expect(importCalls()).toBe(before);
  });

  it("an answer lost after the copy started is reconciled through the target, not imported twice", async () => {
    const image = ownImage("lost-copy");
    h.tritonWest.faults.truncate({ method: "POST", times: 1 });
    const before = importCalls();
    const { job } = await run("copy", copyJob(image.uuid), "ListImages");
    expect(job).toMatchObject({ state: "succeeded", attempts: 2, result: { imageId: image.uuid } });
    expect(importCalls() - before).toBe(1);
  });
});

describe("exactly one upstream effect", () => {
  it("a job message delivered three times creates one image", async () => {
    const name = `dup-${randomUUID().slice(0, 6)}`;
    const jobId = newJobId("dup");
    const message = { jobId, provider: "triton", source: tritonSourceId, action: "create", params: { machine: h.triton.addMachine().id, name, version: "1" } };
    const before = callCount("CreateImageFromMachine");
    await Promise.all([h.send(message), h.send(message), h.send(message)]);
    const job = await h.waitForJob(jobId);
    // A late duplicate of a finished job's continuation changes nothing.
    await h.send({ jobId, seq: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await h.job(jobId)).toEqual(job);
    expect(job.state).toBe("succeeded");
    expect(callCount("CreateImageFromMachine") - before).toBe(1);
    expect(namesakes(name)).toHaveLength(1);
  });

  it("an answer lost after CloudAPI created the image is reconciled by name and version, not created again", async () => {
    const name = `lost-${randomUUID().slice(0, 6)}`;
    // The same name and version already exists: the reconciliation must not mistake it for the job's image.
    const older = h.triton.addImage({ name, version: "2", owner: h.triton.accountUuid, public: false });
    h.triton.faults.truncate({ method: "POST", times: 1 });
    const { job, calls } = await run("create", { machine: h.triton.addMachine().id, name, version: "2" }, "CreateImageFromMachine");
    expect(calls).toBe(1);
    expect(job).toMatchObject({ state: "succeeded", attempts: 2, upstream: { preexistingImageIds: [older.uuid] } });
    expect(job.result?.imageId).not.toBe(older.uuid);
    expect(namesakes(name)).toHaveLength(2);
  });

  it("a 503 is retried with backoff and the job still creates one image", async () => {
    const name = `busy-${randomUUID().slice(0, 6)}`;
    h.triton.faults.status(503, { method: "POST", times: 1 });
    const { job, calls } = await run("create", { machine: h.triton.addMachine().id, name, version: "1" }, "CreateImageFromMachine");
    expect(calls).toBe(2); // the refused call and the retry
    expect(job).toMatchObject({ state: "succeeded", attempts: 2 });
    expect(namesakes(name)).toHaveLength(1);
  });
});

describe("limits", () => {
  it("gives up polling at the deadline", async () => {
    h.triton.setCreateDelayMs(600_000);
    const jobId = newJobId("slow");
    await h.send({ jobId, provider: "triton", source: tritonSourceId, action: "create", params: { machine: h.triton.addMachine().id, name: "slow", version: "1" } });
    // Pretend the configured timeout has run out while the image is still being created.
    for (;;) {
      const job = await h.waitForJob(jobId, (j) => j.state === "polling");
      try {
        await saveJob(table(), { ...job, deadlineAt: new Date(Date.now() - 1000).toISOString() });
        break;
      } catch (error) {
        if (!(error instanceof StaleJobError)) throw error;
      }
    }
    const job = await h.waitForJob(jobId);
    expect(job).toMatchObject({ state: "failed", error: { code: "Timeout", message: expect.stringMatching(/gave up after \d+ s .* while polling/) } });
  });

  it("fails a job whose source has a key CloudAPI cannot verify, naming the source, without calling upstream", async () => {
    const jobId = newJobId("p384");
    const before = h.triton.counters.total;
    await h.send({ jobId, provider: "triton", source: tritonP384SourceId, action: "delete", params: { imageId: randomUUID() } });
    expect(await h.waitForJob(jobId)).toMatchObject({
      state: "failed",
      attempts: 0,
      error: { code: "ConfigError", message: expect.stringMatching(/TritonSources triton-test-p384: Triton private key is ECDSA P-384/) },
    });
    expect(h.triton.counters.total).toBe(before);
  });

  it("fails a job for a source that is not configured", async () => {
    const jobId = newJobId("unknown");
    await h.send({ jobId, provider: "triton", source: "triton-elsewhere", action: "delete", params: { imageId: randomUUID() } });
    expect(await h.waitForJob(jobId)).toMatchObject({ state: "failed", attempts: 0, error: { code: "UnknownSource", message: 'no triton source "triton-elsewhere" is configured' } });
  });
});
