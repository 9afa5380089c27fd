/**
 * The job worker: runs one step of a job per queue message and never sleeps waiting for upstream.
 *
 * A job moves queued → submitting → submitted → polling → succeeded | failed. After the upstream call
 * (or a status check that finds the job still running, or a retryable failure) the worker sends itself a
 * continuation `{jobId, seq}` delayed with exponential backoff, and returns.
 *
 * Exactly one upstream effect per job, with at-least-once delivery and crashes (docs/jobs.md):
 * - Powertools idempotency on `{jobId, seq}` lets one delivery of a step run at a time and answers
 *   repeats of a finished step from its record; a step whose worker died runs again once the Lambda
 *   timeout has passed.
 * - The job record's `seq` names the one step the job waits for; messages for other steps are
 *   duplicates and are dropped. Every record write is conditioned on the version read.
 * - The job is marked `submitting` before the upstream call. Finding it still `submitting` means an
 *   earlier attempt died or failed without an answer: the worker looks upstream for what that attempt
 *   did (reconcile) and submits again only when it did nothing.
 */
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { dynamoClient } from "../core/aws";
import { ConfigError } from "../core/config";
import { logger, metrics } from "../core/observability";
import { CoxEdgeClient } from "../providers/coxedge/client";
import { UpstreamError } from "../providers/http";
import { tritonClientFor, type TritonClient } from "../providers/triton/client";
import { markImageRemoved, upsertImage } from "../store/inventory";
import { itemKeys } from "../store/keys";
import { createJob, getJob, isTerminal, saveJob, type JobError } from "../store/jobs";
import { continuationDelaySeconds, maxSqsDelaySeconds } from "./backoff";
import { enqueue, type JobsContext } from "./context";
import { coxedgeOperations } from "./coxedge";
import { upstreamJobError, type InventoryRefresh, type JobOperations, type Progress } from "./operations";
import { jobRequest, parseQueueMessage, type JobRecord, type JobRequest } from "./schema";
import { acceptJob, JobConflictError, newJobRecord } from "./submit";
import { tritonOperations, type TritonJobSource } from "./triton";

/** The message can never succeed (invalid, or contradicts a stored job); it belongs in the dead-letter queue. */
export class RejectedMessageError extends Error {
  override readonly name = "RejectedMessageError";
}

interface Step {
  jobId: string;
  seq: number;
}

/** What one delivery did, for logs (and cached by the idempotency record). */
export type StepOutcome = "scheduled" | "succeeded" | "failed" | "finished" | "resent" | "stale";

type Outcome = Extract<Progress, { kind: "succeeded" | "failed" }>;

export class JobWorker {
  /** Register each invocation's Lambda context here so a dead worker's step can run again after its timeout. */
  readonly idempotency = new IdempotencyConfig({ expiresAfterSeconds: 3600 });
  readonly #context: JobsContext;
  readonly #tritonClients = new Map<string, TritonClient>();
  readonly #coxedgeClients = new Map<string, CoxEdgeClient>();
  readonly #runStepOnce: (step: Step) => Promise<StepOutcome>;

  /** Delays and the overall timeout come from the context's configuration (`tuning()`). */
  constructor(context: JobsContext) {
    this.#context = context;
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: context.table.name,
      awsSdkV3Client: dynamoClient(),
      keyAttr: "pk",
      sortKeyAttr: "sk",
      staticPkValue: itemKeys.jobStepIdempotency,
      expiryAttr: "expiresAt",
    });
    const runStepOnce = makeIdempotent((step: Step) => this.#runStep(step), {
      persistenceStore,
      config: this.idempotency,
      keyPrefix: "job-step",
    });
    this.#runStepOnce = async (step) => {
      try {
        return await runStepOnce(step);
      } catch (error) {
        // Another delivery of the same step is running; this one comes back after the visibility timeout.
        if (error instanceof IdempotencyAlreadyInProgressError) logger.info("job step already in progress", { ...step });
        throw error;
      }
    };
  }

  /**
   * Handles one queue message body. Resolves when the message is done with (including duplicates);
   * rejects to have it delivered again: RejectedMessageError for messages that can never succeed (they
   * end in the dead-letter queue, with the reason logged and recorded on the job when it names one),
   * other errors for failures worth retrying.
   */
  async handleMessage(body: string, delivery: { messageId: string }): Promise<StepOutcome> {
    metrics.addMetric("JobMessages", MetricUnit.Count, 1);
    const parsed = parseQueueMessage(body);
    if (!parsed.ok) {
      logger.error("job message rejected", { messageId: delivery.messageId, jobId: parsed.jobId, reason: parsed.error });
      metrics.addMetric("JobMessagesRejected", MetricUnit.Count, 1);
      if (parsed.jobId) await this.#recordRejection(parsed.jobId, parsed.error);
      throw new RejectedMessageError(parsed.error);
    }
    if (parsed.value.kind === "continuation") return this.#runStepOnce(parsed.value.message);
    const { message } = parsed.value;
    // A message sent without an id gets one from SQS's message id, which its redeliveries share.
    const jobId = message.jobId ?? `msg-${delivery.messageId}`;
    try {
      await acceptJob(this.#context.table, jobId, jobRequest(message));
    } catch (error) {
      if (!(error instanceof JobConflictError)) throw error;
      logger.error("job message rejected", { messageId: delivery.messageId, jobId, reason: error.message });
      throw new RejectedMessageError(error.message);
    }
    return this.#runStepOnce({ jobId, seq: 0 });
  }

  /** A failed record under the message's job id, unless that id already belongs to a job. */
  async #recordRejection(jobId: string, reason: string): Promise<void> {
    const now = new Date();
    await createJob(this.#context.table, {
      ...newJobRecord(jobId, undefined, now),
      state: "failed",
      finishedAt: now.toISOString(),
      error: { code: "InvalidMessage", message: reason },
    });
  }

  async #runStep({ jobId, seq }: Step): Promise<StepOutcome> {
    const stored = await getJob<JobRequest>(this.#context.table, jobId);
    if (!stored) throw new RejectedMessageError(`job ${jobId} does not exist`);
    if (isTerminal(stored.state)) return "finished";
    // The step before the current one saved its decision but may have died before sending it on.
    if (seq === stored.seq - 1) {
      await this.#send(stored);
      return "resent";
    }
    if (seq !== stored.seq || !stored.request) return "stale";

    const now = new Date();
    const deadlineAt = stored.deadlineAt ?? new Date(now.getTime() + this.#tuning().jobPollTimeoutSeconds * 1000).toISOString();
    let job: JobRecord = { ...stored, deadlineAt };
    if (now.toISOString() >= deadlineAt) return this.#finish(job, { kind: "failed", error: timeoutError(job, this.#tuning().jobPollTimeoutSeconds) });
    let operations: JobOperations | undefined;
    try {
      operations = this.#operations(job, stored.request);
    } catch (error) {
      // A configuration the job cannot run with never heals by retrying: fail with the reason.
      if (!(error instanceof ConfigError)) throw error;
      return this.#finish(job, { kind: "failed", error: { code: "ConfigError", message: error.message } });
    }
    if (!operations) {
      const error = { code: "UnknownSource", message: `no ${stored.request.provider} source "${stored.request.source}" is configured` };
      return this.#finish(job, { kind: "failed", error });
    }

    // Every upstream document this step reads is read after this: the inventory write is stamped with it, so
    // a sync that listed the image later is never overwritten by this (possibly older) read.
    const readsFrom = new Date();
    try {
      let progress: Progress;
      if (job.state === "queued") {
        const preexistingImageIds = await operations.preexistingImageIds();
        job = await this.#save({ ...job, state: "submitting", attempts: job.attempts + 1, upstream: preexistingImageIds && { preexistingImageIds } });
        progress = await operations.submit();
      } else if (job.state === "submitting") {
        job = await this.#save({ ...job, attempts: job.attempts + 1 });
        progress = (await operations.reconcile()) ?? (await operations.submit());
      } else {
        job = { ...job, polls: job.polls + 1 };
        progress = await operations.check();
      }
      // Any answer (even a failed build) means upstream took the job.
      job = { ...job, submittedAt: job.submittedAt ?? new Date().toISOString() };
      if (progress.kind !== "running") return await this.#finish(job, progress, readsFrom);
      const state = job.state === "submitting" ? "submitted" : "polling";
      return await this.#schedule({ ...job, state, upstream: { ...job.upstream, ...progress.upstream }, lastError: undefined });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (!error.retryable) return this.#finish(job, { kind: "failed", error: upstreamJobError(error) });
      logger.warn("upstream call failed, will retry", { jobId, seq, error: error.toJSON() });
      return this.#schedule({ ...job, lastError: upstreamJobError(error) }, (error.retryAfterMs ?? 0) / 1000);
    }
  }

  /** Saves the job as waiting for the next step, then sends that step delayed. */
  async #schedule(job: JobRecord, minDelaySeconds = 0): Promise<StepOutcome> {
    const now = new Date();
    const seq = job.seq + 1;
    let delay = continuationDelaySeconds(seq, { maxSeconds: this.#tuning().jobPollMaxDelaySeconds, minSeconds: minDelaySeconds });
    // Come back by the deadline at the latest, so a job that runs out of time fails on time.
    if (job.deadlineAt) delay = Math.max(1, Math.min(delay, Math.ceil((Date.parse(job.deadlineAt) - now.getTime()) / 1000)));
    const saved = await this.#save({ ...job, seq, nextCheckAt: new Date(now.getTime() + delay * 1000).toISOString() });
    await this.#send(saved);
    return "scheduled";
  }

  /** Sends the continuation the job waits for, due at its `nextCheckAt`. */
  async #send(job: JobRecord): Promise<void> {
    const due = job.nextCheckAt ? Math.ceil((Date.parse(job.nextCheckAt) - Date.now()) / 1000) : 0;
    await enqueue(this.#context, { jobId: job.jobId, seq: job.seq }, Math.min(Math.max(due, 0), maxSqsDelaySeconds));
  }

  /** Refreshes the inventory first, so a job seen finished always has its image already listed. */
  async #finish(job: JobRecord, outcome: Outcome, observedAt = new Date()): Promise<StepOutcome> {
    if (outcome.refresh && job.request) await this.#refresh(job.jobId, job.request, outcome.refresh, observedAt);
    const finishedAt = new Date().toISOString();
    await this.#save({
      ...job,
      state: outcome.kind,
      finishedAt,
      nextCheckAt: undefined,
      ...(outcome.kind === "succeeded" ? { result: outcome.result } : { error: outcome.error }),
    });
    metrics.addMetric(outcome.kind === "succeeded" ? "JobsSucceeded" : "JobsFailed", MetricUnit.Count, 1);
    // Submission to outcome: what a user waits, polls and retries included.
    metrics.addMetric("JobDuration", MetricUnit.Seconds, (Date.parse(finishedAt) - Date.parse(job.createdAt)) / 1000);
    const details = { jobId: job.jobId, request: job.request, attempts: job.attempts, polls: job.polls };
    if (outcome.kind === "succeeded") logger.info("job succeeded", { ...details, result: outcome.result });
    else logger.info("job failed", { ...details, error: outcome.error });
    return outcome.kind;
  }

  async #refresh(jobId: string, request: JobRequest, refresh: InventoryRefresh, observedAt: Date): Promise<void> {
    const { table } = this.#context;
    const sourceId = refresh.kind === "upsert" ? (refresh.sourceId ?? request.source) : request.source;
    if (refresh.kind === "upsert") {
      await upsertImage(table, { ...refresh.document, sourceId, observedAt, cause: `job:${jobId}` });
    } else {
      const { tombstoneRetentionDays: retentionDays } = this.#tuning();
      await markImageRemoved(table, {
        provider: request.provider,
        sourceId,
        upstreamId: refresh.imageId,
        observedAt,
        retentionDays,
        cause: `job:${jobId}`,
      });
    }
  }

  #save(job: JobRecord): Promise<JobRecord> {
    return saveJob(this.#context.table, job);
  }

  #tuning() {
    return this.#context.config.tuning();
  }

  /** The provider operations for the job's source; undefined when the source is not configured. */
  #operations(job: JobRecord, request: JobRequest): JobOperations | undefined {
    if (request.provider === "triton") {
      const source = this.#tritonSource(request.source);
      const target = request.action === "copy" ? this.#tritonSource(request.params.targetSource) : undefined;
      const copyWaitMs = this.#tuning().tritonCopyWaitSeconds * 1000;
      return source && tritonOperations({ source, target, copyWaitMs }, request, job);
    }
    const client = cached(this.#coxedgeClients, request.source, () => {
      const source = this.#context.config.coxedgeSources().find((candidate) => candidate.id === request.source);
      return source && new CoxEdgeClient({ ...source, ...callOnce });
    });
    return client && coxedgeOperations(client, request, job);
  }

  #tritonSource(sourceId: string): TritonJobSource | undefined {
    const config = this.#context.config.tritonSources().find((candidate) => candidate.id === sourceId);
    const client = config && cached(this.#tritonClients, sourceId, () => tritonClientFor(config, callOnce));
    return config && client && { id: config.id, datacenter: config.datacenter, client };
  }
}

/**
 * Retries go through the queue, delayed rather than slept, and reconciled first when the call has an
 * effect: a client must not repeat a call itself (a repeated Cox Edge DELETE meets its own task).
 */
const callOnce = { maxAttempts: 1 };

function cached<T>(map: Map<string, T>, key: string, create: () => T | undefined): T | undefined {
  const existing = map.get(key);
  if (existing) return existing;
  const created = create();
  if (created) map.set(key, created);
  return created;
}

function timeoutError(job: JobRecord, timeoutSeconds: number): JobError {
  const last = job.lastError ? `; last error: ${job.lastError.message}` : "";
  return {
    code: "Timeout",
    message: `gave up after ${timeoutSeconds} s (IMAGESYNC_JOB_POLL_TIMEOUT_SECONDS) while ${job.state}${last}`,
  };
}
