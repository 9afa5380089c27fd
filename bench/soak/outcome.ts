/**
 * The end-of-soak checks: invariant 2 (every job finished with its reason, or dead-lettered), 3 (no
 * upstream effect twice for one job) and 4 (one clean sync mirrors the catalogs exactly).
 */
import { isDeepStrictEqual } from "node:util";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import pLimit from "p-limit";
import { sqsClient } from "../../packages/core/aws";
import type { JobRecord } from "../../packages/jobs/schema";
import { getJob } from "../../packages/jobs";
import type { Table } from "../../packages/store/table";
import type { CatalogSample } from "./catalogs";
import type { SoakJob } from "./jobs";
import type { InvariantResult } from "./report";
import type { SourceRound } from "./syncs";

/** Update and export are idempotent upstream and may repeat when a lost answer is reconciled (docs/jobs.md). */
const repeatable = new Set(["update", "export"]);

export async function readJobs(table: Table, jobs: readonly SoakJob[]): Promise<Map<string, JobRecord | undefined>> {
  const limit = pLimit(16);
  const records = await Promise.all(jobs.map((job) => limit(async () => [job.jobId, await getJob(table, job.jobId)] as const)));
  return new Map(records);
}

/** Job ids of the messages in the dead-letter queue (received and held invisible, so each is counted once). */
export class DeadLetters {
  readonly jobIds = new Set<string>();
  constructor(private readonly queueUrl: string) {}

  async collect(): Promise<Set<string>> {
    for (;;) {
      const { Messages = [] } = await sqsClient().send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 3600 }),
      );
      if (Messages.length === 0) return this.jobIds;
      for (const message of Messages) this.jobIds.add(jobIdOf(message.Body ?? ""));
    }
  }
}

function jobIdOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { jobId?: unknown };
    return typeof parsed.jobId === "string" ? parsed.jobId : `(no job id: ${body.slice(0, 60)})`;
  } catch {
    return `(not JSON: ${body.slice(0, 60)})`;
  }
}

/** Invariant 2: succeeded, failed with its reason, or (not finished) with a message in the dead-letter queue. */
export function checkJobsFinished(jobs: readonly SoakJob[], records: Map<string, JobRecord | undefined>, deadLetters: Set<string>): InvariantResult {
  const violations: string[] = [];
  const count = { succeeded: 0, failed: 0, deadLettered: 0 };
  for (const { jobId } of jobs) {
    const job = records.get(jobId);
    if (!job) violations.push(`${jobId}: no job record`);
    else if (job.state === "succeeded") count.succeeded++;
    else if (job.state === "failed" && hasReason(job)) count.failed++;
    else if (job.state === "failed") violations.push(`${jobId}: failed without its reason: ${JSON.stringify(job.error)}`);
    else if (deadLetters.has(jobId)) count.deadLettered++;
    else violations.push(`${jobId}: still ${job.state}, and no message of it in the dead-letter queue`);
  }
  return {
    name: "2. every job finished (succeeded, or failed with the reason recorded) or is in the DLQ with its record",
    passed: violations.length === 0,
    figures: `${jobs.length} jobs: ${count.succeeded} succeeded, ${count.failed} failed with a reason, ${count.deadLettered} in the DLQ, ${violations.length} lost`,
    violations,
  };
}

/** A code and message; an upstream refusal also carries the upstream's status or code. */
function hasReason(job: JobRecord): boolean {
  const error = job.error;
  if (!error?.code || !error.message) return false;
  return !error.code.startsWith("Upstream") || error.status !== undefined || error.upstreamCode !== undefined;
}

/** Invariant 3: each job's effect applied at most once upstream (update/export repeats reported, allowed), and a succeeded job's at least once. */
export function checkEffectsOnce(jobs: readonly SoakJob[], records: Map<string, JobRecord | undefined>): InvariantResult {
  const violations: string[] = [];
  let effects = 0;
  let repeats = 0;
  for (const { jobId, effect } of jobs) {
    const times = effect.effects.count(effect.kind, effect.key);
    effects += times;
    if (times > 1 && repeatable.has(effect.kind)) repeats += times - 1;
    else if (times > 1) violations.push(`${jobId}: ${effect.kind} ${effect.key} applied ${times} times upstream`);
    if (times === 0 && records.get(jobId)?.state === "succeeded") violations.push(`${jobId}: succeeded, but upstream shows no ${effect.kind} of ${effect.key}`);
  }
  const ledgers = new Set(jobs.map((job) => job.effect.effects));
  const unasked = [...ledgers].reduce((sum, ledger) => sum + ledger.entries.length, 0) - effects;
  if (unasked > 0) violations.push(`${unasked} upstream effects no job asked for`);
  return {
    name: "3. no upstream effect happened twice for one job id",
    passed: violations.length === 0,
    figures:
      `${effects} effects for ${jobs.length} jobs, ${violations.length} doubled, missing or unasked; ` +
      `update/export repeated ${repeats} times (allowed: idempotent by design, docs/jobs.md)`,
    violations,
  };
}

/** Invariant 4: after the clean sync, each source's live items are exactly its catalog (ids, hashes and raw documents). */
export function checkMirrored(rounds: readonly SourceRound[]): InvariantResult {
  const violations: string[] = [];
  let live = 0;
  let upstream = 0;
  for (const { source, run, before, after, stored } of rounds) {
    upstream += after.images.size;
    if (run.status !== "ok") violations.push(`${source.id}: the clean sync ${run.status}: ${run.error}`);
    if (!sameCatalog(before.images, after.images)) violations.push(`${source.id}: the catalog changed during the clean sync`);
    const liveItems = [...stored.values()].filter((image) => !image.removedAt);
    live += liveItems.length;
    for (const image of liveItems) if (!after.images.has(image.upstreamId)) violations.push(`${source.id} ${image.upstreamId}: live, but not upstream`);
    for (const [id, truth] of after.images) {
      const image = stored.get(id);
      if (!image || image.removedAt) violations.push(`${source.id} ${id}: upstream, but ${image ? "tombstoned" : "missing"}`);
      else if (image.contentHash !== truth.contentHash || !isDeepStrictEqual(image.raw, truth.raw)) violations.push(`${source.id} ${id}: stored document differs from upstream`);
    }
  }
  return {
    name: "4. after faults stop, one clean sync makes the inventory equal to the catalogs",
    passed: violations.length === 0,
    figures: `${rounds.length} sources: ${live} live items, ${upstream} upstream images, ${violations.length} differences (ids, hashes, raw documents)`,
    violations,
  };
}

function sameCatalog(a: CatalogSample["images"], b: CatalogSample["images"]): boolean {
  return a.size === b.size && [...a].every(([id, image]) => b.get(id)?.contentHash === image.contentHash);
}
