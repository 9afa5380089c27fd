/**
 * Sync fan-out: the scheduled function of a provider only enqueues one message per configured source on the
 * provider's sync queue (core/resources `syncQueues`), and the provider's sync worker syncs one source per
 * message. Sources then run in parallel up to the workers' concurrency, a slow source delays no other, and an
 * invocation holds one source's images however many sources there are. `imagesync sync` and the local
 * runtime take the same path.
 */
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import * as z from "../core/zod";
import type { ConfigLoader } from "../core/config";
import { describeIssues } from "../core/issues";
import { logger } from "../core/observability";
import { providers, type Provider } from "../core/resources";
import { listRuns, type SyncRun } from "../store/runs";
import type { Table } from "../store/table";
import { closeSources, publishProviderMetrics, runOptions, syncSource, updateSourceDirectory } from "./engine";
import { configuredSourceIds, configuredSources, UnknownSourceError, type SnapshotSource } from "./sources";

const SourceSyncMessageSchema = z.strictObject({
  provider: z.enum(providers as [Provider, ...Provider[]]),
  sourceId: z.string().check(z.minLength(1)),
  trigger: z.enum(["schedule", "manual"]),
  /** When it was asked for (ISO): `imagesync sync` waits for runs that started after it. */
  requestedAt: z.iso.datetime(),
});
export type SourceSyncMessage = z.output<typeof SourceSyncMessageSchema>;

/** A message the worker can never act on: reported as a batch item failure, so it ends in the dead-letter queue. */
export class InvalidSyncMessageError extends Error {
  override readonly name = "InvalidSyncMessageError";
}

/** Enqueues one sync per source (10 per SendMessageBatch); throws when SQS refused any, naming them. */
export async function enqueueSourceSyncs(
  provider: Provider,
  request: { sourceId?: string; trigger: SyncRun["trigger"] },
  config: ConfigLoader,
  sqs: SQSClient,
): Promise<SourceSyncMessage[]> {
  const requestedAt = new Date().toISOString();
  const messages = configuredSourceIds(provider, config, request.sourceId).map((sourceId) => ({ provider, sourceId, trigger: request.trigger, requestedAt }));
  await updateSourceDirectory(provider, config);
  const queueUrl = config.syncQueueUrl(provider);
  for (let start = 0; start < messages.length; start += 10) {
    const batch = messages.slice(start, start + 10);
    const { Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) })) }),
    );
    if (Failed.length > 0) {
      const refused = Failed.map((failure) => `${batch[Number(failure.Id)]?.sourceId} (${failure.Code})`).join(", ");
      throw new Error(`the ${provider} sync queue refused ${Failed.length} of ${batch.length} messages: ${refused}`);
    }
  }
  logger.info("source syncs queued", { provider, sources: messages.map((message) => message.sourceId), trigger: request.trigger });
  return messages;
}

/** Parses a sync queue message for this provider's worker; the error names each offending field. */
export function parseSourceSyncMessage(provider: Provider, body: string): SourceSyncMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidSyncMessageError("sync message: not JSON");
  }
  const result = SourceSyncMessageSchema.safeParse(parsed);
  if (!result.success) throw new InvalidSyncMessageError(`sync message: ${describeIssues(result.error, { whole: "message" })}`);
  if (result.data.provider !== provider) throw new InvalidSyncMessageError(`sync message: provider: "${result.data.provider}" sent to the ${provider} worker`);
  return result.data;
}

/** One message: one run of its source (never throws for the run's own failures: they are recorded). */
export async function syncQueuedSource(message: SourceSyncMessage, deadline: number, config: ConfigLoader): Promise<SyncRun | undefined> {
  let source: SnapshotSource;
  try {
    [source] = configuredSources(message.provider, config, message.sourceId) as [SnapshotSource];
  } catch (error) {
    // Removed from the configuration since it was queued: nothing to do.
    if (!(error instanceof UnknownSourceError)) throw error;
    logger.warn("queued sync for a source no longer configured", { ...message, reason: error.message });
    return undefined;
  }
  try {
    const run = await syncSource(source, runOptions(config, { deadline, trigger: message.trigger }));
    publishProviderMetrics([run]);
    return run;
  } finally {
    closeSources([source]);
  }
}

/**
 * Waits until each queued source has a run that started after its request (any status, skipped-locked
 * included: that one is recorded only in the run history), and returns them in the order queued. Throws
 * naming the sources still waiting at `deadline`.
 */
export async function waitForQueuedRuns(
  table: Table,
  messages: readonly SourceSyncMessage[],
  options: { deadline: number; pollMs?: number; onRun?: (run: SyncRun) => void },
): Promise<SyncRun[]> {
  const found = new Map<string, SyncRun>();
  while (found.size < messages.length) {
    for (const message of messages.filter((queued) => !found.has(queued.sourceId))) {
      const { runs } = await listRuns(table, message.sourceId, { limit: 5 });
      const run = runs.find((candidate) => candidate.trigger === message.trigger && candidate.startedAt >= message.requestedAt && candidate.finishedAt);
      if (run) {
        found.set(message.sourceId, run);
        options.onRun?.(run);
      }
    }
    if (found.size === messages.length) break;
    if (Date.now() > options.deadline) {
      const waiting = messages.filter((queued) => !found.has(queued.sourceId)).map((queued) => queued.sourceId);
      throw new Error(`no run was recorded in time for ${waiting.join(", ")} (are the sync workers running?)`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
  return messages.map((message) => found.get(message.sourceId) as SyncRun);
}
