/**
 * What the soak counts on in the simulators: each effect applied is in the ledger once, with the key the
 * soak maps jobs to, and a faulted request is not; faults and drops are counted; drops can be aimed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoxEdgeClient } from "../../packages/providers/coxedge/client";
import { TritonClient } from "../../packages/providers/triton/client";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../../packages/simulators/coxedge/simulator";
import { defaultSimWorkloads } from "../../packages/simulators/coxedge/state";
import { startTritonSimulator, type TritonSimulator } from "../../packages/simulators/triton/simulator";

const entries = (sim: { effects: { entries: { kind: string; key: string }[] } }) => sim.effects.entries.map(({ kind, key }) => `${kind} ${key}`);

describe("Triton", () => {
  let central: TritonSimulator;
  let west: TritonSimulator;
  const client = (sim: TritonSimulator) =>
    new TritonClient({ url: sim.url, account: sim.account, keyId: sim.keyId, privateKey: sim.privateKeyPem, maxAttempts: 1, timeoutMs: 500 });
  beforeAll(async () => {
    central = await startTritonSimulator({ createDelayMs: 10 });
    west = await startTritonSimulator({ cloud: central.cloud, importDelayMs: 10 });
  });
  afterAll(async () => {
    await west.close();
    await central.close();
  });

  it("records every effect once, under the key of its kind", async () => {
    const triton = client(central);
    const owner = central.accountUuid;
    const source = central.addImage({ name: "source", owner, public: false, acl: [owner] });
    await triton.createImageFromMachine({ machine: central.addMachine().id, name: "made", version: "1" });
    const clone = await triton.cloneImage(source.uuid);
    await triton.updateImage(source.uuid, { description: "changed" });
    await triton.exportImage(source.uuid, `/${central.account}/stor/source`);
    await client(west).importImageFromDatacenter(central.datacenterName, source.uuid);
    await triton.deleteImage(clone.id);
    expect(entries(central)).toEqual(["create made@1", `clone ${source.uuid}`, `update ${source.uuid}`, `export ${source.uuid}`, `delete ${clone.id}`]);
    expect(entries(west)).toEqual([`copy ${source.uuid}`]);
    expect(central.effects.onImage(clone.id, 0, Date.now()).map((effect) => effect.kind)).toEqual(["clone", "delete"]);
  });

  it("records nothing for a reset request, and a timed-out request once it is applied after the caller gave up", async () => {
    const machine = central.addMachine().id;
    central.faults.reset({ method: "POST", times: 1 });
    await expect(client(central).createImageFromMachine({ machine, name: "reset", version: "1" })).rejects.toThrow(/network error/);
    central.faults.latency(800, { method: "POST", times: 1, label: "timeout" });
    await expect(client(central).createImageFromMachine({ machine, name: "late", version: "1" })).rejects.toThrow(/timed out/);
    expect(central.effects.count("create", "late@1")).toBe(0);
    await sleep(500);
    expect(central.effects.count("create", "late@1")).toBe(1);
    expect(central.effects.count("create", "reset@1")).toBe(0);
    expect(Object.fromEntries(central.faults.firedByLabel)).toMatchObject({ reset: 1, timeout: 1 });
  });

  it("drops only the listings a drop applies to, and counts them", async () => {
    const triton = client(central);
    const all = await triton.listImages({ state: "all" });
    central.dropFromListings({ times: 1, share: 1, appliesTo: (query) => !query.has("name") });
    expect(await triton.listImages({ name: "made", state: "all" })).toHaveLength(1);
    expect(central.droppedListings()).toBe(0);
    expect(await triton.listImages({ state: "all" })).toEqual([]);
    expect(central.droppedListings()).toBe(1);
    expect(await triton.listImages({ state: "all" })).toHaveLength(all.length);
    expect(central.accountListing().map((image) => image.id).toSorted()).toEqual(
      [...all, ...(await triton.listImages({ state: "all", type: "docker" }))].map((image) => image.id).toSorted(),
    );
  });
});

describe("Cox Edge", () => {
  let sim: CoxEdgeSimulator;
  let coxedge: CoxEdgeClient;
  const [workload] = defaultSimWorkloads;
  const create = (tag: string) =>
    coxedge.createImage({ family: "effects", tag, workloadId: workload?.id ?? "", instanceName: workload?.instances[0] ?? "" });
  beforeAll(async () => {
    sim = await startCoxEdgeSimulator({ taskDelayMs: 50, catalog: { images: 0 } });
    coxedge = new CoxEdgeClient({ baseUrl: sim.url, service: sim.service, environment: sim.environment, apiKey: sim.apiKey, maxAttempts: 1 });
  });
  afterAll(() => sim.close());

  it("records a create at once and a delete when its task removes the image; a failed task removes nothing", async () => {
    await create("v1");
    expect(entries(sim)).toEqual(["create effects:v1"]);
    const [image] = sim.state.snapshot().filter((candidate) => candidate.tag === "v1");
    await sleep(60);
    const deletion = await coxedge.deleteImage(image?.id ?? "");
    expect(sim.effects.count("delete", image?.id ?? "")).toBe(0);
    await sleep(60);
    expect((await coxedge.getTask(deletion.taskId)).status).toBe("SUCCESS");
    expect(sim.effects.count("delete", image?.id ?? "")).toBe(1);

    sim.state.settings.taskFailureRate = 1;
    const kept = sim.state.putImage({ family: "effects", tag: "kept" });
    const failing = await coxedge.deleteImage(kept.id);
    await sleep(60);
    expect((await coxedge.getTask(failing.taskId)).status).toBe("FAILED");
    expect(sim.effects.count("delete", kept.id)).toBe(0);
    expect(sim.state.taskStats.failed).toBe(1);

    sim.state.settings.taskTtlMs = 1;
    await expect(coxedge.getTask(failing.taskId)).rejects.toThrow(/404/);
    expect(sim.state.taskStats.expiredReads).toBe(1);
  });
});
