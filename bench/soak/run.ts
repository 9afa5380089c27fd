/**
 * One soak: the stack up, then for `minutes` syncs every few seconds and a steady stream of jobs while the
 * simulators inject faults and the job worker process is killed and restarted; then faults stop, jobs
 * settle, one clean sync runs, and the invariants are checked.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { JobRecord } from "../../packages/jobs/schema";
import { SeededRandom } from "../../packages/simulators/kit";
import { isTerminal } from "../../packages/store/jobs";
import { sample } from "./catalogs";
import { FaultInjector } from "./faults";
import { JobStream, type SoakJob } from "./jobs";
import { ListingInvariant } from "./listings";
import { checkEffectsOnce, checkJobsFinished, checkMirrored, DeadLetters, readJobs } from "./outcome";
import type { JobEnd, SoakReport } from "./report";
import { soakSettings, timings, type SoakOptions, type SoakSettings } from "./settings";
import { startSoakStack, type SoakStack } from "./stack";
import { SyncRounds } from "./syncs";
import { WorkerProcess } from "./worker";

/** A fault on job traffic this often; a new task episode (failing, vanishing, or normal tasks) this often. */
const jobFaultEveryMs = 700;
const taskEpisodeMs = 3000;
/** After jobs settle: upstream work they started (tasks, imports, requests held by faults) ends within this. */
const quietMs = 3000;

interface Parts {
  stack: SoakStack;
  stream: JobStream;
  injector: FaultInjector;
  listings: ListingInvariant;
  rounds: SyncRounds;
  worker: WorkerProcess;
  errors: string[];
}

export async function soak(options: SoakOptions): Promise<SoakReport> {
  const settings = soakSettings(options);
  const started = Date.now();
  const random = new SeededRandom(settings.seed);
  settings.log(`soak: seed ${settings.seed}, ${settings.minutes} min of faults, ${settings.jobsPerSecond} jobs/s, ${settings.workerKills} worker kills`);
  const stack = await startSoakStack(settings);
  const worker = new WorkerProcess(workerEnvironment(stack), join(tmpdir(), `imagesync-soak-${settings.seed}-${process.pid}.log`));
  try {
    const parts = prepare(stack, worker, random, settings);
    worker.start();
    const faultsMs = await underFaults(parts, random, settings);
    const faults = parts.injector.stop();
    settings.log(`soak: faults stopped after ${Math.round(faultsMs / 1000)} s; waiting for ${parts.stream.jobs.length} jobs to settle`);
    const settleStarted = Date.now();
    await parts.stream.drain();
    worker.start();
    const deadLetters = new DeadLetters(stack.queues.deadLetterQueueUrl);
    await settle(parts, deadLetters, settings.settleTimeoutMs);
    await sleep(quietMs);
    await worker.stop();
    const settleMs = Date.now() - settleStarted;
    settings.log("soak: one clean sync, then the checks");
    const clean = [...(await parts.rounds.round("triton", false)), ...(await parts.rounds.round("coxedge", false))];
    const records = await readJobs(stack.table, parts.stream.jobs);
    const dead = await deadLetters.collect();
    const invariants = [
      parts.listings.result(),
      checkJobsFinished(parts.stream.jobs, records, dead),
      checkEffectsOnce(parts.stream.jobs, records),
      checkMirrored(clean),
    ];
    const errors = [...parts.errors, ...parts.stream.errors, ...worker.crashes];
    return {
      passed: invariants.every((invariant) => invariant.passed) && errors.length === 0,
      seed: settings.seed,
      invariants,
      faults,
      jobs: jobEnds(parts.stream.jobs, records, dead),
      failures: failureReasons(records),
      duplicatesSent: parts.stream.duplicatesSent,
      syncs: syncStatuses(parts.rounds.statuses),
      workerKills: worker.kills,
      errors,
      durations: { totalMs: Date.now() - started, faultsMs, settleMs },
      workerLog: worker.logPath,
    };
  } finally {
    await worker.stop();
    await stack.close();
  }
}

function prepare(stack: SoakStack, worker: WorkerProcess, random: SeededRandom, settings: SoakSettings): Parts {
  const stream = new JobStream(stack, random, settings.jobsPerSecond * settings.minutes * 60);
  const injector = new FaultInjector(random, stack);
  const listings = new ListingInvariant();
  for (const source of stack.sources) listings.begin(source, sample(source));
  return { stack, stream, injector, listings, rounds: new SyncRounds(stack, injector, listings), worker, errors: [] };
}

/** Syncs, jobs, faults and worker kills until `minutes` have passed; returns how long that took. */
async function underFaults(parts: Parts, random: SeededRandom, settings: SoakSettings): Promise<number> {
  const started = Date.now();
  const durationMs = settings.minutes * 60_000;
  const controller = new AbortController();
  const { signal } = controller;
  const { rounds, stream, injector } = parts;
  const failed = (what: string) => (error: unknown) => void parts.errors.push(`${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const loops = [
    every(settings.syncEveryMs, signal, () => rounds.round("triton", true), failed("triton sync round")),
    every(settings.syncEveryMs, signal, () => rounds.round("coxedge", true), failed("coxedge sync round")),
    every(1000 / settings.jobsPerSecond, signal, () => stream.submitNext(), failed("job submission")),
    every(jobFaultEveryMs, signal, () => injector.jobFault(), failed("job fault")),
    every(taskEpisodeMs, signal, () => injector.taskEpisode(), failed("task episode")),
    killAndRestart(parts.worker, killTimes(random, settings.workerKills, durationMs), random, signal),
  ];
  await sleep(durationMs);
  controller.abort();
  await Promise.all(loops);
  return Date.now() - started;
}

/** Runs `step`, then waits `intervalMs`, until `signal` aborts; a step that throws is reported and the loop goes on. */
async function every(intervalMs: number, signal: AbortSignal, step: () => unknown, onError: (error: unknown) => void): Promise<void> {
  while (!signal.aborted) {
    try {
      await step();
    } catch (error) {
      onError(error);
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

/** Kill times spread over the run (ms from its start), each jittered within its share. */
function killTimes(random: SeededRandom, kills: number, durationMs: number): number[] {
  return Array.from({ length: kills }, (_, i) => ((i + 0.2 + 0.6 * random.next()) / kills) * durationMs);
}

async function killAndRestart(worker: WorkerProcess, atMs: number[], random: SeededRandom, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  for (const at of atMs) {
    await sleep(Math.max(0, at - (Date.now() - started)), undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    await worker.kill();
    await sleep(random.int(timings.workerDownMs.min, timings.workerDownMs.max));
    worker.start();
  }
}

/** Until every job has finished or has a message in the dead-letter queue, or `timeoutMs` has passed. */
async function settle({ stack, stream }: Parts, deadLetters: DeadLetters, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const finished = new Set<string>();
  while (Date.now() < deadline) {
    const open = stream.jobs.filter((job) => !finished.has(job.jobId));
    for (const [jobId, record] of await readJobs(stack.table, open)) if (record && isTerminal(record.state)) finished.add(jobId);
    const dead = await deadLetters.collect();
    if (stream.jobs.every((job) => finished.has(job.jobId) || dead.has(job.jobId))) return;
    await sleep(1000);
  }
}

function workerEnvironment(stack: SoakStack): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...stack.env,
    SOAK_JOB_QUEUE_ARN: stack.queues.jobQueueArn,
    SOAK_HANDLER_TIMEOUT_SECONDS: String(timings.handlerTimeoutSeconds),
    SOAK_PARENT_PID: String(process.pid),
    // Retries and rejections, for reading after a failed soak; metrics go nowhere locally.
    POWERTOOLS_LOG_LEVEL: "WARN",
    POWERTOOLS_METRICS_DISABLED: "true",
  };
}

function jobEnds(jobs: readonly SoakJob[], records: Map<string, JobRecord | undefined>, dead: Set<string>): SoakReport["jobs"] {
  const ends: SoakReport["jobs"] = {};
  for (const job of jobs) {
    const state = records.get(job.jobId)?.state;
    const end: JobEnd = state === "succeeded" || state === "failed" ? state : dead.has(job.jobId) ? "in DLQ" : "unfinished";
    const counts = (ends[job.action] ??= { succeeded: 0, failed: 0, "in DLQ": 0, unfinished: 0 });
    counts[end]++;
  }
  return Object.fromEntries(Object.entries(ends).toSorted(([a], [b]) => a.localeCompare(b)));
}

function failureReasons(records: Map<string, JobRecord | undefined>): SoakReport["failures"] {
  const reasons: SoakReport["failures"] = {};
  for (const record of records.values()) {
    if (record?.state !== "failed") continue;
    const code = record.error?.code ?? "(none)";
    const reason = (reasons[code] ??= { count: 0, example: `${record.jobId}: ${record.error?.message ?? ""}` });
    reason.count++;
  }
  return reasons;
}

function syncStatuses(statuses: Map<string, number>): SoakReport["syncs"] {
  const byProvider: SoakReport["syncs"] = {};
  for (const [key, count] of statuses) {
    const [provider = "", status = ""] = key.split(" ");
    byProvider[provider] = { ...byProvider[provider], [status]: count };
  }
  return byProvider;
}
