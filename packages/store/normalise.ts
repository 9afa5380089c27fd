/**
 * One view of an image whatever its provider, plus the validated upstream document it came from and a
 * hash of that document. Sync and single-image refreshes (jobs) both go through `normaliseImage`, so an
 * image written by either is byte-for-byte the same item.
 */
import { hash } from "node:crypto";
import type { Provider } from "../core/resources";
import { stackpathStackId, type CoxEdgeImage } from "../providers/coxedge/schemas";
import type { TritonImage } from "../providers/triton/schemas";

/**
 * Part of every content hash: bump it when the normalised view or the index attributes change shape,
 * and the next sync rewrites every image once (otherwise unchanged images are never written again).
 */
export const imageItemVersion = 1;

/** Lifecycle common to both providers; `status` keeps the upstream's own word. */
export const commonStates = ["active", "creating", "failed", "disabled", "unactivated", "unknown"] as const;
export type CommonState = (typeof commonStates)[number];

export interface ImageView {
  name: string;
  /** Triton version; Cox Edge tag. */
  version: string;
  /** Triton os; Cox Edge family. */
  os?: string;
  /** Triton type (zone-dataset, zvol, docker, ...); Cox Edge `default` (StackPath's) or `custom`. */
  type?: string;
  state: CommonState;
  /** The upstream's state/status verbatim (Triton `active`, Cox Edge `READY`, ...). */
  status?: string;
  public?: boolean;
  /** Triton owner account uuid; Cox Edge stack id. */
  owner?: string;
  description?: string;
  /** ISO-8601 UTC, millisecond precision; the raw document keeps the upstream's precision. */
  createdAt?: string;
  publishedAt?: string;
  requirements?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  files?: { compression: string; sha1: string; size: number }[];
}

/** Every attribute of the view, so a write can remove the ones an image no longer has. */
export const imageViewFields = [
  "name", "version", "os", "type", "state", "status", "public", "owner", "description",
  "createdAt", "publishedAt", "requirements", "tags", "files",
] as const satisfies readonly (keyof ImageView)[];

/** Every view attribute of `source` (a view, or an item that carries one), absent ones as undefined. */
export function viewFieldsOf(source: Partial<ImageView>): Record<(typeof imageViewFields)[number], unknown> {
  return Object.fromEntries(imageViewFields.map((field) => [field, source[field]])) as Record<(typeof imageViewFields)[number], unknown>;
}

/** A validated upstream document, tagged with the provider it came from. */
export type UpstreamDocument = { provider: "triton"; image: TritonImage } | { provider: "coxedge"; image: CoxEdgeImage };

export interface NormalisedImage {
  provider: Provider;
  upstreamId: string;
  view: ImageView;
  raw: Record<string, unknown>;
  contentHash: string;
  /**
   * A hash of the document exactly as listed (key order included), several times cheaper than `contentHash`:
   * the same fingerprint means the same content, so a sync needs the content hash only when it differs.
   */
  fingerprint: string;
  /** The view's `state`, without building the view (a sync counts every listed image by state). */
  state: CommonState;
}

export function normaliseImage(document: UpstreamDocument): NormalisedImage {
  return new ListedImage(document);
}

/** A class rather than an object literal with a getter: a sync makes one per listed image, and this is cheaper. */
class ListedImage implements NormalisedImage {
  readonly provider: Provider;
  readonly upstreamId: string;
  readonly raw: Record<string, unknown>;
  readonly fingerprint: string;
  readonly state: CommonState;
  #document: UpstreamDocument;
  #view: ImageView | undefined;
  #contentHash: string | undefined;

  constructor(document: UpstreamDocument) {
    this.#document = document;
    this.provider = document.provider;
    this.upstreamId = document.image.id;
    this.raw = document.image as Record<string, unknown>;
    this.fingerprint = fingerprint(this.raw);
    this.state = document.provider === "triton" ? tritonState(document.image) : coxedgeStates[document.image.status];
  }

  get contentHash(): string {
    this.#contentHash ??= contentHash(this.raw);
    return this.#contentHash;
  }

  /** Built on first use: a sync compares hashes and needs the view only of the images it writes. */
  get view(): ImageView {
    this.#view ??= this.#document.provider === "triton" ? tritonView(this.#document.image) : coxedgeView(this.#document.image);
    return this.#view;
  }
}

const tritonStates: Record<string, CommonState> = {
  active: "active",
  creating: "creating",
  failed: "failed",
  disabled: "disabled",
  unactivated: "unactivated",
};

function tritonState(image: TritonImage): CommonState {
  return (image.state && tritonStates[image.state]) ?? "unknown";
}

function tritonView(image: TritonImage): ImageView {
  return {
    name: image.name,
    version: image.version,
    os: image.os,
    type: image.type,
    state: tritonState(image),
    status: image.state,
    public: image.public,
    owner: image.owner,
    description: image.description,
    publishedAt: isoMillis(image.published_at),
    requirements: image.requirements,
    tags: image.tags,
    files: image.files,
  };
}

const coxedgeStates: Record<CoxEdgeImage["status"], CommonState> = {
  READY: "active",
  PENDING: "creating",
  PROCESSING: "creating",
  FAILED: "failed",
  IMAGE_STATUS_UNKNOWN: "unknown",
};

function coxedgeView(image: CoxEdgeImage): ImageView {
  // Default images live in StackPath's own stack and are offered to every environment.
  const stackpath = image.stackId === stackpathStackId;
  return {
    name: image.family,
    version: image.tag,
    os: image.family,
    type: stackpath ? "default" : "custom",
    state: coxedgeStates[image.status],
    status: image.status,
    public: stackpath,
    owner: image.stackId,
    description: image.description,
    createdAt: isoMillis(image.createdAt),
  };
}

function isoMillis(timestamp: string | undefined): string | undefined {
  return timestamp === undefined ? undefined : new Date(timestamp).toISOString();
}

/** sha256 over the item version and the document with object keys sorted, so key order never counts as a change. */
export function contentHash(document: unknown): string {
  // crypto.hash: Node's one-shot digest, several times cheaper than createHash for small inputs.
  return hash("sha256", `${imageItemVersion}\n${canonicalJson(document)}`, "base64url");
}

/** Characters of a fingerprint: 96 bits of the SHA-256, far beyond any chance of two documents colliding. */
export const fingerprintLength = 16;

/** sha256 over the item version and the document as JSON.stringify writes it (native, so fast), shortened. */
function fingerprint(document: unknown): string {
  return hash("sha256", `${imageItemVersion}\n${JSON.stringify(document)}`, "base64url").slice(0, fingerprintLength);
}

/**
 * A whole listing's fingerprint: SHA-256 over the item version and the SHA-256 of each response body of
 * the listing, in the order they were asked for. The same fingerprint is the same listing byte for byte,
 * read by the same code, so a sync that already applied it need compare nothing (store/state-digest.ts).
 */
export function listingFingerprint(bodyDigests: readonly string[]): string {
  return hash("sha256", `${imageItemVersion}\n${bodyDigests.join("\n")}`, "base64url");
}

/** Keys that JSON.stringify would write unchanged between quotes (most are): no escaping to do. */
const plainKey = /^[\w.-]*$/;

/** JSON with every object's keys sorted and undefined members left out; built by concatenation (a sync hashes every listed image). */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let index = 0; index < value.length; index++) out += `${index ? "," : ""}${canonicalJson(value[index])}`;
    return `${out}]`;
  }
  let out = "{";
  for (const key of Object.keys(value).toSorted()) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    out += `${out.length > 1 ? "," : ""}${plainKey.test(key) ? `"${key}"` : JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}
