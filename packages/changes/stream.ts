/**
 * The table stream's consumer: every image write that changed something becomes a change record (stored
 * once per stream event, so redeliveries are harmless) and an event; every job that just finished becomes
 * an event. Other items (runs, leases, jobs in progress, change records themselves) are not changes.
 * Events are published at least once: a retried record may publish its event again (consumers dedupe on
 * `changeId` / `jobId` + detail-type).
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import * as z from "../core/zod";
import type { ConfigLoader } from "../core/config";
import { describeIssues } from "../core/issues";
import { providers } from "../core/resources";
import { logger, metrics } from "../core/observability";
import { putChangeRecord } from "../store/changes";
import { itemKeys } from "../store/keys";
import type { ImageItem } from "../store/inventory";
import type { JobRecord, StoredJobRequest } from "../store/jobs";
import { configuredTable, type Table } from "../store/table";
import { changeEvent, eventBridgePublisher, fileSinkPublisher, jobEvent, type BusEvent, type EventPublisher } from "./events";
import { imageChange } from "./record";

export interface ChangesContext {
  table: Table;
  retentionDays: number;
  publisher: EventPublisher;
}

export function changesContext(config: ConfigLoader): ChangesContext {
  const target = config.eventTarget();
  return {
    table: configuredTable(config),
    retentionDays: config.tuning().changeRetentionDays,
    publisher: target.kind === "file" ? fileSinkPublisher(target.path) : eventBridgePublisher(target.name),
  };
}

type StreamImage = NonNullable<NonNullable<DynamoDBRecord["dynamodb"]>["NewImage"]>;

/** What a change record is made of; anything else in an image item is carried along unread. */
const ImageItemSchema = z.looseObject({
  provider: z.enum(providers),
  sourceId: z.nonEmptyString(),
  upstreamId: z.nonEmptyString(),
  name: z.string(),
  version: z.string(),
  contentHash: z.nonEmptyString(),
  lastChangedAt: z.nonEmptyString(),
  raw: z.record(z.string(), z.unknown()),
  removedAt: z.optional(z.string()),
});
/** Items that are not changes: run records, LATEST items, the source directory, state digests, change records, job steps. */
const knownKinds = new Set(["run", "source", "directory", "digest", "change", "job", "idempotency"]);
const JobItemSchema = z.looseObject({ jobId: z.nonEmptyString(), state: z.nonEmptyString(), updatedAt: z.nonEmptyString() });

/** Handles one stream record; throws only when a write or publish failed, so the record is retried. */
export async function processStreamRecord(record: DynamoDBRecord, context: ChangesContext): Promise<void> {
  const before = itemOf(record.dynamodb?.OldImage);
  const after = itemOf(record.dynamodb?.NewImage);
  const item = after ?? before;
  if (!record.eventID || !item) return skip(record, "a stream record without an event id or item images");
  // Powertools' idempotency records are the only items without a `kind`.
  const kind = String(item.pk).startsWith(itemKeys.jobStepIdempotency) ? "idempotency" : item.kind;
  let event: BusEvent | undefined;
  if (kind === "image") {
    const images = [before, after].map((image) => image && ImageItemSchema.safeParse(image));
    const invalid = images.find((parsed) => parsed && !parsed.success);
    if (invalid && !invalid.success) return skip(record, `an image item that does not validate: ${describeIssues(invalid.error)}`);
    const change = imageChange(record.eventID, before as unknown as ImageItem | undefined, after as unknown as ImageItem | undefined);
    if (!change) return;
    if (await putChangeRecord(context.table, change, context.retentionDays)) metrics.addMetric("ChangeRecordsWritten", MetricUnit.Count, 1);
    event = changeEvent(change);
  } else if (kind === "job" && after) {
    if (!JobItemSchema.safeParse(after).success) return skip(record, "a job item without jobId, state or updatedAt");
    event = jobEvent(before as unknown as JobRecord<StoredJobRequest> | undefined, after as unknown as JobRecord<StoredJobRequest>);
  } else if (!knownKinds.has(String(kind))) {
    return skip(record, `an item of unknown kind "${String(kind)}"`);
  }
  if (!event) return;
  await context.publisher.publish([event]);
  metrics.addMetric("EventsPublished", MetricUnit.Count, 1);
}

function itemOf(image: StreamImage | undefined): Record<string, unknown> | undefined {
  if (!image) return undefined;
  try {
    return unmarshall(image as Parameters<typeof unmarshall>[0]);
  } catch {
    return undefined;
  }
}

/** A record this function cannot use is logged and counted, never retried: it would block its shard. */
function skip(record: DynamoDBRecord, why: string): void {
  logger.warn("stream record skipped", { why, eventID: record.eventID, sequenceNumber: record.dynamodb?.SequenceNumber });
  metrics.addMetric("StreamRecordsSkipped", MetricUnit.Count, 1);
}
