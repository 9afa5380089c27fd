/**
 * The state digest's entries (store/state-digest.ts) split into shards by id, each encoded as columns. An
 * id's shard follows from a hash of the id and the shard count, so a run that changes a few images changes
 * a few shards, and only those are written again.
 */
import { hash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import * as z from "../core/zod";
import { fingerprintLength } from "./normalise";

/** What a sync compares a listed image with: from the image partition (store/inventory.ts readSourceState) or the digest. */
export interface StoredImageState {
  contentHash: string;
  lastSeenAt: string;
  removedAt?: string;
  /** The listed document's fingerprint (store/normalise.ts), kept only in the state digest. */
  fingerprint?: string;
}

/** Hash characters kept per image: 96 bits of the SHA-256, far beyond any chance of two contents colliding. */
export const digestHashLength = 16;
/** What the shard count aims at: shards of 500–1,000 entries gzip to 18–35 KB (measured on bench/catalog's catalogs). */
const entriesPerShard = 1_000;

/**
 * A shard's entries as columns (several times faster to read back than a list of tuples): ids, then each
 * id's hash prefix and fingerprint as fixed-width runs (`noFingerprint` where none is known), and tombstone
 * times by position. An older layout fails this and costs one full read.
 */
const EntriesSchema = z.object({
  ids: z.array(z.string().check(z.minLength(1))),
  hashes: z.string(),
  fingerprints: z.string(),
  removedAt: z.record(z.string(), z.string()),
});
type Entries = z.output<typeof EntriesSchema>;
const noFingerprint = ".".repeat(fingerprintLength);

/**
 * A power of two near one shard per `entriesPerShard` entries; the previous count is kept while it stays within
 * a factor of four either way, so a source whose size hovers around a boundary does not rewrite every shard.
 */
export function shardCountFor(entries: number, previous: number | undefined): number {
  if (previous && entries >= (previous * entriesPerShard) / 4 && entries <= previous * entriesPerShard * 4) return previous;
  return 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(entries / entriesPerShard))));
}

function shardOf(id: string, shardCount: number): number {
  return shardCount === 1 ? 0 : Number.parseInt(hash("sha1", id).slice(0, 8), 16) % shardCount;
}

/** The entries of `state` in `shardCount` shards, as JSON, leaving out tombstones older than `tombstonesAfter`. */
export function encodeShards(
  state: ReadonlyMap<string, StoredImageState>,
  tombstonesAfter: string,
  shardCount: number,
): { shards: string[]; entries: number; tombstones: number } {
  const shards: Entries[] = Array.from({ length: shardCount }, () => ({ ids: [], hashes: "", fingerprints: "", removedAt: {} }));
  let entries = 0;
  let tombstones = 0;
  for (const [id, stored] of state) {
    if (stored.removedAt && stored.removedAt < tombstonesAfter) continue;
    const shard = shards[shardOf(id, shardCount)] as Entries;
    if (stored.removedAt) {
      shard.removedAt[shard.ids.length] = stored.removedAt;
      tombstones++;
    }
    shard.ids.push(id);
    shard.hashes += stored.contentHash.slice(0, digestHashLength).padEnd(digestHashLength, ".");
    shard.fingerprints += stored.fingerprint?.length === fingerprintLength ? stored.fingerprint : noFingerprint;
    entries++;
  }
  return { shards: shards.map((shard) => JSON.stringify(shard)), entries, tombstones };
}

/** Adds a gzipped shard's entries to `into`; false when it cannot be read (the digest is then not used). */
export function decodeShard(data: Uint8Array, into: Map<string, StoredImageState>): boolean {
  try {
    const parsed = EntriesSchema.safeParse(JSON.parse(gunzipSync(data).toString("utf8")));
    if (!parsed.success) return false;
    const { ids, hashes, fingerprints, removedAt } = parsed.data;
    if (hashes.length !== ids.length * digestHashLength || fingerprints.length !== ids.length * fingerprintLength) return false;
    // No lastSeenAt: a trusted digest means only syncs wrote these items, none after the last ok snapshot,
    // so a removal takes the last ok snapshot time (sync/plan.ts).
    for (const [index, id] of ids.entries()) {
      const entry: StoredImageState = { contentHash: hashes.slice(index * digestHashLength, (index + 1) * digestHashLength), lastSeenAt: "" };
      const fingerprint = fingerprints.slice(index * fingerprintLength, (index + 1) * fingerprintLength);
      if (fingerprint !== noFingerprint) entry.fingerprint = fingerprint;
      const removed = removedAt[index];
      if (removed) entry.removedAt = removed;
      into.set(id, entry);
    }
    return true;
  } catch {
    return false;
  }
}
