/** Accepting jobs: from the HTTP API (`submitJob`) and from messages sent straight to the queue (the worker). */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { describeIssues } from "../core/issues";
import { createJob } from "../store/jobs";
import type { Table } from "../store/table";
import { enqueue, jobsContext, type JobsContext } from "./context";
import { jobRequest, JobMessageSchema, type JobRecord, type JobRequest } from "./schema";

/** The job message is invalid; `message` names every offending field. */
export class JobValidationError extends Error {
  override readonly name = "JobValidationError";
}

/** The job id is taken by a different job (ids are idempotency keys, not reusable names). */
export class JobConflictError extends Error {
  override readonly name = "JobConflictError";
}

export function newJobRecord(jobId: string, request: JobRequest | undefined, now: Date): JobRecord {
  const at = now.toISOString();
  return { jobId, request, state: "queued", seq: 0, version: 0, attempts: 0, polls: 0, createdAt: at, updatedAt: at };
}

/** Creates the job, or returns the existing one when the same request was accepted under this id before. */
export async function acceptJob(table: Table, jobId: string, request: JobRequest, now = new Date()): Promise<{ created: boolean; job: JobRecord }> {
  const outcome = await createJob(table, newJobRecord(jobId, request, now));
  if (!outcome.created && !isDeepStrictEqual(outcome.job.request, request)) {
    throw new JobConflictError(`job id ${jobId} is already used by a different job`);
  }
  return outcome;
}

/**
 * Validates a job message, records the job (idempotently on `jobId`, generated when absent) and queues it.
 * Submitting the same job again returns the stored job; it is queued again only while still queued, and
 * the worker runs each step of a job once however often its message arrives.
 */
export async function submitJob(input: unknown, context: JobsContext = jobsContext()): Promise<{ created: boolean; job: JobRecord }> {
  const parsed = JobMessageSchema.safeParse(input);
  if (!parsed.success) throw new JobValidationError(describeIssues(parsed.error));
  const jobId = parsed.data.jobId ?? randomUUID();
  const outcome = await acceptJob(context.table, jobId, jobRequest(parsed.data));
  if (outcome.job.state === "queued") await enqueue(context, { ...parsed.data, jobId });
  return outcome;
}
