/**
 * A listing that fails, is cut short or does not validate must leave the inventory exactly as it was:
 * no tombstones, no writes. And one failing or slow source must not hold up or break another.
 */
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Provider } from "../../packages/core/resources";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../../packages/simulators/coxedge/simulator";
import type { FaultController } from "../../packages/simulators/kit";
import { getLatestRun, type SyncRun } from "../../packages/store/runs";
import { syncProvider, type SyncProgress } from "../../packages/sync/engine";
import { startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ images: 20 });
  for (const provider of ["triton", "coxedge"] as const) expect((await h.sync(provider))[0]?.status).toBe("ok");
});
afterAll(() => h.close());

const faults = (provider: Provider): FaultController => (provider === "triton" ? h.triton.faults : h.coxedge.faults);

/** A listed image (a custom one for Cox Edge, which can be removed) and its removal upstream. */
async function removeOneUpstream(provider: Provider): Promise<string> {
  const upstream = await h.upstream(provider);
  const id = [...upstream.entries()].find(([, doc]) => provider === "triton" || doc.slug !== "stackpath-edge")?.[0] as string;
  if (provider === "triton") h.triton.removeImage(id);
  else h.coxedge.state.removeImage(id);
  return id;
}

const cases: { name: string; inject: (f: FaultController, provider: Provider) => void; error: RegExp | ((provider: Provider) => RegExp) }[] = [
  { name: "5xx on every attempt", inject: (f) => f.status(503), error: /UpstreamServerError: .*HTTP 503/ },
  { name: "429 until retries are exhausted", inject: (f) => f.throttle(), error: /UpstreamThrottledError: .*HTTP 429/ },
  { name: "malformed JSON", inject: (f) => f.malformed(), error: /UpstreamResponseError: .*invalid JSON body/ },
  { name: "a body cut off mid-transfer", inject: (f) => f.truncate(), error: /UpstreamNetworkError/ },
  {
    name: "a document that fails validation",
    inject: (f, provider) =>
      f.inject({
        kind: "status",
        status: 200,
        body: provider === "triton" ? [{ id: "not-a-uuid", name: "x", version: "1", requirements: {} }] : { data: [{ id: "x" }], metadata: { recordCount: 1 } },
      }),
    error: (provider) => (provider === "triton" ? /UpstreamResponseError: .*unexpected response body at \[0\]\.id/ : /UpstreamResponseError: .*unexpected response body at data\[0\]\.stackId/),
  },
];

describe.each(["triton", "coxedge"] as const)("%s: a failed listing leaves the inventory untouched", (provider) => {
  let removed: string;
  let before: Awaited<ReturnType<Harness["stored"]>>;

  beforeAll(async () => {
    removed = await removeOneUpstream(provider);
    before = await h.stored(provider);
  });

  it.each(cases)("$name", async ({ inject, error }) => {
    const lastOk = (await getLatestRun(h.table, provider === "triton" ? h.tritonSourceId : h.coxedgeSourceId))?.lastOkRunId;
    const writes = h.imageWrites();
    inject(faults(provider), provider);
    try {
      const [run] = await h.sync(provider);
      expect(run?.status).toBe("failed");
      expect(run?.error).toMatch(typeof error === "function" ? error(provider) : error);
      expect(run?.writes).toBe(0);
    } finally {
      faults(provider).clear();
    }
    expect(h.imageWrites()).toBe(writes);
    expect(await h.stored(provider)).toEqual(before);
    const latest = await getLatestRun(h.table, provider === "triton" ? h.tritonSourceId : h.coxedgeSourceId);
    expect(latest).toMatchObject({ status: "failed", lastOkRunId: lastOk });
  });

  if (provider === "triton") {
    it("a listing with a duplicate id (fails snapshot validation)", async () => {
      const image = (await h.upstream(provider)).values().next().value;
      h.triton.faults.inject({ kind: "status", status: 200, body: [image, image] });
      try {
        const [run] = await h.sync(provider);
        expect(run?.error).toMatch(/SnapshotValidationError: listing\[\d+\]\.id: duplicate id/);
      } finally {
        h.triton.faults.clear();
      }
      expect(await h.stored(provider)).toEqual(before);
    });
  } else {
    it("a listing shorter than its recordCount (truncated)", async () => {
      const listed = [...(await h.upstream(provider)).values()];
      h.coxedge.faults.inject({ kind: "status", status: 200, body: { data: listed.slice(1), metadata: { recordCount: listed.length } } });
      try {
        const [run] = await h.sync(provider);
        expect(run?.error).toMatch(/metadata\.recordCount/);
      } finally {
        h.coxedge.faults.clear();
      }
      expect(await h.stored(provider)).toEqual(before);
    });
  }

  it("the next good listing applies the removal", async () => {
    const [run] = await h.sync(provider);
    expect(run).toMatchObject({ status: "ok", counts: { removed: 1 }, writes: 1 });
    expect((await h.stored(provider)).get(removed)?.removedAt).toBe(run?.snapshotAt);
  });
});

describe("isolation between sources", () => {
  let slow: CoxEdgeSimulator;
  beforeAll(async () => {
    slow = await startCoxEdgeSimulator({ catalog: { images: 5, seed: 3 } });
  });
  afterAll(() => slow.close());

  function twoSources() {
    const slowSource = { id: "coxedge-slow", baseUrl: slow.url, service: slow.service, environment: slow.environment, apiKey: slow.apiKey, maxAttempts: 2, timeoutMs: 10_000 };
    return h.config({ IMAGESYNC_COXEDGE_SOURCES: JSON.stringify([slowSource, h.sourceConfig.coxedge]) });
  }

  it("a slow, failing source neither delays nor breaks the healthy one", async () => {
    slow.faults.latency(700);
    slow.faults.status(500);
    const finished: { sourceId: string; at: number }[] = [];
    const onProgress = (event: SyncProgress) => event.phase === "finished" && finished.push({ sourceId: event.run.sourceId, at: Date.now() });
    try {
      const runs = await syncProvider("coxedge", { deadline: Date.now() + 60_000, trigger: "manual", onProgress }, twoSources());
      const bySource = Object.fromEntries(runs.map((run) => [run.sourceId, run])) as Record<string, SyncRun>;
      expect(bySource["coxedge-slow"]).toMatchObject({ status: "failed", error: expect.stringMatching(/HTTP 500/) });
      expect(bySource[h.coxedgeSourceId]?.status).toBe("ok");
    } finally {
      slow.faults.clear();
    }
    expect(finished.map((f) => f.sourceId)).toEqual([h.coxedgeSourceId, "coxedge-slow"]);
    expect((finished[1]?.at ?? 0) - (finished[0]?.at ?? 0)).toBeGreaterThan(500);
  });

  // CloudAPI cannot verify ecdsa-sha384 (TritonDataCenter/node-http-signature lib/utils.js HASH_ALGOS).
  it("a Triton source with a key CloudAPI cannot verify (ECDSA P-384) fails alone, naming the source", async () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const badSource = { ...h.sourceConfig.triton, id: "triton-p384", privateKey: p384, keyId: undefined };
    const config = h.config({ IMAGESYNC_TRITON_SOURCES: JSON.stringify([badSource, h.sourceConfig.triton]) });
    const runs = await syncProvider("triton", { deadline: Date.now() + 60_000, trigger: "manual" }, config);
    const bySource = Object.fromEntries(runs.map((run) => [run.sourceId, run])) as Record<string, SyncRun>;
    expect(bySource["triton-p384"]).toMatchObject({ status: "failed", writes: 0, error: expect.stringMatching(/^ConfigError: Invalid configuration: TritonSources triton-p384: Triton private key is ECDSA P-384/) });
    expect(bySource[h.tritonSourceId]?.status).toBe("ok");
  });

  it("a source that does not answer before the deadline fails alone", async () => {
    slow.faults.latency(5_000);
    try {
      // The engine keeps 5 s of the deadline for recording runs, so the listings get 1.5 s.
      const runs = await syncProvider("coxedge", { deadline: Date.now() + 6_500, trigger: "manual" }, twoSources());
      const bySource = Object.fromEntries(runs.map((run) => [run.sourceId, run])) as Record<string, SyncRun>;
      expect(bySource["coxedge-slow"]).toMatchObject({ status: "failed", error: expect.stringMatching(/SyncDeadlineError/) });
      expect(bySource["coxedge-slow"]?.durationMs).toBeLessThan(3_000);
      expect(bySource[h.coxedgeSourceId]?.status).toBe("ok");
    } finally {
      slow.faults.clear();
    }
  });
});

// The CloudMC error body has an integer `code` and `context` (the CloudMC API docs source
// `source/includes/_getting_started.md`; cloud-ca/go-cloudca `api/response.go`): its message and code reach
// the sync run's error, and the inventory stays as it was.
describe("coxedge: a refusal with a documented error body", () => {
  it("puts the upstream code and message in the run's error", async () => {
    const before = await h.stored("coxedge");
    const message = "Environment test-area is not available to this organization";
    h.coxedge.faults.inject({ kind: "status", status: 403, body: { errors: [{ code: 2012, message, context: { id: "test-area", type: "environments" } }] } });
    try {
      const [run] = await h.sync("coxedge");
      expect(run?.status).toBe("failed");
      expect(run?.error).toMatch(/^UpstreamPermissionError: coxedge ListImages .*HTTP 403: 2012: Environment test-area is not available to this organization$/);
      expect(run?.writes).toBe(0);
    } finally {
      h.coxedge.faults.clear();
    }
    expect(await h.stored("coxedge")).toEqual(before);
  });
});

// A partial answer that looks whole (no recordCount on Triton; a consistent one on Cox Edge) must not
// tombstone what is still there: mass removals wait for the next listing to confirm them.
describe.each(["triton", "coxedge"] as const)("%s: a listing that silently drops half the images", (provider) => {
  const simulator = () => (provider === "triton" ? h.triton : h.coxedge);
  const sourceId = () => (provider === "triton" ? h.tritonSourceId : h.coxedgeSourceId);
  const tombstones = async () => [...(await h.stored(provider)).values()].filter((item) => item.removedAt).length;
  /** Every listing answer of the next sync leaves out the same half (Triton's sync lists twice). */
  const dropHalf = () => simulator().dropFromListings({ times: provider === "triton" ? 2 : 1, share: 0.5, salt: `half-${provider}` });

  it("is held back, then applied only when the next listing lacks exactly the same images", async () => {
    expect((await h.sync(provider))[0]?.status).toBe("ok");
    const before = await tombstones();

    dropHalf();
    const [held] = await h.sync(provider);
    const dropped = held?.heldRemovals?.count ?? 0;
    expect(dropped).toBeGreaterThan(5);
    expect(held).toMatchObject({ status: "ok", counts: { removed: 0 } });
    expect(held?.counts.seen).toBe((await h.upstream(provider)).size - dropped);
    expect(await tombstones()).toBe(before);
    expect((await getLatestRun(h.table, sourceId()))?.heldRemovals?.count).toBe(dropped);

    // The full listing is back: nothing to remove, and the hold is cleared.
    const [full] = await h.sync(provider);
    expect(full).toMatchObject({ status: "ok", counts: { removed: 0 } });
    expect(full?.heldRemovals).toBeUndefined();
    expect((await getLatestRun(h.table, sourceId()))?.heldRemovals).toBeUndefined();

    // Two listings in a row lacking the same images: the second confirms, and they are tombstoned.
    dropHalf();
    await h.sync(provider);
    dropHalf();
    const [confirmed] = await h.sync(provider);
    expect(confirmed).toMatchObject({ status: "ok", counts: { removed: dropped } });
    expect(await tombstones()).toBe(before + dropped);
    expect((await h.sync(provider))[0]?.counts.revived).toBe(dropped);
  });
});
