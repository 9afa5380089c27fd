/**
 * A worker process killed between the upstream call and the job record update (the crash window):
 * its DynamoDB traffic is frozen the moment upstream receives the create, then the process is killed.
 * SQS delivers the message again after the visibility timeout, to a fresh worker, which must find the
 * image the dead worker made instead of making a second one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RequestCounters } from "../../packages/simulators/kit";
import { coxedgeSourceId, coxedgeWorkload, startHarness, startHoldingProxy, tritonSourceId, until, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ startWorker: false, visibilityTimeoutSeconds: 3, timeoutSeconds: 2 });
});
afterAll(() => h.close());

/** Freezes the worker's DynamoDB writes as soon as upstream sees `operation`, and returns the kill switch. */
async function crashingWorker(counters: RequestCounters, operation: string): Promise<{ crashed: Promise<void>; stop(): Promise<void> }> {
  const proxy = await startHoldingProxy(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "test/jobs/worker-process.ts"], {
    env: {
      ...process.env,
      ...h.env,
      AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
      WORKER_QUEUE_URL: h.queues.jobQueueUrl,
      WORKER_QUEUE_ARN: h.queues.jobQueueArn,
      WORKER_TIMEOUT_SECONDS: "2",
    },
    stdio: "ignore",
  });
  const exited = once(child, "exit");
  let upstreamCalled!: () => void;
  const called = new Promise<void>((resolve) => (upstreamCalled = resolve));
  const increment = counters.increment.bind(counters);
  counters.increment = (name) => {
    increment(name);
    if (name === operation) {
      proxy.hold();
      upstreamCalled();
    }
  };
  const stop = async () => {
    counters.increment = increment;
    child.kill("SIGKILL");
    await exited;
    await proxy.close();
  };
  return { crashed: called.then(stop), stop };
}

it("Triton: the create is reconciled by name and version after the crash, not repeated", async () => {
  const name = `crash-${randomUUID().slice(0, 6)}`;
  const jobId = `crash-triton-${randomUUID().slice(0, 8)}`;
  const worker = await crashingWorker(h.triton.counters, "CreateImageFromMachine");
  try {
    await h.send({ jobId, provider: "triton", source: tritonSourceId, action: "create", params: { machine: h.triton.addMachine().id, name, version: "1" } });
    await worker.crashed;
  } finally {
    await worker.stop();
  }
  const created = await until(() => h.triton.imageRecords().find((image) => image.name === name), 5000, "image created upstream");
  expect(await h.job(jobId)).toMatchObject({ state: "submitting", attempts: 1 });

  h.startWorker();
  const job = await h.waitForJob(jobId).finally(() => h.stopWorker());
  expect(job).toMatchObject({ state: "succeeded", attempts: 2, result: { imageId: created.uuid } });
  expect(h.triton.counters.get("CreateImageFromMachine")).toBe(1);
  expect(h.triton.imageRecords().filter((image) => image.name === name)).toHaveLength(1);
});

it("Cox Edge: the create is reconciled by family and tag after the crash, not repeated", async () => {
  const tag = `v${randomUUID().slice(0, 8)}`;
  const jobId = `crash-coxedge-${randomUUID().slice(0, 8)}`;
  const worker = await crashingWorker(h.coxedge.counters, "CreateImage");
  try {
    await h.send({ jobId, provider: "coxedge", source: coxedgeSourceId, action: "create", params: { family: "ubuntu", tag, ...coxedgeWorkload } });
    await worker.crashed;
  } finally {
    await worker.stop();
  }
  expect(await h.job(jobId)).toMatchObject({ state: "submitting", attempts: 1 });

  h.startWorker();
  const job = await h.waitForJob(jobId).finally(() => h.stopWorker());
  const images = h.coxedge.state.snapshot().filter((image) => image.family === "ubuntu" && image.tag === tag);
  expect(images).toHaveLength(1);
  expect(job).toMatchObject({ state: "succeeded", attempts: 2, result: { imageId: images[0]?.id } });
  expect(h.coxedge.counters.get("CreateImage")).toBe(1);
});
