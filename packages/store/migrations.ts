/**
 * One-off rewrites of items an earlier version wrote (docs/capacity.md, "Migrating index keys").
 *
 * `migrateImageIndexKeys` moves images written before per-source index partitions (gsi1 `IMAGES`, gsi2
 * `IMAGEOS#<os>`) onto their source's own (`imageIndexAttributes`). It drains gsi1 `IMAGES`: each image read
 * there gets its four index attributes rewritten, on the condition that it is still under `IMAGES` (a sync
 * or job may have rewritten it meanwhile). So it is idempotent and resumable — run it again after a stop and
 * it finds only what is left — and it ends with a pass that finds nothing. Only index attributes change:
 * the content hash stays, so the stream function makes no change record and a source's state digest stays
 * valid. Writes are paced: every one also deletes from the `IMAGES` partition, which takes ~1,000 a second.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { paginateQuery, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import pLimit from "p-limit";
import { pacer } from "../core/pace";
import type { Provider } from "../core/resources";
import { updateExpression } from "./expressions";
import { imageIndexAttributes } from "./inventory";
import { itemKeys, listingIndex } from "./keys";
import type { Table } from "./table";

export interface IndexKeyMigration {
  /** Images read under the old keys, in every pass (a dry run only counts them). */
  found: number;
  moved: number;
  /** Read under the old keys by an index read that lagged, but already moved. */
  alreadyMoved: number;
  /** The last pass's failed moves: those images are still under the old keys. */
  failures: { key: string; error: unknown }[];
}

interface LegacyImage {
  pk: string;
  sk: string;
  provider: Provider;
  sourceId: string;
  upstreamId: string;
  os?: string;
}

export async function migrateImageIndexKeys(
  table: Table,
  options: { writesPerSecond: number; dryRun: boolean; onProgress?: (progress: IndexKeyMigration) => void },
): Promise<IndexKeyMigration> {
  const progress: IndexKeyMigration = { found: 0, moved: 0, alreadyMoved: 0, failures: [] };
  const pace = pacer(options.writesPerSecond);
  // Enough writes in flight to keep the pace while a write takes up to 20 ms; the pacer sets the rate.
  const limit = pLimit(Math.max(1, Math.ceil(options.writesPerSecond / 50)));
  let movedBefore: number;
  do {
    movedBefore = progress.moved;
    progress.failures = [];
    for await (const page of legacyImagePages(table)) {
      const images = (page.Items ?? []) as LegacyImage[];
      progress.found += images.length;
      if (!options.dryRun) await Promise.all(images.map((image) => limit(() => pace().then(() => moveImage(table, image, progress)))));
      options.onProgress?.(progress);
    }
    // A write during the pass (an old deployment still running) may have put an image back under `IMAGES`.
  } while (!options.dryRun && progress.moved > movedBefore);
  return progress;
}

/** The images still under the old gsi1 key, 500 a page (the next page is read once this one is moved). */
function legacyImagePages(table: Table) {
  return paginateQuery(
    { client: table.client, pageSize: 500 },
    {
      TableName: table.name,
      IndexName: listingIndex.name,
      KeyConditionExpression: "#gsi1pk = :legacy",
      ProjectionExpression: "pk, sk, provider, sourceId, upstreamId, os",
      ExpressionAttributeNames: { "#gsi1pk": listingIndex.pk },
      ExpressionAttributeValues: { ":legacy": itemKeys.legacyAllImages },
    },
  );
}

async function moveImage(table: Table, image: LegacyImage, progress: IndexKeyMigration): Promise<void> {
  const update = updateExpression({ set: imageIndexAttributes(image), conditionValues: { ":legacy": itemKeys.legacyAllImages } });
  try {
    await table.client.send(
      new UpdateCommand({ TableName: table.name, Key: { pk: image.pk, sk: image.sk }, ...update, ConditionExpression: `#${listingIndex.pk} = :legacy` }),
    );
    progress.moved++;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) progress.alreadyMoved++;
    else progress.failures.push({ key: `${image.pk} ${image.sk}`, error });
  }
}
