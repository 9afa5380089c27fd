/**
 * Job records (docs/architecture.md: pk `JOB#<jobId>`, sk `JOB`; gsi1 lists all jobs, gsi2 jobs by state,
 * both newest first). Every write after creation is a whole-item put conditioned on the `version` the
 * writer read, so two workers can never both move a job on from the same state.
 */
import { itemKeys, listingIndex, secondaryIndex } from "./keys";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "../core/zod";
import type { Provider } from "../core/resources";
import { expiresAfterDays, type Table } from "./table";

export const jobStates = ["queued", "submitting", "submitted", "polling", "succeeded", "failed"] as const;
export type JobState = (typeof jobStates)[number];

export function isTerminal(state: JobState): boolean {
  return state === "succeeded" || state === "failed";
}

/** Finished jobs stay listable this long, then DynamoDB's TTL removes them. */
export const finishedJobRetentionDays = 30;

export interface JobError {
  /** `InvalidMessage`, `UnknownSource`, `InvalidTarget`, `ConfigError`, `Timeout`, `TaskFailed`, `TaskExpired`, `ImageMissing`, `ImageFailed`, or the upstream error class. */
  code: string;
  message: string;
  /** Upstream HTTP status, error code and message, verbatim, when upstream refused. */
  status?: number;
  upstreamCode?: string;
  upstreamMessage?: string;
  requestId?: string;
}

export interface JobResult {
  /** The image the job created, cloned, updated, exported or deleted. */
  imageId: string;
  /** ExportImage's answer. */
  export?: { manta_url: string; image_path: string; manifest_path: string };
}

/** What a job does, as far as the store needs to know: the jobs layer (`packages/jobs/schema.ts`) types it exactly. */
export interface StoredJobRequest {
  provider: Provider;
  source: string;
  action: string;
}

/** A job record; `Request` is the exact request type of the layer that reads and writes it. */
export interface JobRecord<Request extends StoredJobRequest = StoredJobRequest> {
  jobId: string;
  /** What to do; absent only on the record of a rejected (invalid) message. */
  request?: Request;
  state: JobState;
  /** The continuation step the job waits for; a message for another step is a duplicate or stale. */
  seq: number;
  /** Bumped by every write; writes are conditioned on it. */
  version: number;
  /** Upstream submissions tried (more than one only after retryable failures). */
  attempts: number;
  /** Upstream status checks made. */
  polls: number;
  createdAt: string;
  updatedAt: string;
  submittedAt?: string;
  finishedAt?: string;
  /** Retries and polls give up after this (set at the first submission). */
  deadlineAt?: string;
  /** When the pending continuation is due. */
  nextCheckAt?: string;
  upstream?: {
    /** Triton image being created, or Cox Edge image a task works on. */
    imageId?: string;
    /** Cox Edge task. */
    taskId?: string;
    /** Same-named images that existed before the first submission: never mistaken for this job's result. */
    preexistingImageIds?: string[];
  };
  result?: JobResult;
  /** Why the job failed. */
  error?: JobError;
  /** The latest retryable failure, while the job is being retried. */
  lastError?: JobError;
}

export const jobKey = itemKeys.job;

function toItem(job: JobRecord<StoredJobRequest>): Record<string, unknown> {
  const order = `${job.createdAt}#${job.jobId}`;
  const expiresAt = job.finishedAt && isTerminal(job.state)
    ? expiresAfterDays(job.finishedAt, finishedJobRetentionDays)
    : undefined;
  return {
    ...jobKey(job.jobId),
    kind: "job",
    [listingIndex.pk]: itemKeys.allJobs,
    [listingIndex.sk]: order,
    [secondaryIndex.pk]: itemKeys.jobsInState(job.state),
    [secondaryIndex.sk]: order,
    ...job,
    expiresAt,
  };
}

/** Records are written only through this module, so an item read back has the writer's request type. */
function fromItem<R extends StoredJobRequest>(item: Record<string, unknown>): JobRecord<R> {
  const { pk: _pk, sk: _sk, kind: _kind, expiresAt: _e, ...job } = item;
  for (const attribute of [listingIndex.pk, listingIndex.sk, secondaryIndex.pk, secondaryIndex.sk]) delete job[attribute];
  return job as unknown as JobRecord<R>;
}

/** Creates the job unless one with its id exists; returns the job now stored either way. */
export async function createJob<R extends StoredJobRequest>(table: Table, job: JobRecord<R>): Promise<{ created: boolean; job: JobRecord<R> }> {
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.name,
        Item: toItem(job),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return { created: true, job };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const existing = await getJob<R>(table, job.jobId);
    if (!existing) throw error;
    return { created: false, job: existing };
  }
}

export async function getJob<R extends StoredJobRequest>(table: Table, jobId: string): Promise<JobRecord<R> | undefined> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: jobKey(jobId), ConsistentRead: true }));
  return Item ? fromItem<R>(Item) : undefined;
}

/** Another writer changed the job since it was read. */
export class StaleJobError extends Error {
  override readonly name = "StaleJobError";
}

/** Writes `job` if the stored version is still `job.version`; returns the stored record (version + 1). */
export async function saveJob<R extends StoredJobRequest>(table: Table, job: JobRecord<R>, now = new Date()): Promise<JobRecord<R>> {
  const saved: JobRecord<R> = { ...job, version: job.version + 1, updatedAt: now.toISOString() };
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.name,
        Item: toItem(saved),
        ConditionExpression: "#version = :version",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: { ":version": job.version },
      }),
    );
    return saved;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      throw new StaleJobError(`job ${job.jobId} changed since version ${job.version} was read`);
    }
    throw error;
  }
}

/** Where a listing page ends: the index sort key of its last job. Opaque to clients (the API signs it). */
export const JobListPositionSchema = z.strictObject({ after: z.string().check(z.regex(/^[^#]+#[^#]+$/)) });
export type JobListPosition = z.output<typeof JobListPositionSchema>;

export interface ListJobsQuery {
  state?: JobState;
  provider?: Provider;
  /** 1-100. */
  limit: number;
  cursor?: JobListPosition;
}

/** Jobs newest first, optionally of one state (gsi2) and/or provider (filtered). */
export async function listJobs<R extends StoredJobRequest>(table: Table, query: ListJobsQuery): Promise<{ jobs: JobRecord<R>[]; cursor?: JobListPosition }> {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 100) {
    throw new RangeError(`limit must be an integer from 1 to 100, got ${query.limit}`);
  }
  const [index, partition] = query.state ? [secondaryIndex, itemKeys.jobsInState(query.state)] : [listingIndex, itemKeys.allJobs];
  let startKey: Record<string, unknown> | undefined = query.cursor && {
    ...jobKey(query.cursor.after.slice(query.cursor.after.indexOf("#") + 1)),
    [index.pk]: partition,
    [index.sk]: query.cursor.after,
  };
  const jobs: JobRecord<R>[] = [];
  // A provider filter applies after DynamoDB's Limit, so keep reading until the page is full.
  do {
    const page = await table.client.send(
      new QueryCommand({
        TableName: table.name,
        IndexName: index.name,
        KeyConditionExpression: "#pk = :pk",
        ScanIndexForward: false,
        Limit: query.limit - jobs.length,
        ExclusiveStartKey: startKey,
        ...(query.provider
          ? {
              FilterExpression: "#request.#provider = :provider",
              ExpressionAttributeNames: { "#pk": index.pk, "#request": "request", "#provider": "provider" },
              ExpressionAttributeValues: { ":pk": partition, ":provider": query.provider },
            }
          : { ExpressionAttributeNames: { "#pk": index.pk }, ExpressionAttributeValues: { ":pk": partition } }),
      }),
    );
    jobs.push(...(page.Items ?? []).map((item) => fromItem<R>(item)));
    startKey = page.LastEvaluatedKey;
  } while (startKey && jobs.length < query.limit);
  const last = startKey?.[index.sk];
  return { jobs, ...(typeof last === "string" ? { cursor: { after: last } } : {}) };
}
