/**
 * The two sides the soak compares: what a source's simulator holds (its catalog, read straight from its
 * state, with no fault or drop) and what the inventory holds for that source.
 */
import { paginateQuery } from "@aws-sdk/lib-dynamodb";
import type { Provider } from "../../packages/core/resources";
import { CoxEdgeImageSchema } from "../../packages/providers/coxedge/schemas";
import { TritonImageSchema } from "../../packages/providers/triton/schemas";
import type { CoxEdgeSimulator } from "../../packages/simulators/coxedge/simulator";
import type { EffectLedger } from "../../packages/simulators/kit";
import type { TritonSimulator } from "../../packages/simulators/triton/simulator";
import { imagePartitionKey } from "../../packages/store/inventory";
import { normaliseImage, type NormalisedImage } from "../../packages/store/normalise";
import type { Table } from "../../packages/store/table";

/** A source as the soak sees it: its id, and its simulator's catalog and effects. */
export interface SoakSource {
  id: string;
  provider: Provider;
  /** Effects applied by the source's simulator (a Triton datacenter, Cox Edge). */
  effects: EffectLedger;
  /** The catalog now, as a sync should mirror it: upstream id → the image as the client validates and normalises it. */
  catalog(): Map<string, NormalisedImage>;
}

/** A catalog and when it was read (epoch ms). */
export interface CatalogSample {
  at: number;
  images: Map<string, NormalisedImage>;
}

export function sample(source: SoakSource): CatalogSample {
  const images = source.catalog();
  return { at: Date.now(), images };
}

/** One datacenter: what the account's listings (every state, every type) answer. */
export function tritonCatalog(sim: TritonSimulator): Map<string, NormalisedImage> {
  const images = sim.accountListing().map((document) => normaliseImage({ provider: "triton", image: TritonImageSchema.parse(document) }));
  return new Map(images.map((image) => [image.upstreamId, image]));
}

export function coxedgeCatalog(sim: CoxEdgeSimulator): Map<string, NormalisedImage> {
  const images = sim.state.listImages().map((document) => normaliseImage({ provider: "coxedge", image: CoxEdgeImageSchema.parse(document) }));
  return new Map(images.map((image) => [image.upstreamId, image]));
}

/** An image item as far as the soak checks it. */
export interface StoredImage {
  upstreamId: string;
  contentHash: string;
  raw: Record<string, unknown>;
  observedAt: string;
  removedAt?: string;
}

/** Every image item of the source, live and tombstoned, by upstream id. */
export async function readStoredImages(table: Table, source: SoakSource): Promise<Map<string, StoredImage>> {
  const stored = new Map<string, StoredImage>();
  const pages = paginateQuery(
    { client: table.client, pageSize: 1000 },
    {
      TableName: table.name,
      KeyConditionExpression: "#pk = :pk",
      // Attribute names through placeholders: some (raw) are DynamoDB reserved words.
      ProjectionExpression: "#upstreamId, #contentHash, #raw, #observedAt, #removedAt",
      ExpressionAttributeNames: Object.fromEntries(["pk", "upstreamId", "contentHash", "raw", "observedAt", "removedAt"].map((name) => [`#${name}`, name])),
      ExpressionAttributeValues: { ":pk": imagePartitionKey({ provider: source.provider, sourceId: source.id }) },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) {
    for (const item of (page.Items ?? []) as StoredImage[]) stored.set(item.upstreamId, item);
  }
  return stored;
}
