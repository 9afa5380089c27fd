/**
 * Events for EventBridge rules: each change record and each finished job, with source `imagesync` and
 * detail-types `Image Added|Changed|Removed|Revived`, `Job Succeeded|Failed`. On AWS they go to the
 * event bus; locally to a file sink, one JSON line per event (`imagesync events --follow` reads it).
 */
import { appendFile } from "node:fs/promises";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { eventBus } from "../core/resources";
import type { JobRecord, StoredJobRequest } from "../store/jobs";
import type { ChangeKind, ChangeRecord } from "../store/changes";

export interface BusEvent {
  detailType: string;
  detail: Record<string, unknown>;
  /** When it happened (EventBridge's `time`). */
  time: string;
}

export interface EventPublisher {
  publish(events: readonly BusEvent[]): Promise<void>;
}

const changeTypes: Record<ChangeKind, string> = { added: "Image Added", changed: "Image Changed", removed: "Image Removed", revived: "Image Revived" };

export function changeEvent(record: ChangeRecord): BusEvent {
  return {
    detailType: changeTypes[record.kind],
    time: record.at,
    detail: {
      changeId: record.id,
      kind: record.kind,
      provider: record.provider,
      source: record.sourceId,
      imageId: record.upstreamId,
      name: record.name,
      version: record.version,
      changedFields: record.fields.map((field) => field.path),
      cause: record.cause,
    },
  };
}

/** The event for a job that just finished: its state went from running to succeeded or failed. */
export function jobEvent(before: JobRecord<StoredJobRequest> | undefined, after: JobRecord<StoredJobRequest>): BusEvent | undefined {
  const finished = (state: string | undefined) => state === "succeeded" || state === "failed";
  if (!finished(after.state) || finished(before?.state)) return undefined;
  return {
    detailType: after.state === "succeeded" ? "Job Succeeded" : "Job Failed",
    time: after.finishedAt ?? after.updatedAt,
    detail: {
      jobId: after.jobId,
      provider: after.request?.provider,
      source: after.request?.source,
      action: after.request?.action,
      imageId: after.result?.imageId,
      error: after.error && { code: after.error.code, message: after.error.message },
    },
  };
}

/** PutEvents takes at most 10 entries; a partly failed call throws so the stream batch is retried. */
export function eventBridgePublisher(busName: string, client = new EventBridgeClient({})): EventPublisher {
  return {
    async publish(events) {
      for (let start = 0; start < events.length; start += 10) {
        const entries = events.slice(start, start + 10).map((event) => ({
          EventBusName: busName,
          Source: eventBus.source,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
          Time: new Date(event.time),
        }));
        const result = await client.send(new PutEventsCommand({ Entries: entries }));
        if (result.FailedEntryCount) throw new Error(`EventBridge refused ${result.FailedEntryCount} of ${entries.length} events`);
      }
    },
  };
}

/** Appends each event as one JSON line in the shape EventBridge delivers to a rule's target. */
export function fileSinkPublisher(path: string): EventPublisher {
  return {
    async publish(events) {
      if (events.length === 0) return;
      const lines = events.map((event) =>
        JSON.stringify({ source: eventBus.source, "detail-type": event.detailType, time: event.time, detail: event.detail }),
      );
      await appendFile(path, `${lines.join("\n")}\n`);
    },
  };
}
