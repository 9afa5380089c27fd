/** The job API the HTTP API uses: submitJob (validated, idempotent on the job id), getJob and listJobs. */
import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJob, JobConflictError, jobsContext, JobValidationError, listJobs, submitJob, type JobRecord } from "../../packages/jobs";
import { finishedJobRetentionDays, jobKey } from "../../packages/store/jobs";
import { coxedgeSourceId, startHarness, tritonSourceId, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const table = () => jobsContext().table;

describe("submitJob", () => {
  it("rejects an invalid job naming every offending field, and stores nothing", async () => {
    const jobId = `invalid-${randomUUID().slice(0, 8)}`;
    const attempt = submitJob({ jobId, provider: "triton", source: tritonSourceId, action: "create", params: { name: "x", version: 1 } });
    await expect(attempt).rejects.toThrow(JobValidationError);
    await expect(attempt).rejects.toThrow("params.machine: is required; params.version: must be a string");
    expect(await getJob(table(), jobId)).toBeUndefined();
  });

  it("is idempotent on the job id: the same job submitted twice runs once", async () => {
    const jobId = `twice-${randomUUID().slice(0, 8)}`;
    const name = `api-${randomUUID().slice(0, 6)}`;
    const message = { jobId, provider: "triton", source: tritonSourceId, action: "create", params: { machine: h.triton.addMachine().id, name, version: "1" } } as const;
    const before = h.triton.counters.get("CreateImageFromMachine");
    const first = await submitJob(message);
    const second = await submitJob(message);
    expect(first).toMatchObject({ created: true, job: { jobId, state: "queued", request: { provider: "triton", action: "create" } } });
    expect(second).toEqual({ created: false, job: first.job });

    const job = await h.waitForJob(jobId);
    expect(job.state).toBe("succeeded");
    expect(await submitJob(message)).toEqual({ created: false, job });
    expect(h.triton.counters.get("CreateImageFromMachine") - before).toBe(1);

    // Finished jobs expire through the table's TTL attribute.
    const { Item } = await table().client.send(new GetCommand({ TableName: table().name, Key: jobKey(jobId) }));
    expect(Item?.expiresAt).toBe(Math.floor(Date.parse(job.finishedAt as string) / 1000) + finishedJobRetentionDays * 86_400);
  });

  it("refuses a job id already used by a different job", async () => {
    const jobId = `taken-${randomUUID().slice(0, 8)}`;
    await submitJob({ jobId, provider: "triton", source: tritonSourceId, action: "delete", params: { imageId: randomUUID() } });
    await expect(submitJob({ jobId, provider: "triton", source: tritonSourceId, action: "delete", params: { imageId: randomUUID() } })).rejects.toThrow(
      JobConflictError,
    );
  });

  it("generates a job id when none is given", async () => {
    const { job } = await submitJob({ provider: "coxedge", source: coxedgeSourceId, action: "delete", params: { imageId: "a/b/c" } });
    expect(job.jobId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("listJobs", () => {
  let jobs: JobRecord[];
  beforeAll(async () => {
    jobs = [];
    // Unknown sources fail at once: a quick way to get finished jobs of both providers.
    for (const [i, provider] of ["triton", "coxedge", "triton", "coxedge", "triton"].entries()) {
      const params = provider === "triton" ? { imageId: randomUUID() } : { imageId: `s/f/t${i}` };
      const { job } = await submitJob({ jobId: `list-${i}-${randomUUID().slice(0, 4)}`, provider, source: "nowhere", action: "delete", params });
      jobs.push(job);
      await new Promise((r) => setTimeout(r, 5)); // distinct createdAt
    }
    for (const job of jobs) await h.waitForJob(job.jobId);
  });

  const ids = (list: JobRecord[]) => list.map((job) => job.jobId);
  const listIds = (list: JobRecord[]) => ids(list).filter((id) => id.startsWith("list-"));

  it("lists newest first, a page at a time", async () => {
    const all: JobRecord[] = [];
    let cursor;
    do {
      const page = await listJobs(table(), { limit: 2, cursor });
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      all.push(...page.jobs);
      cursor = page.cursor;
    } while (cursor);
    expect(listIds(all)).toEqual(ids(jobs).toReversed());
  });

  it("filters by state and by provider", async () => {
    const failed = await listJobs(table(), { state: "failed", provider: "triton", limit: 100 });
    expect(listIds(failed.jobs)).toEqual(ids(jobs.filter((job) => job.request?.provider === "triton")).toReversed());
    expect(failed.jobs.every((job) => job.state === "failed")).toBe(true);
    const page = await listJobs(table(), { state: "failed", provider: "coxedge", limit: 1 });
    expect(page.jobs).toHaveLength(1);
    expect(page.cursor).toBeDefined();
    expect((await listJobs(table(), { state: "queued", limit: 10 })).jobs).toEqual([]);
  });

  it("rejects a limit outside 1-100", async () => {
    await expect(listJobs(table(), { limit: 0 })).rejects.toThrow("limit must be an integer from 1 to 100");
  });
});
