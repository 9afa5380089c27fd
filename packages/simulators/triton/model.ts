/**
 * The simulator's IMGAPI-level image model and CloudAPI's view of it: translate() (notes §2.1),
 * visibility (§3.1, §3.2), ListImages filters, API version negotiation (§6) and catalog seeding.
 */
import type { SeededRandom } from "../kit";
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
  if (image.description !== undefined) out.description = image.description;
  const file = image.files[0];
  if (file) out.files = [{ compression: file.compression, sha1: file.sha1, size: file.size }];
  if (image.tags !== undefined) out.tags = image.tags;
  if (image.homepage !== undefined) out.homepage = image.homepage;
  if (image.published_at !== undefined) out.published_at = image.published_at;
  if (!atLeast71) return out;
  out.owner = image.owner;
  out.public = image.public;
  out.state = image.state;
  if (image.eula !== undefined) out.eula = image.eula;
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

/** IMGAPI ListImages for `account`: visibility depends on the state filter (notes §3.1). */
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

/** Templates for generated catalogs: realistic names with their os, type and requirements. */
const imageTemplates: {
  name: string;
  os: string;
  type: string;
  brand?: string;
  bootrom?: string;
  homepage?: string;
  eula?: string;
}[] = [
  { name: "base-64-lts", os: "smartos", type: "zone-dataset", homepage: "https://docs.tritondatacenter.com/images/smartos/base" },
  { name: "minimal-64-lts", os: "smartos", type: "zone-dataset" },
  { name: "pkgbuild", os: "smartos", type: "zone-dataset" },
  { name: "ubuntu-24.04", os: "linux", type: "zvol", brand: "bhyve", bootrom: "uefi" },
  { name: "ubuntu-22.04", os: "linux", type: "lx-dataset", brand: "lx" },
  { name: "debian-12", os: "linux", type: "zvol", brand: "bhyve" },
  { name: "centos-stream-9", os: "linux", type: "zvol", brand: "kvm" },
  { name: "rocky-9", os: "linux", type: "zvol", brand: "bhyve", bootrom: "uefi" },
  { name: "alpine-3", os: "linux", type: "lx-dataset", brand: "lx" },
  { name: "windows-2022", os: "windows", type: "zvol", brand: "bhyve", bootrom: "uefi", eula: "https://www.microsoft.com/licensing/eula" },
  { name: "freebsd-14", os: "bsd", type: "zvol", brand: "bhyve" },
  { name: "omnios-r151050", os: "illumos", type: "zvol", brand: "bhyve" },
  { name: "docker-layer", os: "linux", type: "docker" },
  { name: "lxd-ubuntu", os: "linux", type: "lxd" },
  { name: "appliance", os: "other", type: "other" },
];

const tagRoles = ["os", "web", "db", "cache", "ci"];
const compressions: FileCompression[] = ["gzip", "gzip", "gzip", "bzip2", "xz", "none"];

export interface SeedContext {
  random: SeededRandom;
  accountUuid: string;
  /** Owner of public images (the datacenter's admin account). */
  adminUuid: string;
  /** Other accounts that own private or shared images. */
  otherOwners: readonly string[];
  /** Index of the first generated image; spreads published_at over time. */
  startIndex: number;
  /** Activated public images generated so far, used as origins. */
  origins: string[];
}

/**
 * One generated image. Mix: ~55% admin public, ~25% the account's own, ~8% others' shared with
 * the account, ~7% others' private, ~5% others' public; states, tags and files vary likewise.
 */
export function generateImage(context: SeedContext, index: number): ImageRecord {
  const { random } = context;
  const template = random.pick(imageTemplates);
  const roll = random.next();
  const own = roll >= 0.55 && roll < 0.8;
  const sharedWithAccount = roll >= 0.8 && roll < 0.88;
  const isPublic = roll < 0.55 || roll >= 0.95;
  const owner = roll < 0.55 ? context.adminUuid : own ? context.accountUuid : random.pick(context.otherOwners);

  const state = pickState(random, own);
  const placeholder = state === "creating" || state === "failed";
  const publishedMs = Date.UTC(2014, 0, 1) + (context.startIndex + index) * 3_600_000 + random.int(0, 3_599_999);
  const published = new Date(publishedMs).toISOString();

  const image: ImageRecord = {
    uuid: random.uuid(),
    name: own ? `${template.name}-custom` : template.name,
    version: random.chance(0.5) ? published.slice(0, 10).replaceAll("-", "") : `${random.int(1, 9)}.${random.int(0, 20)}.${random.int(0, 9)}`,
    owner,
    public: isPublic,
    state,
    acl: sharedWithAccount ? [context.accountUuid] : own && random.chance(0.2) ? [random.pick(context.otherOwners)] : [],
    files: [],
    requirements: {},
  };
  if (random.chance(0.8)) image.description = `${template.name} image (${template.os}, ${template.type})`;
  if (template.homepage && !own) image.homepage = template.homepage;
  if (template.eula) image.eula = template.eula;
  if (random.chance(0.85)) image.tags = generateTags(random, template.type);
  if (state === "failed") {
    image.error = random.chance(0.7)
      ? { code: "PrepareImageDidNotRun", message: "prepare-image script did not indicate it was run (old guest tools in VM?)" }
      : { code: "InternalError", message: "workflow job failed" };
  }
  if (placeholder) return image;

  image.os = template.os;
  image.type = template.type;
  if (state !== "unactivated") image.published_at = random.chance(0.5) ? published : published.replace(/\.\d{3}Z$/, "Z");
  image.files = [
    {
      compression: random.pick(compressions),
      sha1: random.hex(40),
      size: random.int(50, 4000) * 1_048_576,
      dataset_guid: String(random.int(1, 2 ** 31)),
    },
  ];
  if (template.brand) image.requirements.brand = template.brand;
  if (template.bootrom) image.requirements.bootrom = template.bootrom;
  if (template.type === "zvol") {
    image.image_size = random.pick([10240, 20480, 40960]);
    image.requirements.min_ram = random.pick([512, 1024, 2048, 4096]);
    if (random.chance(0.3)) image.requirements.max_ram = 65536;
  }
  if (random.chance(0.3)) image.requirements.networks = [{ name: "net0", description: "public" }];
  if (random.chance(0.2)) image.requirements.min_platform = { "7.0": "20141030T081701Z" };
  if (own && context.origins.length > 0 && random.chance(0.6)) image.origin = random.pick(context.origins);
  if (image.public && isActivated(image) && owner === context.adminUuid) context.origins.push(image.uuid);
  return image;
}

function pickState(random: SeededRandom, own: boolean): ImageState {
  const roll = random.next();
  if (!own) return roll < 0.85 ? "active" : roll < 0.95 ? "disabled" : "unactivated";
  if (roll < 0.7) return "active";
  if (roll < 0.8) return "disabled";
  if (roll < 0.88) return "unactivated";
  return roll < 0.95 ? "creating" : "failed";
}

function generateTags(random: SeededRandom, type: string): Record<string, unknown> {
  const tags: Record<string, unknown> = { role: random.pick(tagRoles) };
  if (random.chance(0.5)) tags.group = `group-${random.int(1, 20)}`;
  if (random.chance(0.3)) tags.build = random.int(1, 500);
  if (random.chance(0.3)) tags.certified = random.chance(0.5);
  if (type === "lx-dataset") tags.kernel_version = random.pick(["4.3.0", "5.10.0", "6.1.0"]);
  if (random.chance(0.1)) tags.meta = { team: `team-${random.int(1, 5)}`, cost_center: random.int(100, 999) };
  return tags;
}
