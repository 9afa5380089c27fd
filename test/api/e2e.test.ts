/**
 * End to end with the simulated clouds: `imagesync sync` fills the inventory the API serves; jobs go
 * POST /jobs → SQS → the real worker (functions/jobs behind the SQS poller) → upstream, and their state
 * and the refreshed inventory are read back over HTTP.
 */
import { guardSecret } from "../support/secrets";
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandler } from "../../functions/api";
import { ConfigLoader } from "../../packages/core/config";
import { apiFunction, apiRoutes } from "../../packages/core/resources";
import { startHttpAdapter, type HttpAdapter } from "../../packages/local/adapters/http";
import { coxedgeSourceId, coxedgeWorkload, startHarness, tritonSourceId, until, type Harness } from "../jobs/harness";

let h: Harness;
let http: HttpAdapter;
const token = randomBytes(24).toString("base64url");
guardSecret(token);

beforeAll(async () => {
  h = await startHarness();
  const config = new ConfigLoader({ ...h.env, IMAGESYNC_API_TOKEN: token }, () => undefined);
  http = await startHttpAdapter({
    handler: createHandler(config, { cacheTtlMs: 0 }),
    routes: apiRoutes,
    settings: { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds },
  });
});
afterAll(async () => {
  await http?.close();
  await h?.close();
});

/** Runs the CLI against this API (and, for `sync`, the harness's table and simulators). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ["bin/imagesync.mjs", ...args],
      { env: { ...process.env, ...h.env, IMAGESYNC_API_URL: http.url, IMAGESYNC_API_TOKEN: token }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
const get = async (path: string) => {
  const response = await fetch(`${http.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

async function submit(job: object): Promise<string> {
  const response = await fetch(`${http.url}/jobs`, { method: "POST", headers, body: JSON.stringify(job) });
  expect(response.status).toBe(202);
  return response.headers.get("location") as string;
}

/** Polls the job over HTTP until it is finished. */
const finished = (location: string) =>
  until(async () => {
    const { body } = await get(location);
    return body.state === "succeeded" || body.state === "failed" ? body : undefined;
  }, 30_000, `job at ${location}`);

describe("sync through the CLI", () => {
  it("imagesync sync fills the inventory that the API then serves", async () => {
    for (const n of [1, 2, 3]) h.triton.addImage({ name: `synced-${n}` });
    const { code, stdout } = await cli(["sync", "--provider", "triton", "--source", tritonSourceId]);
    expect(code).toBe(0);
    expect(stdout).toContain(tritonSourceId);
    const sources = await get("/sources");
    const triton = sources.body.items.find((s: { id: string }) => s.id === tritonSourceId);
    expect(triton.latestRun).toMatchObject({ status: "ok", trigger: "manual" });
    const listed = await get(`/images?source=${tritonSourceId}&state=all&limit=1000`);
    expect(triton.latestRun.counts.seen).toBeGreaterThanOrEqual(3);
    expect(listed.body.items).toHaveLength(triton.latestRun.counts.seen);
    // Once the source has synced, an id is found without naming the source.
    const image = await get(`/images/triton/${listed.body.items[0].id}`);
    expect(image).toMatchObject({ status: 200, body: { source: tritonSourceId, seenIn: [{ source: tritonSourceId }] } });
  });
});

describe("jobs through the HTTP API", () => {
  it("Triton create: the job succeeds and the new image is served at once", async () => {
    const machine = h.triton.addMachine();
    const name = `api-web-${randomUUID().slice(0, 6)}`;
    const location = await submit({ provider: "triton", source: tritonSourceId, action: "create", params: { machine: machine.id, name, version: "1.0.0" } });
    const job = await finished(location);
    expect(job).toMatchObject({ state: "succeeded", attempts: 1, result: { imageId: expect.any(String) } });
    expect(job.polls).toBeGreaterThanOrEqual(1);

    const image = await get(`/images/triton/${job.result.imageId}?source=${tritonSourceId}`);
    expect(image).toMatchObject({ status: 200, body: { name, version: "1.0.0", state: "active", source: tritonSourceId } });
    const listed = await get(`/images?source=${tritonSourceId}&name=${name}`);
    expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([job.result.imageId]);
  });

  it("Cox Edge create: the slashed image id is served", async () => {
    const tag = `v${Date.now()}`;
    const location = await submit({ provider: "coxedge", source: coxedgeSourceId, action: "create", params: { family: "api-web", tag, ...coxedgeWorkload } });
    const job = await finished(location);
    expect(job.state).toBe("succeeded");
    expect(job.result.imageId).toMatch(/^[^/]+\/api-web\/v\d+$/);
    const image = await get(`/images/coxedge/${job.result.imageId}?source=${coxedgeSourceId}`);
    expect(image).toMatchObject({ status: 200, body: { id: job.result.imageId, os: "api-web", version: tag, type: "custom" } });
  });

  it("an upstream refusal ends the job failed with the upstream's message", async () => {
    const location = await submit({ provider: "triton", source: tritonSourceId, action: "create", params: { machine: randomUUID(), name: "nope", version: "1" } });
    const job = await finished(location);
    expect(job).toMatchObject({ state: "failed", error: { status: expect.any(Number), message: expect.any(String) } });
  });

  it("the CLI submits and watches a job to success", async () => {
    const image = h.triton.addImage({ name: `cli-clone-${randomUUID().slice(0, 6)}`, owner: randomUUID(), public: false, acl: [h.triton.accountUuid] });
    const { code, stdout } = await cli(["jobs", "submit", "triton", "clone", `imageId=${image.uuid}`, "--source", tritonSourceId, "--watch", "--interval", "0.3"]);
    expect(stdout).toMatch(/^queued: job \S+ \(queued\)$/m);
    expect(stdout).toMatch(/^succeeded: image [0-9a-f-]{36}$/m);
    expect(code).toBe(0);
  });
});
