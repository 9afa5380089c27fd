/**
 * Catalog sync: for each source, take its lease, fetch a full snapshot while reading what is stored,
 * write only the differences, record the run, give the lease back. Sources run concurrently and each
 * handles its own failures, so a slow or broken source never holds up or breaks another.
 */
import { randomUUID } from "node:crypto";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import * as z from "../core/zod";
import { ConfigLoader } from "../core/config";
import { describeIssues } from "../core/issues";
import { logger, metrics, publishDimensioned } from "../core/observability";
import type { Provider } from "../core/resources";
import { writeSourceDirectory } from "../store/directory";
import { writeImageChanges, type ImageChange } from "../store/inventory";
import type { NormalisedImage } from "../store/normalise";
import { acquireLease, emptyCounts, recordRun, type LatestRun, type RunCounts, type SyncRun } from "../store/runs";
import { configuredTable, type Table } from "../store/table";
import { inventoryCounts } from "./inventory-counts";
import { guardRemovals, planChanges, validateSnapshot, type RemovalGuard } from "./plan";
import { configuredSources, describeSources, toSnapshot, type Listing, type SnapshotSource } from "./sources";
import { afterWrites, beforeWrites, readStoredState, type StoredRead, type StoredState } from "./stored-state";
import type { KnownListing } from "../store/state-digest";

/** What a scheduled invocation carries (`syncEvent` in core/resources), optionally narrowed to one source. */
const syncEventSchema = (provider: Provider) =>
  z.strictObject({
    provider: z.literal(provider),
    sourceId: z.optional(z.string().check(z.minLength(1))),
  });
export type SyncEvent = z.output<ReturnType<typeof syncEventSchema>>;

export class InvalidSyncEventError extends Error {
  override readonly name = "InvalidSyncEventError";
}

/** Validates an invocation's payload for the provider's function; the error names each offending field. */
export function parseSyncEvent(provider: Provider, event: unknown): SyncEvent {
  const parsed = syncEventSchema(provider).safeParse(event);
  if (parsed.success) return parsed.data;
  throw new InvalidSyncEventError(`invalid ${provider} sync event: ${describeIssues(parsed.error, { whole: "event" })}`);
}

export type SyncProgress =
  | { phase: "queued"; provider: Provider; sourceId: string }
  | { phase: "started"; provider: Provider; sourceId: string }
  | { phase: "listed"; provider: Provider; sourceId: string; seen: number; changes: number; upstreamMs: number }
  | { phase: "finished"; run: SyncRun };

export interface SyncOptions {
  table: Table;
  /** Tombstones expire this many days after removal. */
  retentionDays: number;
  /** Run records (the history, not the source's latest) expire this many days after they finish. */
  runRetentionDays: number;
  /** A run's lease lapses after this long, so a crashed run blocks its source no longer. */
  leaseSeconds: number;
  /** Mass removals above this need confirming by the next listing. */
  removalGuard: RemovalGuard;
  /** Epoch ms by which every run must be recorded (e.g. the Lambda's deadline). */
  deadline: number;
  trigger: SyncRun["trigger"];
  /** Image writes in flight per source. */
  writeConcurrency?: number;
  onProgress?: (event: SyncProgress) => void;
}

/** Kept back from the deadline and the lease for recording the run and releasing the lease. */
const finishReserveMs = 5_000;
const defaultWriteConcurrency = 32;
/** Removals up to this many always apply: small sources legitimately lose a few images at once. */
const removalGuardMinCount = 5;

export class SyncDeadlineError extends Error {
  override readonly name = "SyncDeadlineError";
}

/** Syncs the provider's configured sources (or the one named) in this process, with settings from configuration. */
export async function syncProvider(
  provider: Provider,
  request: { sourceId?: string; deadline: number; trigger: SyncRun["trigger"]; onProgress?: SyncOptions["onProgress"] },
  config: ConfigLoader = new ConfigLoader(),
): Promise<SyncRun[]> {
  const sources = configuredSources(provider, config, request.sourceId);
  await updateSourceDirectory(provider, config);
  try {
    const runs = await syncSources(sources, runOptions(config, request));
    publishProviderMetrics(runs);
    return runs;
  } finally {
    closeSources(sources);
  }
}

/** The API lists sources from this directory, so it needs no credentials; a failed write only delays that. */
export async function updateSourceDirectory(provider: Provider, config: ConfigLoader): Promise<void> {
  await writeSourceDirectory(configuredTable(config), provider, describeSources(provider, config)).catch((error: unknown) =>
    logger.warn("could not write the source directory", { provider, error }),
  );
}

/** A run's settings from configuration (table, retention, lease, removal guard) plus the caller's. */
export function runOptions(config: ConfigLoader, request: Pick<SyncOptions, "deadline" | "trigger" | "onProgress">): SyncOptions {
  const tuning = config.tuning();
  return {
    ...request,
    table: configuredTable(config),
    retentionDays: tuning.tombstoneRetentionDays,
    runRetentionDays: tuning.runRetentionDays,
    leaseSeconds: tuning.syncLeaseSeconds,
    removalGuard: { maxShare: tuning.syncMaxRemovalShare, minCount: removalGuardMinCount },
  };
}

/** Not awaited: closing waits for in-flight requests, and a listing abandoned at the deadline may still be one. */
export function closeSources(sources: readonly SnapshotSource[]): void {
  for (const source of sources) void source.close().catch(() => undefined);
}

export function syncSources(sources: readonly SnapshotSource[], options: SyncOptions): Promise<SyncRun[]> {
  return Promise.all(sources.map((source) => syncSource(source, options)));
}

/** One run for one source. Never throws: every outcome, failures included, is a recorded run. */
export async function syncSource(source: SnapshotSource, options: SyncOptions): Promise<SyncRun> {
  const { table } = options;
  const ref = { provider: source.provider, sourceId: source.sourceId };
  const runId = randomUUID();
  const log = logger.createChild({ persistentKeys: { ...ref, runId } });
  const startedAt = new Date();
  // Finish before the lease lapses: after that another run may take the source over.
  const deadline = Math.min(options.deadline, startedAt.getTime() + options.leaseSeconds * 1000) - finishReserveMs;
  const run: SyncRun = {
    ...ref,
    runId,
    trigger: options.trigger,
    status: "failed",
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    durationMs: 0,
    counts: emptyCounts(),
    writes: 0,
    superseded: 0,
  };
  options.onProgress?.({ phase: "started", ...ref });

  // Reading needs no lease, so the listing and the stored state are read while the lease is being taken (a
  // run that then finds the lease held drops them). A read that races the previous holder's last writes is
  // harmless: every write is conditional on observation time (see store/inventory).
  const listing = startListing(source, run, deadline);
  const stored = readStoredState(table, source);
  for (const read of [listing, stored]) read.catch(() => undefined); // awaited only once the lease is ours

  let holdsLease = false;
  let failure: unknown;
  try {
    const taken = await acquireLease(table, { ...ref, runId, seconds: options.leaseSeconds });
    if (taken.acquired) {
      holdsLease = true;
      await syncWithLease(source, run, { listing, stored }, taken, options, deadline, log);
    } else {
      run.status = "skipped-locked";
      run.error = taken.holder
        ? `lease held by run ${taken.holder.leaseRunId} (since ${taken.holder.leaseAcquiredAt}, until ${new Date(taken.holder.leaseUntil).toISOString()})`
        : "lease held by another run";
    }
  } catch (error) {
    failure = error;
    run.status = "failed";
    run.error = describe(error);
  }

  const finishedAt = new Date();
  run.finishedAt = finishedAt.toISOString();
  run.durationMs = finishedAt.getTime() - startedAt.getTime();
  const recorded = await recordRun(table, run, options.runRetentionDays).then(
    (latest) => ({ latest }),
    (error: unknown) => log.error("could not record the sync run", { error }),
  );
  if (holdsLease && recorded && !recorded.latest) log.warn("the lease had lapsed and another run took it over: this run is not the source's latest");
  // The one summary line per run (an exception's details as `cause`: upstream errors carry status, code, request id).
  log[run.status === "failed" ? "error" : "info"]("sync run finished", { ...summary(run), cause: failure });
  publishRunMetrics(run, recorded?.latest);
  options.onProgress?.({ phase: "finished", run });
  return run;
}

/** Fills in `run` as it goes, so a failure still records how far it got. Throws when the snapshot is unusable. */
async function syncWithLease(
  source: SnapshotSource,
  run: SyncRun,
  reads: { listing: Promise<Listing>; stored: Promise<StoredRead> },
  /** lastOkSnapshotAt: the lastSeenAt of images tombstoned now; heldRemovals: what the last ok run held back. */
  previous: { lastOkSnapshotAt: string | undefined; heldRemovals: SyncRun["heldRemovals"] },
  options: SyncOptions,
  deadline: number,
  log: typeof logger,
): Promise<void> {
  const [listing, storedRead] = await Promise.all([reads.listing, reads.stored]);
  const snapshotAt = run.snapshotAt as string; // set when the listing was requested (startListing)
  const progress = (changes: number) =>
    options.onProgress?.({ phase: "listed", provider: source.provider, sourceId: source.sourceId, seen: run.counts.seen, changes, upstreamMs: run.upstreamMs ?? 0 });
  const { digest } = storedRead;
  if (digest?.listing?.fingerprint === listing.fingerprint) {
    applyKnownListing(run, digest.listing, digest.tombstones, snapshotAt, log);
    progress(0);
    return;
  }
  const stored = await storedRead.state();
  const { images, unstorable } = toSnapshot(listing.documents);
  validateSnapshot(images);
  const listedOnly = unstorable.map((image) => image.upstreamId);
  const plan = guardRemovals(planChanges(images, stored.images, previous.lastOkSnapshotAt, listedOnly), stored.images, previous.heldRemovals, options.removalGuard);
  run.compared = stored.digest ? "digest" : "items";
  run.counts = plan.counts;
  run.inventory = inventoryCounts(images, stored.images, plan.counts, snapshotAt);
  if (unstorable.length) {
    run.unstorable = { count: unstorable.length, first: `${unstorable[0]?.upstreamId}: ${unstorable[0]?.reason}` };
    log.warn("listed images DynamoDB cannot hold were left as they are", { count: unstorable.length, first: unstorable.slice(0, 5) });
  }
  if (plan.held) {
    run.heldRemovals = plan.held;
    log.warn("removals held until the next listing confirms them", { held: plan.held.count, live: stored.images.size });
  }
  progress(plan.changes.length);
  // Applied again, a listing whose removals were held would apply them: it is not one that changes nothing.
  const known = plan.held ? undefined : { fingerprint: listing.fingerprint, seen: plan.counts.seen, states: run.inventory.states, unstorable: run.unstorable };
  await applyPlan(source, run, stored, { listing: images, changes: plan.changes, known }, options, deadline, log);
}

/** The listing is byte for byte one the trusted digest is known to match: nothing to compare or write, figures as recorded. */
function applyKnownListing(run: SyncRun, listing: KnownListing, tombstones: number, snapshotAt: string, log: typeof logger): void {
  const { seen, states, unstorable } = listing;
  run.compared = "listing";
  run.counts = { ...emptyCounts(), seen, unchanged: Object.values(states).reduce((sum, count) => sum + count, 0) };
  run.inventory = { at: snapshotAt, states, removed: tombstones };
  if (unstorable) {
    run.unstorable = unstorable;
    log.warn("listed images DynamoDB cannot hold were left as they are", { count: unstorable.count, first: unstorable.first });
  }
  run.status = "ok";
}

/** Writes the changes (and, when they all landed, the new state digest); records what went wrong on `run`. */
async function applyPlan(
  source: SnapshotSource,
  run: SyncRun,
  stored: StoredState,
  { listing, changes, known }: { listing: readonly NormalisedImage[]; changes: readonly ImageChange[]; known: KnownListing | undefined },
  options: SyncOptions,
  deadline: number,
  log: typeof logger,
): Promise<void> {
  const observedAt = run.snapshotAt as string;
  await beforeWrites(options.table, source, stored, run.runId, changes);
  const report = await writeImageChanges(options.table, source, changes, {
    observedAt,
    retentionDays: options.retentionDays,
    concurrency: options.writeConcurrency ?? defaultWriteConcurrency,
    deadline,
    cause: `sync:${run.runId}`,
  });
  run.writes = report.requests;
  run.superseded = report.superseded;
  const problems: string[] = [];
  if (report.failures.length > 0) {
    const [first] = report.failures;
    problems.push(`${report.failures.length} image writes failed (first: ${first?.upstreamId}: ${describe(first?.error)})`);
    log.error("image writes failed", { failed: report.failures.length, firstError: first?.error });
  }
  if (report.skipped > 0) problems.push(`deadline reached with ${report.skipped} image writes not done`);
  run.status = problems.length ? "failed" : "ok";
  if (problems.length) run.error = problems.join("; ");
  // The digest only saves reads: failing to write it costs the next run a full read, nothing more.
  await afterWrites(options.table, { source, runId: run.runId, observedAt, tombstoneRetentionDays: options.retentionDays }, stored, { listing, changes, known }, report).catch(
    (error: unknown) => log.warn("could not write the state digest; the next run reads every image item", { error }),
  );
}

/** Requests the upstream listing now; `snapshotAt` (the observation time of what it returns) and `upstreamMs` go on `run`. */
function startListing(source: SnapshotSource, run: SyncRun, deadline: number): Promise<Listing> {
  run.snapshotAt = new Date().toISOString();
  const upstreamStarted = performance.now();
  return withDeadline(source.listAll(), deadline, "the upstream listing").finally(() => {
    run.upstreamMs = Math.round(performance.now() - upstreamStarted);
  });
}

/** Gives up waiting at the deadline (the request itself runs on until its own timeout). */
function withDeadline<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SyncDeadlineError(`${what} did not finish before the run's deadline`)), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function summary(run: SyncRun): Record<string, unknown> {
  const { provider: _provider, sourceId: _sourceId, runId: _runId, ...rest } = run;
  return rest;
}

const changed = (counts: RunCounts) => counts.added + counts.changed + counts.removed + counts.revived;

/**
 * Per source (ids are unique across providers): its outcome, duration and changes for the dashboard. Per
 * provider, one data point per source, so the Maximum statistic is the least healthy source: the sync
 * alarms (infra/monitoring.ts) need no list of sources.
 */
function publishRunMetrics(run: SyncRun, latest: LatestRun | undefined): void {
  publishDimensioned({ name: "source", value: run.sourceId }, [
    ["SourceSyncFailed", MetricUnit.Count, run.status === "failed" ? 1 : 0],
    ["SyncDuration", MetricUnit.Milliseconds, run.durationMs],
    ["ImagesChanged", MetricUnit.Count, changed(run.counts)],
  ]);
  if (!latest) return;
  const healthySince = latest.lastOkAt ?? latest.firstRunAt ?? run.startedAt;
  publishDimensioned({ name: "provider", value: run.provider }, [
    ["ConsecutiveSyncFailures", MetricUnit.Count, latest.consecutiveFailures ?? 0],
    ["SecondsSinceLastSuccess", MetricUnit.Seconds, Math.max(0, (Date.parse(run.finishedAt) - Date.parse(healthySince)) / 1000)],
  ]);
}

/** Per invocation, flushed by the handler's logMetrics middleware. */
export function publishProviderMetrics(runs: readonly SyncRun[]): void {
  const count = (status: SyncRun["status"]) => runs.filter((run) => run.status === status).length;
  metrics.addMetric("SourcesOk", MetricUnit.Count, count("ok"));
  metrics.addMetric("SourcesFailed", MetricUnit.Count, count("failed"));
  metrics.addMetric("SourcesSkippedLocked", MetricUnit.Count, count("skipped-locked"));
  metrics.addMetric("ImagesChanged", MetricUnit.Count, runs.reduce((sum, run) => sum + changed(run.counts), 0));
  metrics.addMetric("ImageWrites", MetricUnit.Count, runs.reduce((sum, run) => sum + run.writes, 0));
  for (const run of runs) if (run.upstreamMs !== undefined) metrics.addMetric("UpstreamDuration", MetricUnit.Milliseconds, run.upstreamMs);
}
