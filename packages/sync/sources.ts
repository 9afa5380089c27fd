/**
 * The configured sources as the sync sees them: each lists its whole catalog as normalised images, or
 * fails. Nothing partial ever comes back, so a failed listing can never look like removed images.
 */
import type { ConfigLoader, CoxEdgeSourceConfig, TritonSourceConfig } from "../core/config";
import type { Provider } from "../core/resources";
import { logger } from "../core/observability";
import { CoxEdgeClient } from "../providers/coxedge/client";
import type { UpstreamError } from "../providers/http";
import { tritonClientFor, type TritonClient } from "../providers/triton/client";
import { storabilityProblem } from "../core/storable";
import { listingFingerprint, normaliseImage, type NormalisedImage, type UpstreamDocument } from "../store/normalise";
import type { SourceDescription } from "../store/directory";
import type { SourceRef } from "../store/inventory";

/** A whole listing as the upstream sent it: the validated documents, and the fingerprint of the bytes. */
export interface Listing {
  documents: UpstreamDocument[];
  /** store/normalise.ts listingFingerprint: the same fingerprint is the same listing, byte for byte. */
  fingerprint: string;
}

/** A listing made ready to compare: the images to mirror, and those listed but impossible to store (kept as they are). */
export interface Snapshot {
  images: NormalisedImage[];
  unstorable: { upstreamId: string; reason: string }[];
}

export interface SnapshotSource extends SourceRef {
  /** Every image of the source, in every state and of every type. Rejects rather than return part of it. */
  listAll(): Promise<Listing>;
  close(): Promise<void>;
}

/**
 * The raw document goes into the image item under `raw`, so it may nest 30 levels (DynamoDB's limit is 32).
 * An upstream image beyond what DynamoDB holds (deeper, an empty key, a number out of range) is set aside with
 * the reason instead of failing the source's every run: it is still listed, so never tombstoned.
 */
const maxRawDepth = 30;

export function toSnapshot(documents: readonly UpstreamDocument[]): Snapshot {
  const snapshot: Snapshot = { images: [], unstorable: [] };
  for (const document of documents) {
    const problem = storabilityProblem(document.image, maxRawDepth);
    if (problem) snapshot.unstorable.push({ upstreamId: document.image.id, reason: `${["raw", ...problem.path].join(".")}: ${problem.message}` });
    else snapshot.images.push(normaliseImage(document));
  }
  return snapshot;
}

/** Retries are logged with the error's safe fields only (never request headers, so never credentials). */
function logRetry(source: SourceRef) {
  return ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: UpstreamError }) =>
    logger.warn("upstream call failed, retrying", { ...source, attempt, delayMs, error: error.toJSON() });
}

export function tritonSource(config: TritonSourceConfig): SnapshotSource {
  const ref: SourceRef = { provider: "triton", sourceId: config.id };
  let client: TritonClient;
  try {
    client = tritonClientFor(config, { onRetry: logRetry(ref) });
  } catch (error) {
    return unusableSource(ref, error);
  }
  return {
    ...ref,
    async listAll() {
      // Without a `type` filter CloudAPI lists `type=!docker`, so Docker images need a call of their own.
      const answers = await Promise.all([
        client.listImagesWithDigest({ state: "all" }),
        client.listImagesWithDigest({ state: "all", type: "docker" }),
      ]);
      return {
        documents: answers.flatMap(({ images }) => images.map((image): UpstreamDocument => ({ provider: "triton", image }))),
        fingerprint: listingFingerprint(answers.map((answer) => answer.bodyDigest)),
      };
    },
    close: () => client.close(),
  };
}

export function coxedgeSource(config: CoxEdgeSourceConfig): SnapshotSource {
  const ref: SourceRef = { provider: "coxedge", sourceId: config.id };
  const client = new CoxEdgeClient({ ...config, onRetry: logRetry(ref) });
  return {
    ...ref,
    async listAll() {
      // No imageType: default and custom images together.
      const { images, bodyDigest } = await client.listImagesWithDigest();
      return { documents: images.map((image): UpstreamDocument => ({ provider: "coxedge", image })), fingerprint: listingFingerprint([bodyDigest]) };
    },
    close: () => client.close(),
  };
}

/** A source whose client cannot be built: its runs fail with the reason, and the other sources still sync. */
function unusableSource(ref: SourceRef, reason: unknown): SnapshotSource {
  return { ...ref, listAll: () => Promise.reject(reason), close: async () => undefined };
}

/** Where the provider's configured sources point: ids and endpoints, never credentials. */
export function describeSources(provider: Provider, config: ConfigLoader): SourceDescription[] {
  if (provider === "triton") {
    return config.tritonSources().map(({ id, datacenter, url, account }) => ({ id, provider, datacenter, url, account }));
  }
  return config.coxedgeSources().map(({ id, baseUrl, service, environment, organizationId }) => ({ id, provider, baseUrl, service, environment, organizationId }));
}

/** The provider's configured sources (all, or the one named); throws ConfigError when unset or invalid. */
export function configuredSources(provider: Provider, config: ConfigLoader, sourceId?: string): SnapshotSource[] {
  if (provider === "triton") return pick(config.tritonSources(), provider, sourceId).map(tritonSource);
  return pick(config.coxedgeSources(), provider, sourceId).map(coxedgeSource);
}

/** The ids of the provider's configured sources, or the one named (throws UnknownSourceError like configuredSources). */
export function configuredSourceIds(provider: Provider, config: ConfigLoader, sourceId?: string): string[] {
  const sources = provider === "triton" ? config.tritonSources() : config.coxedgeSources();
  return pick<{ id: string }>(sources, provider, sourceId).map((source) => source.id);
}

function pick<S extends { id: string }>(sources: S[], provider: Provider, sourceId: string | undefined): S[] {
  if (sourceId === undefined) return sources;
  const chosen = sources.filter((source) => source.id === sourceId);
  if (chosen.length === 0) {
    const known = sources.map((source) => source.id).join(", ") || "none";
    throw new UnknownSourceError(`no ${provider} source "${sourceId}" is configured (configured: ${known})`);
  }
  return chosen;
}

export class UnknownSourceError extends Error {
  override readonly name = "UnknownSourceError";
}
