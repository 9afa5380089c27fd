/**
 * The simulator's IMGAPI-level image model and CloudAPI's view of it: translate() and the visibility
 * rules (TritonDataCenter/sdc-cloudapi lib/datasets.js, TritonDataCenter/sdc-imgapi lib/images.js
 * apiListImages), ListImages filters and Accept-Version negotiation (restify 4 semantics).
 */
import type { ImageState } from "../../providers/triton/schemas";

export type FileCompression = "bzip2" | "gzip" | "none" | "xz";

/** An image as IMGAPI stores it (the fields CloudAPI reads, plus ones it drops). */
export interface ImageRecord {
  uuid: string;
  name: string;
  version: string;
  /** Absent on placeholders (creating, failed). */
  os?: string;
  type?: string;
  description?: string;
  homepage?: string;
  eula?: string;
  owner: string;
  public: boolean;
  state: ImageState;
  acl: string[];
  tags?: Record<string, unknown>;
  files: { compression: FileCompression; sha1: string; size: number; dataset_guid?: string }[];
  published_at?: string;
  origin?: string;
  /** IMGAPI requirements; CloudAPI exposes only min_ram, max_ram, brand and bootrom. */
  requirements: {
    min_ram?: number;
    max_ram?: number;
    brand?: string;
    bootrom?: string;
    networks?: unknown[];
    ssh_key?: boolean;
    min_platform?: Record<string, string>;
  };
  image_size?: number;
  error?: { code: string; message: string };
}

/** A negotiated API version, e.g. [9, 0]. */
export type ApiVersion = readonly [major: number, minor: number];

/** Route versions every images endpoint mounts, lowest first. */
export const routeVersions = ["7.0.0", "7.1.0", "7.2.0", "7.3.0", "8.0.0", "9.0.0"] as const;

const passThroughErrorCodes = new Set(["PrepareImageDidNotRun", "VmHasNoOrigin", "NotSupported"]);

export function isActivated(image: ImageRecord): boolean {
  return image.state === "active" || image.state === "disabled";
}

/** GetImage visibility: own images in any state, others' only when activated and public or shared. */
export function isVisibleTo(image: ImageRecord, accountUuid: string): boolean {
  return image.owner === accountUuid || (isActivated(image) && (image.public || image.acl.includes(accountUuid)));
}

/** CloudAPI's translate() for Accept-Version ≥ 7.1 (and the <7.1 / <8 variations). */
export function translate(image: ImageRecord, version: ApiVersion): Record<string, unknown> {
  const [major, minor] = version;
  const atLeast71 = major > 7 || (major === 7 && minor >= 1);
  const out: Record<string, unknown> = { id: image.uuid, name: image.name, version: image.version };
  if (image.os) out.os = image.os;
  out.requirements = translateRequirements(image.requirements);
  if (image.type) out.type = major >= 8 ? image.type : image.type === "zvol" ? "virtualmachine" : "smartmachine";
  if (image.type === "zvol" && image.image_size !== undefined) out.image_size = image.image_size;
  // translate() copies description only when truthy; empty homepage/eula are dropped too.
  if (image.description) out.description = image.description;
  const file = image.files[0];
  if (file) out.files = [{ compression: file.compression, sha1: file.sha1, size: file.size }];
  if (image.tags !== undefined) out.tags = image.tags;
  if (image.homepage) out.homepage = image.homepage;
  if (image.published_at !== undefined) out.published_at = image.published_at;
  if (!atLeast71) return out;
  out.owner = image.owner;
  out.public = image.public;
  out.state = image.state;
  if (image.eula) out.eula = image.eula;
  if (image.acl.length > 0) out.acl = image.acl;
  if (image.origin !== undefined) out.origin = image.origin;
  if (image.state === "failed" && image.error) {
    out.error = passThroughErrorCodes.has(image.error.code)
      ? image.error
      : { code: "InternalError", message: "an unexpected error occurred (Contact support for assistance.)" };
  }
  return out;
}

function translateRequirements(requirements: ImageRecord["requirements"]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (requirements.max_ram) {
    out.max_memory = requirements.max_ram;
    out.max_ram = requirements.max_ram;
  }
  if (requirements.min_ram) {
    out.min_memory = requirements.min_ram;
    out.min_ram = requirements.min_ram;
  }
  if (requirements.brand) out.brand = requirements.brand;
  if (requirements.bootrom) out.bootrom = requirements.bootrom;
  return out;
}

export interface ListQuery {
  name?: string;
  version?: string;
  os?: string;
  public?: boolean;
  /** Already validated; "all" means any state. */
  state: ImageState | "all";
  owner?: string;
  /** Exact type, or "!type" to exclude. */
  type?: string;
}

/** IMGAPI ListImages for `account` (sdc-imgapi lib/images.js apiListImages): visibility depends on the state filter. */
export function matchesListQuery(image: ImageRecord, query: ListQuery, accountUuid: string): boolean {
  const own = image.owner === accountUuid;
  const sharedOrPublic = image.public || image.acl.includes(accountUuid);
  if (query.state === "all") {
    if (!own && !(isActivated(image) && sharedOrPublic)) return false;
  } else if (query.state === "active") {
    if (image.state !== "active" || !(own || sharedOrPublic)) return false;
  } else if (image.state !== query.state || !own) {
    return false;
  }
  if (query.name !== undefined && !matchesText(image.name, query.name)) return false;
  if (query.version !== undefined && !matchesText(image.version, query.version)) return false;
  if (query.os !== undefined && image.os !== query.os) return false;
  if (query.public !== undefined && image.public !== query.public) return false;
  if (query.owner !== undefined && image.owner !== query.owner) return false;
  if (query.type !== undefined) {
    const excluded = query.type.startsWith("!");
    const wanted = excluded ? query.type.slice(1) : query.type;
    if ((image.type === wanted) === excluded) return false;
  }
  return true;
}

/** Exact match, or `~substr` for a case-sensitive substring match. */
function matchesText(value: string, filter: string): boolean {
  return filter.startsWith("~") ? value.includes(filter.slice(1)) : value === filter;
}

/** IMGAPI's default order: published_at ascending, unpublished first (then by uuid, to be stable). */
export function comparePublished(a: ImageRecord, b: ImageRecord): number {
  const byDate = (a.published_at ?? "").localeCompare(b.published_at ?? "");
  return byDate !== 0 ? byDate : a.uuid.localeCompare(b.uuid);
}

/**
 * Picks the highest route version satisfying an Accept-Version range (restify 4 semantics for
 * the forms clients send: `*`, `~9`, `~9||~8`, `8`, `7.1.0`, `>=8`, `^9`). Undefined: none.
 */
export function negotiateVersion(range: string | undefined): ApiVersion | undefined {
  for (const candidate of routeVersions.toReversed()) {
    const version = candidate.split(".").map(Number) as [number, number, number];
    if (satisfiesRange(version, range ?? "*")) return [version[0], version[1]];
  }
  return undefined;
}

function satisfiesRange(version: [number, number, number], range: string): boolean {
  return range.split("||").some((alternative) =>
    alternative
      .trim()
      .split(/\s+/)
      .every((comparator) => satisfiesComparator(version, comparator)),
  );
}

function satisfiesComparator(version: [number, number, number], comparator: string): boolean {
  if (comparator === "" || comparator === "*" || comparator.toLowerCase() === "x") return true;
  const match = /^(~|\^|>=|<=|>|<|=)?v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(comparator);
  if (!match) return false;
  const operator = match[1] ?? "";
  const given = [match[2], match[3], match[4]].map((part) => (part === undefined || part === "x" || part === "*" ? undefined : Number(part)));
  const wanted = given.map((part) => part ?? 0) as [number, number, number];
  const order = compareVersions(version, wanted);
  switch (operator) {
    case ">=":
      return order >= 0;
    case ">":
      return order > 0;
    case "<=":
      return order <= 0;
    case "<":
      return order < 0;
    case "~":
      return order >= 0 && version[0] === wanted[0] && (given[1] === undefined || version[1] === wanted[1]);
    case "^":
      return order >= 0 && version[0] === wanted[0];
    default:
      return given.every((part, index) => part === undefined || part === version[index]);
  }
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < 3; index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}
