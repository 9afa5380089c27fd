/**
 * A compact copy of what a source's image partition holds — id → content hash (a prefix), the fingerprint
 * of the document last listed with that content, and tombstone time — kept in the source's own partition so a sync reads a few items instead of every image item.
 *
 * It is only an accelerator: a sync uses it only when nothing can have written the partition since it was
 * built, and otherwise reads the partition as before (then writes a fresh digest). Three things make a
 * digest unusable, each recorded on its head item:
 * - a run that writes images marks the head `pendingRunId` first and clears it only when every write landed
 *   as planned, so a run that failed or crashed half way leaves it marked;
 * - every write other than the sync's (store/inventory.ts upsertImage and markImageRemoved, which jobs use)
 *   bumps `invalidations` *before* it writes,
 *   and a digest is usable only while `invalidations` equals the count it was built with;
 * - a new digest is written only on the condition that `invalidations` did not move while its run ran, and
 *   only by a run holding the source's lease.
 * A stale digest therefore costs one full read, never a missed change.
 *
 * Layout: head `DIGEST` (which digest is current) and chunks `DIGEST#<digestId>#<n>`, each a gzipped
 * slice of the JSON entry list under 350 KB (DynamoDB items are at most 400 KB). Old chunks are deleted
 * once the head points at the new ones.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, paginateQuery, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "../core/zod";
import { commonStates, fingerprintLength, type CommonState } from "./normalise";
import { itemKeys } from "./keys";
import type { Table } from "./table";

/** What a sync compares a listed image with: from the image partition (store/inventory.ts readSourceState) or this digest. */
export interface StoredImageState {
  contentHash: string;
  lastSeenAt: string;
  removedAt?: string;
  /** The listed document's fingerprint (store/normalise.ts), kept only in the state digest. */
  fingerprint?: string;
}

/** Hash characters kept per image: 96 bits of the SHA-256, far beyond any chance of two contents colliding. */
export const digestHashLength = 16;
const chunkBytes = 350_000;

/** Whether a stored hash (an item's, or a digest's prefix of it) is the hash of the listed content. */
export function sameContent(storedHash: string, listedHash: string): boolean {
  if (storedHash === listedHash) return true;
  return storedHash.length === digestHashLength && listedHash.length > digestHashLength && listedHash.startsWith(storedHash);
}

/**
 * A listing which, applied to the partition as the digest describes it, would change nothing, and what a run
 * that lists it again records (store/runs.ts counts and inventory) without comparing a single image.
 */
export interface KnownListing {
  /** store/normalise.ts listingFingerprint. */
  fingerprint: string;
  /** Images listed, storable or not. */
  seen: number;
  /** Listed images by lifecycle state (the storable ones, all stored as listed). */
  states: Partial<Record<CommonState, number>>;
  /** Listed images DynamoDB cannot hold (sync/sources.ts toSnapshot). */
  unstorable?: { count: number; first: string };
}

/** The digest's state and what a run needs to replace it safely. */
export interface LoadedDigest {
  /** The partition's state (decoded on first use), or undefined when the digest is missing, untrusted or damaged. */
  readonly state: Map<string, StoredImageState> | undefined;
  /** `invalidations` as read: a new digest is written only if it has not moved since. */
  invalidations: number;
  /** Set when the head can be trusted: which digest, its tombstones, and the listing it is known to match. */
  trusted?: { digestId: string; tombstones: number; listing?: KnownListing };
}

const count = z.optional(z.int());
const KnownListingSchema = z.object({
  fingerprint: z.string().check(z.minLength(1)),
  seen: z.int(),
  states: z.partialRecord(z.enum(commonStates), z.int()),
  unstorable: z.optional(z.object({ count: z.int(), first: z.string() })),
});
const HeadSchema = z.looseObject({
  digestId: z.optional(z.string()),
  chunks: count,
  entries: count,
  tombstones: count,
  invalidations: count,
  builtWithInvalidations: count,
  pendingRunId: z.optional(z.string()),
  listing: z.optional(KnownListingSchema),
});
/**
 * The entries as columns (several times faster to read back than a list of tuples): ids, then each id's hash
 * prefix and fingerprint as fixed-width runs (`noFingerprint` where none is known), and tombstone times by
 * position. An older layout fails this and costs one full read.
 */
const EntriesSchema = z.object({
  ids: z.array(z.string().check(z.minLength(1))),
  hashes: z.string(),
  fingerprints: z.string(),
  removedAt: z.record(z.string(), z.string()),
});
type Entries = z.output<typeof EntriesSchema>;
const noFingerprint = ".".repeat(fingerprintLength);

const headKey = (sourceId: string) => ({ pk: itemKeys.sourcePartition(sourceId), sk: itemKeys.stateDigest });

/**
 * Reads the head and the current chunks in one strongly consistent Query of the source partition. The
 * chunks are decoded only when `state` is first read: a run whose listing is the known one never needs them.
 */
export async function loadStateDigest(table: Table, sourceId: string): Promise<LoadedDigest> {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: table.client },
    {
      TableName: table.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :digest)",
      ExpressionAttributeValues: { ":pk": itemKeys.sourcePartition(sourceId), ":digest": itemKeys.stateDigest },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  const head = HeadSchema.safeParse(items.find((item) => item.sk === itemKeys.stateDigest) ?? {});
  const invalidations = head.success ? (head.data.invalidations ?? 0) : 0;
  if (!head.success) return { state: undefined, invalidations };
  const { digestId, chunks, entries, tombstones, builtWithInvalidations, pendingRunId, listing } = head.data;
  // A head without a tombstone count predates known listings: one full read replaces it.
  if (!digestId || tombstones === undefined || pendingRunId !== undefined || builtWithInvalidations !== invalidations) return { state: undefined, invalidations };
  const prefix = itemKeys.stateDigestChunk(digestId);
  const parts = items.filter((item) => String(item.sk).startsWith(prefix)).toSorted((a, b) => String(a.sk).localeCompare(String(b.sk)));
  let state: Map<string, StoredImageState> | undefined | null = null;
  return {
    get state() {
      if (state === null) state = parts.length === chunks ? decode(parts.map((part) => part.data as Uint8Array)) : undefined;
      return state && state.size === entries ? state : undefined;
    },
    invalidations,
    trusted: { digestId, tombstones, listing },
  };
}

function decode(chunks: Uint8Array[]): Map<string, StoredImageState> | undefined {
  try {
    const parsed = EntriesSchema.safeParse(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString("utf8")));
    if (!parsed.success) return undefined;
    const { ids, hashes, fingerprints, removedAt } = parsed.data;
    if (hashes.length !== ids.length * digestHashLength || fingerprints.length !== ids.length * fingerprintLength) return undefined;
    // No lastSeenAt: a trusted digest means only syncs wrote these items, none after the last ok snapshot,
    // so a removal takes the last ok snapshot time (sync/plan.ts).
    const state = new Map<string, StoredImageState>();
    for (const [index, id] of ids.entries()) {
      const entry: StoredImageState = { contentHash: hashes.slice(index * digestHashLength, (index + 1) * digestHashLength), lastSeenAt: "" };
      const fingerprint = fingerprints.slice(index * fingerprintLength, (index + 1) * fingerprintLength);
      if (fingerprint !== noFingerprint) entry.fingerprint = fingerprint;
      const removed = removedAt[index];
      if (removed) entry.removedAt = removed;
      state.set(id, entry);
    }
    return state;
  } catch {
    return undefined;
  }
}

/** The digest's columns for `state`, leaving out tombstones older than `tombstonesAfter`. */
function encode(state: ReadonlyMap<string, StoredImageState>, tombstonesAfter: string): Entries {
  const entries: Entries = { ids: [], hashes: "", fingerprints: "", removedAt: {} };
  for (const [id, stored] of state) {
    if (stored.removedAt && stored.removedAt < tombstonesAfter) continue;
    if (stored.removedAt) entries.removedAt[entries.ids.length] = stored.removedAt;
    entries.ids.push(id);
    entries.hashes += stored.contentHash.slice(0, digestHashLength).padEnd(digestHashLength, ".");
    entries.fingerprints += stored.fingerprint?.length === fingerprintLength ? stored.fingerprint : noFingerprint;
  }
  return entries;
}

/** Before a run writes images: until it writes a new digest, this one is not to be trusted. */
export async function markStateDigestPending(table: Table, sourceId: string, runId: string): Promise<void> {
  await updateHead(table, sourceId, { set: "#pending = :runId", names: { "#pending": "pendingRunId" }, values: { ":runId": runId } });
}

/** Before any writer other than the sync writes an image of the source. */
export async function invalidateStateDigest(table: Table, sourceId: string): Promise<void> {
  await updateHead(table, sourceId, { add: "#invalidations :one", names: { "#invalidations": "invalidations" }, values: { ":one": 1 } });
}

/** Updates the head item (creating it if need be, with its `kind`, which the stream function reads). */
async function updateHead(
  table: Table,
  sourceId: string,
  update: { set?: string; add?: string; names: Record<string, string>; values: Record<string, unknown> },
): Promise<void> {
  const set = ["#kind = :kind", ...(update.set ? [update.set] : [])].join(", ");
  await table.client.send(
    new UpdateCommand({
      TableName: table.name,
      Key: headKey(sourceId),
      UpdateExpression: `${update.add ? `ADD ${update.add} ` : ""}SET ${set}`,
      ExpressionAttributeNames: { ...update.names, "#kind": "kind" },
      ExpressionAttributeValues: { ...update.values, ":kind": "digest" },
    }),
  );
}

/**
 * Writes `state` as the source's digest, unless another writer invalidated it since `invalidations` was read
 * (returns false then: the next run reads the partition). Only a run holding the source's lease calls this,
 * with the `listing` it applied unless that listing would change something if applied again (held removals).
 * Tombstones past the retention are left out: DynamoDB's TTL deletes their items.
 */
export async function writeStateDigest(
  table: Table,
  write: { sourceId: string; runId: string; invalidations: number; state: ReadonlyMap<string, StoredImageState>; tombstonesAfter: string; listing?: KnownListing },
): Promise<boolean> {
  const entries = encode(write.state, write.tombstonesAfter);
  const data = gzipSync(JSON.stringify(entries));
  const digestId = randomUUID();
  const chunks = Math.max(1, Math.ceil(data.length / chunkBytes));
  const pk = itemKeys.sourcePartition(write.sourceId);
  for (let n = 0; n < chunks; n++) {
    const sk = itemKeys.stateDigestChunk(digestId, n);
    await table.client.send(new PutCommand({ TableName: table.name, Item: { pk, sk, kind: "digest", data: data.subarray(n * chunkBytes, (n + 1) * chunkBytes) } }));
  }
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.name,
        Item: {
          ...headKey(write.sourceId),
          kind: "digest",
          digestId,
          chunks,
          entries: entries.ids.length,
          tombstones: Object.keys(entries.removedAt).length,
          invalidations: write.invalidations,
          builtWithInvalidations: write.invalidations,
          writtenBy: write.runId,
          listing: write.listing,
        },
        // A pending mark of another run is replaced: the caller holds the source's lease, so that run is over.
        ConditionExpression: "attribute_not_exists(#invalidations) OR #invalidations = :seen",
        ExpressionAttributeNames: { "#invalidations": "invalidations" },
        ExpressionAttributeValues: { ":seen": write.invalidations },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    await deleteChunks(table, write.sourceId, (sk) => sk.startsWith(itemKeys.stateDigestChunk(digestId)));
    return false;
  }
  await deleteChunks(table, write.sourceId, (sk) => !sk.startsWith(itemKeys.stateDigestChunk(digestId)));
  return true;
}

/**
 * Records on the current digest's head a listing found to change nothing, unless anything wrote the partition
 * since the digest was read (returns false then). Only a run holding the source's lease calls this.
 */
export async function recordKnownListing(table: Table, write: { sourceId: string; digestId: string; invalidations: number; listing: KnownListing }): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.name,
        Key: headKey(write.sourceId),
        UpdateExpression: "SET #listing = :listing",
        ConditionExpression: "#digestId = :digestId AND #invalidations = :seen AND attribute_not_exists(#pending)",
        ExpressionAttributeNames: { "#listing": "listing", "#digestId": "digestId", "#invalidations": "invalidations", "#pending": "pendingRunId" },
        ExpressionAttributeValues: { ":listing": write.listing, ":digestId": write.digestId, ":seen": write.invalidations },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Deletes the digest chunks `which` selects (old digests', or an unused new one's). */
async function deleteChunks(table: Table, sourceId: string, which: (sk: string) => boolean): Promise<void> {
  const pk = itemKeys.sourcePartition(sourceId);
  // Paged: a page stops at 1 MB read, about three chunks, and a chunk left behind would be read by every run.
  const pages = paginateQuery(
    { client: table.client },
    {
      TableName: table.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :chunks)",
      ExpressionAttributeValues: { ":pk": pk, ":chunks": itemKeys.stateDigestChunks },
      ProjectionExpression: "sk",
    },
  );
  const keys: string[] = [];
  for await (const page of pages) for (const { sk } of (page.Items ?? []) as { sk: string }[]) keys.push(sk);
  for (const sk of keys) if (which(sk)) await table.client.send(new DeleteCommand({ TableName: table.name, Key: { pk, sk } }));
}
