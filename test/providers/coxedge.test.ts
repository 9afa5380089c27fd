// Contract suite: the real CoxEdgeClient against the real simulator over loopback HTTP.
// Evidence named in comments: the CloudMC API docs source (`source/includes/_getting_started.md`,
// `source/includes/stackpath/_images.md`), coxedge/terraform-provider-coxedge `coxedge/apiclient/*.go`,
// coxedge/cluster-api-provider-coxedge `pkg/cloud/coxedge/client.go`, cloudops/cloudmc-services-js-client
// `src/PollingResolver.js` and cloud-ca/go-cloudca `services/task.go`, `api/response.go`.
import { guardSecret } from "../support/secrets";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  UpstreamAuthError,
  UpstreamConflictError,
  UpstreamError,
  UpstreamNetworkError,
  UpstreamNotFoundError,
  UpstreamPermissionError,
  UpstreamResponseError,
  UpstreamServerError,
  UpstreamValidationError,
} from "../../packages/providers/http";
import { stackpathStackId } from "../../packages/providers/coxedge/schemas";
import {
  CoxEdgeClient,
  CoxEdgeRequestValidationError,
  isKnownTaskStatus,
  taskOutcome,
  type CoxEdgeClientOptions,
} from "../../packages/providers/coxedge/client";
import type { CoxEdgeTask } from "../../packages/providers/coxedge/schemas";
import { defaultSimWorkloads, type CoxEdgeSimSettings } from "../../packages/simulators/coxedge/state";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../../packages/simulators/coxedge/simulator";

const testOrganizationId = "7b3a2f9e-org";
const [VM_WORKLOAD, CONTAINER_WORKLOAD] = defaultSimWorkloads as [
  (typeof defaultSimWorkloads)[number],
  (typeof defaultSimWorkloads)[number],
];
const vmInstance = VM_WORKLOAD.instances[0] as string;
/** The documentation's example id: it contains slashes and must travel as the rest of the path. */
const docImageId = `${stackpathStackId}/ubuntu/v20201110`;

let sim: CoxEdgeSimulator;
let initialSettings: CoxEdgeSimSettings;
let client: CoxEdgeClient;
const extraClients: CoxEdgeClient[] = [];
let nameCounter = 0;

function makeClient(overrides: Partial<CoxEdgeClientOptions> = {}): CoxEdgeClient {
  const made = new CoxEdgeClient({
    baseUrl: sim.url,
    service: sim.service,
    environment: sim.environment,
    apiKey: sim.apiKey,
    organizationId: testOrganizationId,
    timeoutMs: 2_000,
    maxAttempts: 3,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  });
  extraClients.push(made);
  return made;
}

function uniqueName(): { family: string; tag: string } {
  nameCounter++;
  return { family: `contract-${nameCounter}`, tag: `v1.${nameCounter}.0` };
}

async function waitForTask(taskId: string, timeoutMs = 3_000): Promise<CoxEdgeTask> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await client.getTask(taskId);
    if (taskOutcome(task.status) !== "running") return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${task.status}`);
    await sleep(15);
  }
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
}

function expectNoApiKey(error: unknown): void {
  const rendered = [
    String(error),
    error instanceof Error ? error.stack : "",
    JSON.stringify(error),
    error instanceof Error ? String(error.cause) : "",
  ].join("\n");
  expect(rendered).not.toContain(sim.apiKey);
}

beforeAll(async () => {
  sim = await startCoxEdgeSimulator({
    catalog: { images: 60, seed: 3 },
    organizationId: testOrganizationId,
    taskDelayMs: 60,
  });
  guardSecret(sim.apiKey);
  initialSettings = { ...sim.state.settings };
  client = makeClient();
});

afterEach(() => {
  sim.faults.clear();
  Object.assign(sim.state.settings, initialSettings);
});

afterAll(async () => {
  await Promise.all(extraClients.map((made) => made.close()));
  await sim.close();
});

describe("list images", () => {
  it("returns the whole catalog with the documented fields", async () => {
    const images = await client.listImages();
    expect(images).toEqual(sim.state.snapshot());
    expect(images.length).toBeGreaterThanOrEqual(60);
    expect(images.find((image) => image.id === docImageId)).toEqual({
      id: docImageId,
      stackId: stackpathStackId,
      slug: "stackpath-edge",
      family: "ubuntu",
      tag: "v20201110",
      createdAt: expect.stringMatching(/^2020-11-10T\d\d:\d\d:\d\d\.\d{6}Z$/),
      description: "Image using ubuntu",
      reference: "stackpath-edge/ubuntu:v20201110",
      status: "READY",
    });
  });

  it("filters by imageType: default are StackPath's, custom are the environment's", async () => {
    const [all, defaults, customs] = await Promise.all([
      client.listImages(),
      client.listImages({ imageType: "default" }),
      client.listImages({ imageType: "custom" }),
    ]);
    expect(defaults.length).toBeGreaterThan(0);
    expect(customs.length).toBeGreaterThan(0);
    expect(defaults.every((image) => image.stackId === stackpathStackId)).toBe(true);
    expect(customs.every((image) => image.stackId === sim.state.customStack.stackId)).toBe(true);
    expect(defaults.length + customs.length).toBe(all.length);
  });

  it("sends the envelope with metadata.recordCount, and any other imageType lists everything", async () => {
    const response = await fetch(`${sim.url}/services/${sim.service}/${sim.environment}/images?imageType=all`, {
      headers: { "MC-Api-Key": sim.apiKey },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: unknown[]; metadata: { recordCount: number } };
    expect(body.metadata.recordCount).toBe(body.data.length);
    expect(body.data.length).toBe(sim.state.snapshot().length);
  });

  it("refuses a list whose recordCount says images are missing", async () => {
    sim.faults.inject({ kind: "status", status: 200, body: { data: [], metadata: { recordCount: 5 } }, times: 1 });
    const error = await caught(client.listImages());
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect((error as UpstreamResponseError).issuePath).toBe("metadata.recordCount");
  });
});

describe("get image", () => {
  it("fetches an image whose id contains slashes", async () => {
    const before = sim.counters.get("GetImage");
    const image = await client.getImage(docImageId);
    expect(image.id).toBe(docImageId);
    expect(image.reference).toBe("stackpath-edge/ubuntu:v20201110");
    expect(sim.counters.get("GetImage")).toBe(before + 1);
  });

  it("maps an unknown image to a not-found error", async () => {
    const error = await caught(client.getImage(`${stackpathStackId}/ubuntu/v19990101`));
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect(error).toMatchObject({ status: 404, code: "1004", operation: "GetImage", source: "coxedge" });
  });
});

describe("create image", () => {
  // Task body `{"data":{"id","status","created","result"}}`: coxedge/terraform-provider-coxedge
  // `coxedge/apiclient/models.go` (TaskStatus reads JSON `status`), cloud-ca/go-cloudca `services/task.go`.
  it("goes PENDING → PROCESSING → READY, and the SUCCESS task (data.status form) names the image", async () => {
    sim.state.settings.taskDelayMs = 600;
    const name = uniqueName();
    const started = Date.now();
    const task = await client.createImage({
      ...name,
      workloadId: VM_WORKLOAD.id,
      instanceName: vmInstance,
      description: "contract image",
    });
    expect(task).toEqual({ taskId: expect.any(String), taskStatus: "PENDING" });
    const expectedId = `${sim.state.customStack.stackId}/${name.family}/${name.tag}`;

    const building = (await client.listImages({ imageType: "custom" })).find((image) => image.id === expectedId);
    expect(building?.status).toBe("PENDING");
    expect((await client.getTask(task.taskId)).status).toBe("PENDING");

    await sleep(Math.max(0, started + 380 - Date.now()));
    expect((await client.getImage(expectedId)).status).toBe("PROCESSING");

    const done = await waitForTask(task.taskId);
    expect(done).toEqual({ id: task.taskId, status: "SUCCESS", created: expect.any(String), result: { id: expectedId } });
    expect(await client.getImage(expectedId)).toMatchObject({
      stackId: sim.state.customStack.stackId,
      family: name.family,
      tag: name.tag,
      slug: sim.environment,
      reference: `${sim.environment}/${name.family}:${name.tag}`,
      description: "contract image",
      status: "READY",
    });
  });

  // `FAILED`: the CloudMC docs `source/includes/_getting_started.md` ("PENDING, FAILED and SUCCESS"),
  // cloudops/cloudmc-services-js-client `src/PollingResolver.js`, cloud-ca/go-cloudca `services/task.go`.
  it("ends in FAILED (the simulator's default spelling) with the image FAILED when the build fails", async () => {
    sim.state.settings.taskFailureRate = 1;
    const name = uniqueName();
    const task = await client.createImage({ ...name, workloadId: VM_WORKLOAD.id, instanceName: vmInstance });
    const done = await waitForTask(task.taskId);
    expect(done.status).toBe("FAILED");
    expect(taskOutcome(done.status)).toBe("failed");
    expect(done.result?.id).toBeUndefined();
    const image = await client.getImage(`${sim.state.customStack.stackId}/${name.family}/${name.tag}`);
    expect(image.status).toBe("FAILED");
  });

  // `FAILURE`: coxedge/terraform-provider-coxedge `coxedge/apiclient/tasks.go` (TaskFailed = "FAILURE") and
  // coxedge/cluster-api-provider-coxedge `pkg/cloud/coxedge/client.go` compare with this spelling.
  it("can spell a failed task FAILURE instead, which also reads as failed", async () => {
    sim.state.settings.taskFailureRate = 1;
    sim.state.settings.taskFailureStatus = "FAILURE";
    const task = await client.createImage({ ...uniqueName(), workloadId: VM_WORKLOAD.id, instanceName: vmInstance });
    const done = await waitForTask(task.taskId);
    expect(done.status).toBe("FAILURE");
    expect(taskOutcome(done.status)).toBe("failed");
  });

  // What an image task's `result` holds is undocumented (`result.id` in coxedge/terraform-provider-coxedge
  // `coxedge/apiclient/models.go`, `result.workloadId` in coxedge/cluster-api-provider-coxedge
  // `pkg/cloud/coxedge/client.go`): the simulator can leave the id out.
  it("can answer a SUCCESS task whose result holds no image id", async () => {
    sim.state.settings.resultIncludesImageId = false;
    const task = await client.createImage({ ...uniqueName(), workloadId: VM_WORKLOAD.id, instanceName: vmInstance });
    const done = await waitForTask(task.taskId);
    expect(done).toMatchObject({ status: "SUCCESS", result: {} });
    expect(done.result?.id).toBeUndefined();
  });

  it("rejects the documentation's own example family 'Ubuntu' before sending anything", async () => {
    const before = sim.counters.get("CreateImage");
    const error = await caught(
      client.createImage({
        family: "Ubuntu",
        tag: "v2021-01-01",
        workloadId: VM_WORKLOAD.id,
        instanceName: vmInstance,
        description: "Ubuntu OS v4",
      }),
    );
    expect(error).toBeInstanceOf(CoxEdgeRequestValidationError);
    expect((error as CoxEdgeRequestValidationError).field).toBe("family");
    expect((error as Error).message).toContain('family "Ubuntu" must consist of lower case alphanumeric characters');
    expect(sim.counters.get("CreateImage")).toBe(before);
  });

  it.each([
    ["a tag starting with a period", ".v1"],
    ["a tag starting with a dash", "-v1"],
    ["a tag longer than 128 characters", "v".repeat(129)],
    ["a tag with a slash", "v1/2"],
  ])("rejects %s, naming the tag field", async (_, tag) => {
    const error = await caught(
      client.createImage({ family: "web", tag, workloadId: VM_WORKLOAD.id, instanceName: vmInstance }),
    );
    expect(error).toBeInstanceOf(CoxEdgeRequestValidationError);
    expect((error as CoxEdgeRequestValidationError).field).toBe("tag");
  });

  // Error body `{"errors":[{"code":<integer>,"message","context"}]}`: the CloudMC docs
  // `source/includes/_getting_started.md`; cloud-ca/go-cloudca `api/response.go` (CCAError: Code int, Context).
  it("has the server reject the same rules with a CloudMC error body (integer code, context naming the field)", async () => {
    const response = await fetch(`${sim.url}/services/${sim.service}/${sim.environment}/images`, {
      method: "POST",
      headers: { "MC-Api-Key": sim.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ family: "Ubuntu", tag: "v2021-01-01", workloadId: VM_WORKLOAD.id, instanceName: vmInstance }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ code: 1001, message: expect.stringContaining('family "Ubuntu"'), context: { field: "family" } }],
    });
  });

  it.each([
    ["a container workload", { workloadId: CONTAINER_WORKLOAD.id, instanceName: CONTAINER_WORKLOAD.instances[0] }, "workloadId"],
    ["an unknown workload", { workloadId: "00000000-0000-4000-8000-000000000000", instanceName: vmInstance }, "workloadId"],
    ["an instance of another workload", { workloadId: VM_WORKLOAD.id, instanceName: "w-other-0" }, "instanceName"],
  ])("maps the server's refusal of %s to a validation error whose message names the field", async (_, source, field) => {
    const error = await caught(client.createImage({ ...uniqueName(), workloadId: source.workloadId, instanceName: source.instanceName ?? "" }));
    expect(error).toBeInstanceOf(UpstreamValidationError);
    expect(error).toMatchObject({ status: 400, code: "1001", upstreamMessage: expect.stringContaining(field) });
    expect((error as Error).message).toContain((error as UpstreamError).upstreamMessage);
  });

  // No status for a duplicate family+tag is documented; the CloudMC docs `source/includes/_getting_started.md`
  // list 400 for invalid parameters (and no 409), so 400 is the default and 409 an option.
  it.each([
    [400, UpstreamValidationError],
    [409, UpstreamConflictError],
  ] as const)("refuses an existing family+tag with %i (conflictStatus), with the upstream message", async (status, errorClass) => {
    sim.state.settings.conflictStatus = status;
    const existing = (await client.listImages({ imageType: "custom" }))[0];
    if (!existing) throw new Error("the seeded catalog has no custom image");
    const error = await caught(
      client.createImage({ family: existing.family, tag: existing.tag, workloadId: VM_WORKLOAD.id, instanceName: vmInstance }),
    );
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ status, code: "2011", upstreamMessage: expect.stringContaining("already exists") });
  });

  it("is not retried on a 5xx, since the image may have been started", async () => {
    sim.faults.status(503, { method: "POST", times: 1 });
    const before = sim.counters.get("CreateImage");
    const error = await caught(client.createImage({ ...uniqueName(), workloadId: VM_WORKLOAD.id, instanceName: vmInstance }));
    expect(error).toBeInstanceOf(UpstreamServerError);
    expect(sim.counters.get("CreateImage")).toBe(before + 1);
  });
});

describe("delete image", () => {
  // A delete while the image has a task running: no status is documented, so 400 by default, 409 as an option.
  it.each([
    [400, UpstreamValidationError],
    [409, UpstreamConflictError],
  ] as const)("deletes a custom image through a task; a second delete meanwhile is refused with %i", async (status, errorClass) => {
    sim.state.settings.conflictStatus = status;
    const name = uniqueName();
    const created = await client.createImage({ ...name, workloadId: VM_WORKLOAD.id, instanceName: vmInstance });
    const id = (await waitForTask(created.taskId)).result?.id as string;

    const deletion = await client.deleteImage(id);
    expect(deletion).toEqual({ taskId: expect.any(String), taskStatus: "PENDING" });
    const refusal = await caught(client.deleteImage(id));
    expect(refusal).toBeInstanceOf(errorClass);
    expect(refusal).toMatchObject({ status, code: "2012", upstreamMessage: expect.stringContaining("task in progress") });
    expect((await waitForTask(deletion.taskId)).status).toBe("SUCCESS");

    expect(await caught(client.getImage(id))).toBeInstanceOf(UpstreamNotFoundError);
    expect((await client.listImages()).some((image) => image.id === id)).toBe(false);
  });

  // The images docs `source/includes/stackpath/_images.md` show a delete answering `"taskStatus": "SUCCESS"`.
  it("settles at once with SUCCESS when the task delay is zero", async () => {
    sim.state.settings.taskDelayMs = 0;
    const image = sim.state.putImage({ ...uniqueName() });
    expect(await client.deleteImage(image.id)).toEqual({ taskId: expect.any(String), taskStatus: "SUCCESS" });
    expect(await caught(client.getImage(image.id))).toBeInstanceOf(UpstreamNotFoundError);
  });

  it("refuses to delete a default StackPath image", async () => {
    const error = await caught(client.deleteImage(docImageId));
    expect(error).toBeInstanceOf(UpstreamValidationError);
    expect(error).toMatchObject({ status: 400, code: "2010", upstreamMessage: expect.stringContaining("only custom images") });
    expect((await client.getImage(docImageId)).status).toBe("READY");
  });

  it("maps an unknown image to not-found", async () => {
    expect(await caught(client.deleteImage(`${sim.state.customStack.stackId}/nope/v0`))).toBeInstanceOf(UpstreamNotFoundError);
  });
});

describe("tasks", () => {
  it("maps an unknown task to not-found", async () => {
    const error = await caught(client.getTask("00000000-0000-4000-8000-000000000000"));
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect(error).toMatchObject({ operation: "GetTask", status: 404 });
  });

  // Documented form: coxedge/terraform-provider-coxedge `coxedge/apiclient/models.go`, cloud-ca/go-cloudca
  // `services/task.go`, cloudops/cloudmc-services-js-client `src/PollingResolver.js` (body.data.status).
  it("reads the documented data.status form and treats unknown statuses as running", async () => {
    sim.faults.inject({ kind: "status", status: 200, body: { data: { id: "t1", status: "RUNNING", created: "2021-04-20T20:58:59.952881-04:00" } }, times: 1 });
    const task = await client.getTask("t1");
    expect(task).toEqual({ id: "t1", status: "RUNNING", created: "2021-04-20T20:58:59.952881-04:00" });
    expect(taskOutcome(task.status)).toBe("running");
    expect(isKnownTaskStatus(task.status)).toBe(false);
  });

  // Flat form: the "Retrieve a task" example in the CloudMC docs `source/includes/_getting_started.md`.
  it("also reads the flat {taskId, taskStatus, result} form into the same task", async () => {
    sim.faults.inject({ kind: "status", status: 200, body: { taskId: "t2", taskStatus: "SUCCESS", result: { id: "img-1", name: "morty" } }, times: 1 });
    expect(await client.getTask("t2")).toEqual({ id: "t2", status: "SUCCESS", result: { id: "img-1", name: "morty" } });
  });

  it("tolerates a null or odd result, and names data.status when the status is missing", async () => {
    sim.faults.inject({ kind: "status", status: 200, body: { data: { id: "t3", status: "PENDING", result: null } }, times: 1 });
    expect((await client.getTask("t3")).result).toBeUndefined();
    sim.faults.inject({ kind: "status", status: 200, body: { data: { id: "t4", status: "SUCCESS", result: { id: 42 } } }, times: 1 });
    expect((await client.getTask("t4")).result?.id).toBeUndefined();
    sim.faults.inject({ kind: "status", status: 200, body: { data: { id: "t5", taskStatus: "PENDING" } }, times: 1 });
    expect(await caught(client.getTask("t5"))).toMatchObject({ issuePath: "data.status" });
  });

  // FAILED (CloudMC docs, cloudops/cloudmc-services-js-client `src/PollingResolver.js`, cloud-ca/go-cloudca
  // `services/task.go`, which compares case-insensitively) and FAILURE (coxedge/terraform-provider-coxedge
  // `coxedge/apiclient/tasks.go`, coxedge/cluster-api-provider-coxedge `pkg/cloud/coxedge/client.go`).
  it.each([
    ["SUCCESS", "succeeded"],
    ["success", "succeeded"],
    ["FAILED", "failed"],
    ["Failed", "failed"],
    ["FAILURE", "failed"],
    ["failure", "failed"],
    ["PENDING", "running"],
    ["IN_PROGRESS", "running"],
  ] as const)("reads task status %s as %s", (status, outcome) => {
    expect(taskOutcome(status)).toBe(outcome);
    expect(isKnownTaskStatus(status)).toBe(outcome !== "running" || status === "PENDING");
  });

  // "a task will only stay alive for 30 minutes (in general)": the CloudMC docs `source/includes/_getting_started.md`.
  it("expires tasks after taskTtlMs (30 minutes by default): GetTask then answers 404", async () => {
    expect(initialSettings.taskTtlMs).toBe(30 * 60_000);
    sim.state.settings.taskTtlMs = 150;
    const task = await client.createImage({ ...uniqueName(), workloadId: VM_WORKLOAD.id, instanceName: vmInstance });
    expect((await client.getTask(task.taskId)).id).toBe(task.taskId);
    await sleep(200);
    const error = await caught(client.getTask(task.taskId));
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect(error).toMatchObject({ status: 404, code: "1004" });
  });
});

describe("errors", () => {
  // The documented body: the CloudMC docs `source/includes/_getting_started.md` (code 2012 with context);
  // cloud-ca/go-cloudca `api/response.go` reads `code` as an int.
  it("keeps the message and code of the documented body with an integer code and context", async () => {
    const message = "Cannot stop an instance that isn't in the running state";
    const context = { id: "4534cc36-bc46-48bc-ac5c-3ee4e42f0a44", currentState: "Stopped", expectedStates: ["Running"], type: "instances" };
    sim.faults.inject({ kind: "status", status: 400, body: { errors: [{ code: 2012, message, context }] }, times: 1 });
    const error = await caught(client.getImage(docImageId));
    expect(error).toBeInstanceOf(UpstreamValidationError);
    expect(error).toMatchObject({ status: 400, code: "2012", upstreamMessage: message });
    expect((error as Error).message).toContain(`2012: ${message}`);
  });

  it("reads a string errorCode, and joins the messages of several errors", async () => {
    sim.faults.inject({
      kind: "status",
      status: 400,
      body: { errors: [{ code: 3001, errorCode: "QUOTA_EXCEEDED", message: "quota exceeded" }, { code: 3002, message: "too many images" }] },
      times: 1,
    });
    expect(await caught(client.getImage(docImageId))).toMatchObject({ code: "QUOTA_EXCEEDED", upstreamMessage: "quota exceeded; too many images" });
  });

  it("still reads the older form with a string code and a field", async () => {
    sim.faults.inject({ kind: "status", status: 400, body: { errors: [{ code: "INVALID_FIELD", field: "family", message: "family is invalid" }] }, times: 1 });
    const error = await caught(client.getImage(docImageId));
    expect(error).toMatchObject({ code: "INVALID_FIELD", upstreamMessage: "family is invalid", fieldErrors: [{ field: "family", code: "INVALID_FIELD", message: "family is invalid" }] });
  });

  it.each([
    ["an odd code next to a good message", { errors: [{ code: null, message: "kept", context: "not an object" }] }, "kept"],
    ["an error that is not an object", { errors: ["oops", { code: 1, message: "second" }] }, "second"],
    ["errors that are not a list", { errors: "nope", message: "top-level" }, "top-level"],
    ["a body that is not an object", "just text", undefined],
  ])("maps a body with %s by status, keeping what it can", async (_, body, upstreamMessage) => {
    sim.faults.inject({ kind: "status", status: 500, body, times: 3 });
    const error = await caught(client.getImage(docImageId));
    expect(error).toBeInstanceOf(UpstreamServerError);
    expect((error as UpstreamError).upstreamMessage).toBe(upstreamMessage);
  });

  it("answers 405 for a method an endpoint does not take (documented), with the error body", async () => {
    const response = await fetch(`${sim.url}/services/${sim.service}/${sim.environment}/images`, { method: "PUT", headers: { "MC-Api-Key": sim.apiKey } });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ errors: [{ code: 1005, message: expect.any(String), context: {} }] });
  });

  it("answers an oversized create body with 400 (413 is not among the documented statuses)", async () => {
    const response = await fetch(`${sim.url}/services/${sim.service}/${sim.environment}/images`, {
      method: "POST",
      headers: { "MC-Api-Key": sim.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ description: "x".repeat(70_000) }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { code: number }[] }).errors[0]?.code).toBe(1000);
  });
});

describe("auth and organisation", () => {
  // A bad key's answer is undocumented; 403 "Not authorized" is the documented status (the CloudMC docs
  // `source/includes/_getting_started.md` list no 401), so 403 is the default and 401 an option.
  it("maps a wrong API key to 403 by default, without the key in the error", async () => {
    const wrongKey = `${sim.apiKey}-wrong`;
    const error = await caught(makeClient({ apiKey: wrongKey }).listImages());
    expect(error).toBeInstanceOf(UpstreamPermissionError);
    expect(error).toMatchObject({ status: 403, code: "1003" });
    expect(JSON.stringify(error) + String(error)).not.toContain(wrongKey);
  });

  it("can answer a wrong API key with 401 instead (authFailureStatus), mapped to an auth error", async () => {
    sim.state.settings.authFailureStatus = 401;
    const error = await caught(makeClient({ apiKey: "wrong" }).listImages());
    expect(error).toBeInstanceOf(UpstreamAuthError);
    expect(error).toMatchObject({ status: 401, code: "1003" });
  });

  it("answers 403 with a CloudMC error body when the header is missing", async () => {
    const response = await fetch(`${sim.url}/tasks/anything`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ errors: [{ code: 1003, message: expect.any(String), context: {} }] });
  });

  // `org_id` query parameter: the CloudMC docs `source/includes/_getting_started.md` ("Working with
  // sub-organizations"); the simulator refuses another organisation, so every call proves it is sent.
  it("sends org_id on every call, tasks included: another organisation is refused everywhere with 403", async () => {
    const other = makeClient({ organizationId: "another-org" });
    const calls: [string, () => Promise<unknown>][] = [
      ["ListImages", () => other.listImages()],
      ["GetImage", () => other.getImage(docImageId)],
      ["CreateImage", () => other.createImage({ ...uniqueName(), workloadId: VM_WORKLOAD.id, instanceName: vmInstance })],
      ["DeleteImage", () => other.deleteImage(docImageId)],
      ["GetTask", () => other.getTask("00000000-0000-4000-8000-000000000000")],
    ];
    for (const [operation, call] of calls) {
      const error = await caught(call());
      expect(error, operation).toBeInstanceOf(UpstreamPermissionError);
      expect(error).toMatchObject({ operation, status: 403, upstreamMessage: expect.stringContaining("another-org") });
    }
  });

  it("accepts requests without org_id, and ignores an organizationId query parameter (not the API's name)", async () => {
    expect((await makeClient({ organizationId: undefined }).listImages()).length).toBeGreaterThan(0);
    const response = await fetch(`${sim.url}/services/${sim.service}/${sim.environment}/images?organizationId=another-org`, {
      headers: { "MC-Api-Key": sim.apiKey },
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("scrubs the API key from upstream messages that echo it", async () => {
    sim.faults.inject({ kind: "status", status: 403, body: { errors: [{ code: 1003, message: `key ${sim.apiKey} is revoked`, context: {} }] }, times: 1 });
    const error = await caught(client.listImages());
    expect(error).toBeInstanceOf(UpstreamPermissionError);
    expect((error as UpstreamError).upstreamMessage).toBe("key [redacted] is revoked");
    expectNoApiKey(error);
  });

  it("scrubs the key from a top-level message too", async () => {
    sim.faults.inject({ kind: "status", status: 401, body: { message: `key ${sim.apiKey} is revoked` }, times: 1 });
    const error = await caught(client.listImages());
    expect(error).toBeInstanceOf(UpstreamAuthError);
    expect((error as UpstreamError).upstreamMessage).toBe("key [redacted] is revoked");
    expectNoApiKey(error);
  });
});

describe("resilience", () => {
  it("honours Retry-After on 429, then succeeds", async () => {
    const delays: number[] = [];
    const patient = makeClient({ onRetry: ({ delayMs }) => delays.push(delayMs) });
    sim.faults.throttle(1, { times: 1 });
    const started = Date.now();
    expect((await patient.listImages()).length).toBeGreaterThan(0);
    expect(delays).toEqual([1_000]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("retries 5xx with backoff and succeeds", async () => {
    sim.faults.status(503, { times: 2 });
    const before = sim.counters.get("GetImage");
    expect((await client.getImage(docImageId)).id).toBe(docImageId);
    expect(sim.counters.get("GetImage")).toBe(before + 3);
  });

  it("gives up after maxAttempts with the last server error", async () => {
    sim.faults.status(500);
    const before = sim.counters.get("ListImages");
    const error = await caught(client.listImages());
    expect(error).toBeInstanceOf(UpstreamServerError);
    expect(error).toMatchObject({ status: 500, code: "1500", upstreamMessage: "Internal Server Error" });
    expect(sim.counters.get("ListImages")).toBe(before + 3);
    expectNoApiKey(error);
  });

  it("retries a connection reset, and reports a persistent one as a network error", async () => {
    sim.faults.reset({ times: 1 });
    expect((await client.getImage(docImageId)).id).toBe(docImageId);
    sim.faults.reset();
    const error = await caught(client.getImage(docImageId));
    expect(error).toBeInstanceOf(UpstreamNetworkError);
    expectNoApiKey(error);
  });

  it("times out a slow answer", async () => {
    sim.faults.latency(400, { times: 1 });
    const error = await caught(makeClient({ timeoutMs: 100, maxAttempts: 1 }).listImages());
    expect(error).toBeInstanceOf(UpstreamNetworkError);
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
  });

  it("retries a truncated body", async () => {
    sim.faults.truncate({ times: 1 });
    expect((await client.listImages()).length).toBeGreaterThan(0);
  });

  it("retries malformed JSON, and reports a persistent one as a response error", async () => {
    sim.faults.malformed({ times: 1 });
    expect((await client.getImage(docImageId)).id).toBe(docImageId);
    sim.faults.malformed();
    const error = await caught(client.getImage(docImageId));
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect((error as Error).message).toContain("invalid JSON body");
  });

  it("reports a schema mismatch naming the field, without retrying", async () => {
    const image = await client.getImage(docImageId);
    sim.faults.inject({ kind: "status", status: 200, body: { data: { ...image, createdAt: 1605040451 } } });
    const before = sim.counters.get("GetImage");
    const error = await caught(client.getImage(docImageId));
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect((error as UpstreamResponseError).issuePath).toBe("data.createdAt");
    expect((error as Error).message).toContain("data.createdAt");
    expect(sim.counters.get("GetImage")).toBe(before + 1);
    expectNoApiKey(error);
  });

  it("keeps image fields it does not know, so the stored upstream document is complete", async () => {
    const image = await client.getImage(docImageId);
    sim.faults.inject({ kind: "status", status: 200, body: { data: { ...image, region: "us-east", labels: { tier: "gold" } } }, times: 1 });
    expect(await client.getImage(docImageId)).toEqual({ ...image, region: "us-east", labels: { tier: "gold" } });
  });

  it("reports an unknown image status in a list naming the item", async () => {
    const images = await client.listImages();
    const changed = images.map((image, index) => (index === 2 ? { ...image, status: "ARCHIVED" } : image));
    sim.faults.inject({ kind: "status", status: 200, body: { data: changed, metadata: { recordCount: changed.length } }, times: 1 });
    const error = await caught(client.listImages());
    expect((error as UpstreamResponseError).issuePath).toBe("data[2].status");
  });
});

describe("simulator hooks", () => {
  it("rate-limits per API key with a token bucket", async () => {
    const limited = await startCoxEdgeSimulator({ catalog: { images: 2 }, rateLimit: { burst: 2, rate: 1 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${limited.url}/tasks/x`, { headers: { "MC-Api-Key": limited.apiKey } });
        statuses.push(response.status);
        if (response.status === 429) expect(response.headers.get("retry-after")).toBe("1");
        await response.body?.cancel();
      }
      expect(statuses).toEqual([404, 404, 429]);
    } finally {
      await limited.close();
    }
  });

  it("drifts the catalog deterministically with churn", async () => {
    const drift = await startCoxEdgeSimulator({ catalog: { images: 1_000, seed: 9 } });
    const driftClient = makeClient({ baseUrl: drift.url, apiKey: drift.apiKey, organizationId: undefined });
    try {
      const before = await driftClient.listImages();
      expect(before).toHaveLength(1_000);
      const result = drift.state.churn({ modify: 0.01, remove: 0.01, add: 5 });
      expect(result.modified).toHaveLength(10);
      expect(result.removed).toHaveLength(7);
      expect(result.added).toHaveLength(5);
      const after = new Map((await driftClient.listImages()).map((image) => [image.id, image]));
      expect(after.size).toBe(1_000 - 7 + 5);
      for (const id of result.removed) expect(after.has(id)).toBe(false);
      for (const id of result.added) expect(after.get(id)?.status).toBe("READY");
      const original = new Map(before.map((image) => [image.id, image]));
      const modifiedIds = result.modified.filter((id) => after.has(id));
      for (const id of modifiedIds) expect(after.get(id)?.description).not.toBe(original.get(id)?.description);
    } finally {
      await drift.close();
    }
  });

  // "Only non-deprecated images are returned by default": the images docs `source/includes/stackpath/_images.md`.
  // How to ask for deprecated ones is undocumented, so the flag's name is a setting, with none by default.
  it("hides deprecated images from ListImages, serves them by id, and lists them only through the configured flag", async () => {
    const own = await startCoxEdgeSimulator({ catalog: { images: 6, seed: 4 } });
    const ownClient = makeClient({ baseUrl: own.url, apiKey: own.apiKey, organizationId: undefined });
    const list = async (query: string) => {
      const response = await fetch(`${own.url}/services/${own.service}/${own.environment}/images${query}`, { headers: { "MC-Api-Key": own.apiKey } });
      return (await response.json()) as { data: { id: string }[]; metadata: { recordCount: number } };
    };
    try {
      const image = own.state.snapshot()[0];
      if (!image) throw new Error("empty catalog");
      own.state.deprecateImage(image.id);
      const listed = await ownClient.listImages();
      expect(listed).toHaveLength(5);
      expect(listed.map((listedImage) => listedImage.id)).not.toContain(image.id);
      expect(await ownClient.getImage(image.id)).toEqual(image);
      expect((await list("?includeDeprecated=true")).data).toHaveLength(5);

      own.state.settings.includeDeprecatedParam = "includeDeprecated";
      const withDeprecated = await list("?includeDeprecated=true");
      expect(withDeprecated.metadata.recordCount).toBe(6);
      expect(withDeprecated.data.find((listedImage) => listedImage.id === image.id)).toEqual(image);
      expect((await list("")).data).toHaveLength(5);
    } finally {
      await own.close();
    }
  });

  it("takes every setting as a start option, and keeps the defaults for the others", async () => {
    const tuned = await startCoxEdgeSimulator({ catalog: { images: 1 }, taskFailureStatus: "FAILURE", taskTtlMs: 5, conflictStatus: 409, authFailureStatus: 401, includeDeprecatedParam: "all" });
    try {
      expect(tuned.state.settings).toEqual({
        taskDelayMs: 100,
        taskFailureRate: 0,
        taskFailureStatus: "FAILURE",
        taskTtlMs: 5,
        resultIncludesImageId: true,
        conflictStatus: 409,
        authFailureStatus: 401,
        includeDeprecatedParam: "all",
      });
    } finally {
      await tuned.close();
    }
  });

  it("counts requests per endpoint", async () => {
    const before = sim.counters.snapshot();
    await client.listImages();
    await client.getImage(docImageId);
    await caught(client.getTask("missing"));
    const after = sim.counters.snapshot();
    expect((after.ListImages ?? 0) - (before.ListImages ?? 0)).toBe(1);
    expect((after.GetImage ?? 0) - (before.GetImage ?? 0)).toBe(1);
    expect((after.GetTask ?? 0) - (before.GetTask ?? 0)).toBe(1);
  });
});
