/**
 * What one write of an image item changed, read from the table stream's before and after images: added,
 * changed (a new content hash), removed (tombstoned) or revived. Writes that change no content (none do
 * today) and TTL deletions of tombstones are not changes.
 */
import type { ChangeKind, ChangeRecord } from "../store/changes";
import type { ImageItem } from "../store/inventory";
import { viewFieldsOf } from "../store/normalise";
import { diffDocuments } from "./diff";

/** The change a write made, or undefined when it changed nothing upstream-visible (or was a TTL deletion). */
export function imageChange(id: string, before: ImageItem | undefined, after: ImageItem | undefined): ChangeRecord | undefined {
  if (!after) return undefined;
  const kind = changeKind(before, after);
  if (!kind) return undefined;
  // An added image is all new and a removed one unchanged: the inventory holds its document, so no field list.
  const diffs = kind === "added" || kind === "removed" ? [] : [diffDocuments(viewOf(before), viewOf(after), "view"), diffDocuments(before?.raw ?? {}, after.raw, "raw")];
  return {
    id,
    at: after.lastChangedAt,
    kind,
    provider: after.provider,
    sourceId: after.sourceId,
    upstreamId: after.upstreamId,
    name: after.name,
    version: after.version,
    fields: diffs.flatMap((diff) => diff.changes),
    ...(diffs.some((diff) => diff.truncated) ? { fieldsTruncated: true } : {}),
    ...(before ? { hashBefore: before.contentHash } : {}),
    hashAfter: after.contentHash,
    ...(after.cause ? { cause: after.cause } : {}),
  };
}

function changeKind(before: ImageItem | undefined, after: ImageItem): ChangeKind | undefined {
  if (!before) return after.removedAt ? undefined : "added";
  if (!before.removedAt && after.removedAt) return "removed";
  if (before.removedAt && !after.removedAt) return "revived";
  if (after.removedAt) return undefined;
  return before.contentHash === after.contentHash ? undefined : "changed";
}

function viewOf(item: ImageItem | undefined): Record<string, unknown> {
  return item ? viewFieldsOf(item) : {};
}
