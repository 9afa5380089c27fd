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
 * Layout: head `DIGEST` (which shard items make the current digest) and shards `DIGEST#<version>#<n>`, each
 * the gzipped entries whose ids hash to shard n (store/digest-shards.ts; 500–1,000 entries, 18–35 KB measured,
 * under DynamoDB's 400 KB item limit). A run that changed a few images writes new versions of the shards
 * holding them and keeps the others, so the digest costs tens of KB of writes instead of all of it; replaced
 * shards are deleted once the head points at their successors.
 */
import { gzipSync } from "node:zlib";
import { hash, randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, paginateQuery, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";
import * as z from "../core/zod";
import { decodeShard, digestHashLength, encodeShards, shardCountFor, type StoredImageState } from "./digest-shards";
import { commonStates, type CommonState } from "./normalise";
import { itemKeys } from "./keys";
import type { Table } from "./table";

export { digestHashLength, type StoredImageState } from "./digest-shards";

/** DynamoDB items are at most 400 KB; a shard above this is split by doubling the shard count. */
const maxShardBytes = 350_000;
/** Shard writes in flight: they all go to the source's one partition. */
const shardWriteConcurrency = 4;

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

/** The digest's head, what a run needs to replace it safely, and its state on demand. */
export interface LoadedDigest {
  /** `invalidations` as read: a new digest is written only if it has not moved since. */
  invalidations: number;
  /** Set when the head can be trusted: which digest, its shards, its tombstones, and the listing it is known to match. */
  trusted?: { digestId: string; shards: DigestShards; tombstones: number; listing?: KnownListing };
  /** The partition's state, its shards read on the first call; undefined when the digest is missing, untrusted or damaged. */
  state(): Promise<Map<string, StoredImageState> | undefined>;
}

/** The shard items of a digest, in shard order, and a hash of each one's entries (equal hashes, equal entries). */
export interface DigestShards {
  keys: string[];
  hashes: string[];
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
  shardKeys: z.optional(z.array(z.string())),
  shardHashes: z.optional(z.array(z.string())),
  entries: count,
  tombstones: count,
  invalidations: count,
  builtWithInvalidations: count,
  pendingRunId: z.optional(z.string()),
  listing: z.optional(KnownListingSchema),
});
const headKey = (sourceId: string) => ({ pk: itemKeys.sourcePartition(sourceId), sk: itemKeys.stateDigest });

/**
 * Reads the head (one strongly consistent GetItem); the shards only when `state` is first called, so a run
 * whose listing is the known one reads one small item whatever the size of the source.
 */
export async function loadStateDigest(table: Table, sourceId: string): Promise<LoadedDigest> {
  const { Item } = await table.client.send(new GetCommand({ TableName: table.name, Key: headKey(sourceId), ConsistentRead: true }));
  const head = HeadSchema.safeParse(Item ?? {});
  const invalidations = head.success ? (head.data.invalidations ?? 0) : 0;
  const untrusted: LoadedDigest = { invalidations, state: async () => undefined };
  if (!head.success) return untrusted;
  const { digestId, shardKeys, shardHashes, entries, tombstones, builtWithInvalidations, pendingRunId, listing } = head.data;
  // A head without shards predates them (and known listings): one full read replaces it.
  if (!digestId || !shardKeys || shardHashes?.length !== shardKeys.length || tombstones === undefined) return untrusted;
  if (pendingRunId !== undefined || builtWithInvalidations !== invalidations) return untrusted;
  let state: Promise<Map<string, StoredImageState> | undefined> | undefined;
  return {
    invalidations,
    trusted: { digestId, shards: { keys: shardKeys, hashes: shardHashes }, tombstones, listing },
    state: () => (state ??= readShards(table, sourceId, shardKeys, entries)),
  };
}

/** Every shard's entries (one strongly consistent Query), or undefined when one is missing or unreadable or the count is off. */
async function readShards(table: Table, sourceId: string, keys: readonly string[], entries: number | undefined): Promise<Map<string, StoredImageState> | undefined> {
  const wanted = new Set(keys);
  const shards = new Map<string, Uint8Array>();
  const pages = paginateQuery(
    { client: table.client },
    {
      TableName: table.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :shards)",
      ExpressionAttributeValues: { ":pk": itemKeys.sourcePartition(sourceId), ":shards": itemKeys.stateDigestShards },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) for (const item of page.Items ?? []) if (wanted.has(String(item.sk))) shards.set(String(item.sk), item.data as Uint8Array);
  const state = new Map<string, StoredImageState>();
  for (const key of keys) {
    const data = shards.get(key);
    if (!data || !decodeShard(data, state)) return undefined;
  }
  return state.size === entries ? state : undefined;
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
  write: {
    sourceId: string;
    runId: string;
    invalidations: number;
    state: ReadonlyMap<string, StoredImageState>;
    tombstonesAfter: string;
    listing?: KnownListing;
    /** The shards of the digest `state` was decoded from: a shard whose entries are the same is kept, not written. */
    reuse?: DigestShards;
  },
): Promise<boolean> {
  const shards = shardsFor(write.state, write.tombstonesAfter, write.reuse);
  const pk = itemKeys.sourcePartition(write.sourceId);
  const limit = pLimit(shardWriteConcurrency);
  await Promise.all(shards.written.map(({ key, data }) => limit(() => table.client.send(new PutCommand({ TableName: table.name, Item: { pk, sk: key, kind: "digest", data } })))));
  try {
    await table.client.send(
      new PutCommand({
        TableName: table.name,
        Item: {
          ...headKey(write.sourceId),
          kind: "digest",
          digestId: randomUUID(),
          shardKeys: shards.keys,
          shardHashes: shards.hashes,
          entries: shards.entries,
          tombstones: shards.tombstones,
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
    const unused = new Set(shards.written.map(({ key }) => key));
    await deleteShards(table, write.sourceId, (sk) => unused.has(sk));
    return false;
  }
  const current = new Set(shards.keys);
  await deleteShards(table, write.sourceId, (sk) => !current.has(sk));
  return true;
}

/**
 * The digest's shards for `state`: their keys and entry hashes, and the items to write (the shards `reuse`
 * does not already hold with the same entries). The shard count doubles until every shard fits an item.
 */
function shardsFor(
  state: ReadonlyMap<string, StoredImageState>,
  tombstonesAfter: string,
  reuse: DigestShards | undefined,
): DigestShards & { entries: number; tombstones: number; written: { key: string; data: Buffer }[] } {
  const version = randomUUID();
  for (let shardCount = shardCountFor(state.size, reuse?.keys.length); ; shardCount *= 2) {
    const { shards, entries, tombstones } = encodeShards(state, tombstonesAfter, shardCount);
    const hashes = shards.map((json) => hash("sha256", json, "base64url"));
    const kept = (n: number) => (reuse?.keys.length === shardCount && reuse.hashes[n] === hashes[n] ? reuse.keys[n] : undefined);
    const keys = hashes.map((_, n) => kept(n) ?? itemKeys.stateDigestShard(version, n));
    const written = keys.flatMap((key, n) => (kept(n) ? [] : [{ key, data: gzipSync(shards[n] as string) }]));
    if (written.every(({ data }) => data.length <= maxShardBytes)) return { keys, hashes, entries, tombstones, written };
  }
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

/** Deletes the digest shards `which` selects (replaced ones, or a failed write's). */
async function deleteShards(table: Table, sourceId: string, which: (sk: string) => boolean): Promise<void> {
  const pk = itemKeys.sourcePartition(sourceId);
  // Paged: a page stops at 1 MB read, and a shard left behind would be read by every run.
  const pages = paginateQuery(
    { client: table.client },
    {
      TableName: table.name,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :shards)",
      ExpressionAttributeValues: { ":pk": pk, ":shards": itemKeys.stateDigestShards },
      ProjectionExpression: "sk",
    },
  );
  const keys: string[] = [];
  for await (const page of pages) for (const { sk } of (page.Items ?? []) as { sk: string }[]) keys.push(sk);
  const limit = pLimit(shardWriteConcurrency);
  await Promise.all(keys.filter(which).map((sk) => limit(() => table.client.send(new DeleteCommand({ TableName: table.name, Key: { pk, sk } })))));
}
