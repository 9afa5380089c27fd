// Deterministic, realistic Cox Edge catalogs for the simulator: the same options always give the same
// images, at any size, with unique ids and names that pass the documented family/tag rules.
import { createHash } from "node:crypto";
import { SeededRandom } from "../kit/random";
import { stackpathStackId, type CoxEdgeImage, type ImageStatus } from "../../providers/coxedge/schemas";

/** StackPath's slug, as in the API documentation's examples. */
export const stackpathSlug = "stackpath-edge";

export interface Stack {
  stackId: string;
  slug: string;
}

/** The stack that holds an environment's custom images: a stable UUID-shaped id derived from its name. */
export function environmentStack(environment: string): Stack {
  const hex = createHash("sha256").update(`coxedge-stack:${environment}`).digest("hex");
  const stackId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { stackId, slug: environment };
}

export function imageId(stackId: string, family: string, tag: string): string {
  return `${stackId}/${family}/${tag}`;
}

export function buildImage(
  stack: Stack,
  fields: Pick<CoxEdgeImage, "family" | "tag" | "createdAt" | "description" | "status">,
): CoxEdgeImage {
  // Keys in the documented order, so responses read like the API's own examples.
  return {
    stackId: stack.stackId,
    id: imageId(stack.stackId, fields.family, fields.tag),
    slug: stack.slug,
    family: fields.family,
    tag: fields.tag,
    createdAt: fields.createdAt,
    description: fields.description,
    reference: `${stack.slug}/${fields.family}:${fields.tag}`,
    status: fields.status,
  };
}

/** RFC 3339 UTC with microseconds, the precision the real API returns. */
export function formatCreatedAt(epochMs: number, microseconds = 0): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => {
    return `.${ms}${String(microseconds % 1000).padStart(3, "0")}Z`;
  });
}

export interface CatalogOptions {
  /** Total number of images. */
  images: number;
  /** Share of default (StackPath) images; the rest are custom. Default 0.3. */
  defaultShare?: number;
  /** PRNG seed; same seed, same catalog. Default 1. */
  seed?: number;
}

// The documentation's own examples (centos7 and ubuntu, tag v20201110) come first.
const defaultFamilies = [
  "centos7", "ubuntu", "centos8", "ubuntu-1804-lts", "ubuntu-2004-lts", "ubuntu-2204-lts", "debian-10",
  "debian-11", "debian-12", "rocky-8", "rocky-9", "almalinux-8", "almalinux-9", "windows-server-2019",
  "windows-server-2022", "fedora-coreos",
];
const customRoles = ["web", "api", "build", "edge", "cache", "db", "ml", "game", "media", "proxy"];
const customKinds = ["server", "worker", "agent", "node", "gateway", "runner", "base", "frontend"];
const customFamilies = customRoles.flatMap((role) => customKinds.map((kind) => `${role}-${kind}`));

const dayMs = 86_400_000;
const defaultsStart = Date.UTC(2020, 10, 10);
const customsStart = Date.UTC(2021, 2, 1);

/** Custom images are mostly READY; the rest are spread over every other documented status. */
const customStatusWeights: ReadonlyArray<readonly [ImageStatus, number]> = [
  ["READY", 0.9],
  ["PENDING", 0.04],
  ["PROCESSING", 0.03],
  ["FAILED", 0.02],
  ["IMAGE_STATUS_UNKNOWN", 0.01],
];

export function generateCatalog(options: CatalogOptions, customStack: Stack): CoxEdgeImage[] {
  const random = new SeededRandom(options.seed ?? 1);
  const defaultCount = Math.round(options.images * (options.defaultShare ?? 0.3));
  const stackpath: Stack = { stackId: stackpathStackId, slug: stackpathSlug };
  const images: CoxEdgeImage[] = [];

  for (let i = 0; i < defaultCount; i++) {
    const family = pick(defaultFamilies, i);
    // Each family's n-th image is released n days after the catalog start: unique tags per family.
    const release = Math.floor(i / defaultFamilies.length);
    const day = defaultsStart + release * dayMs;
    images.push(
      buildImage(stackpath, {
        family,
        tag: `v${compactDate(day)}`,
        createdAt: formatCreatedAt(day + random.int(0, dayMs - 1), random.int(0, 999)),
        description: `Image using ${family}`,
        status: "READY",
      }),
    );
  }

  for (let i = 0; i < options.images - defaultCount; i++) {
    const familyIndex = i % customFamilies.length;
    const family = pick(customFamilies, familyIndex);
    const build = Math.floor(i / customFamilies.length);
    const day = customsStart + build * dayMs;
    const tag = customTag(familyIndex, build, day);
    images.push(
      buildImage(customStack, {
        family,
        tag,
        createdAt: formatCreatedAt(day + random.int(0, dayMs - 1), random.int(0, 999)),
        description: random.chance(0.05) ? "" : `${family} ${tag}`,
        status: weightedStatus(random.next()),
      }),
    );
  }
  return images;
}

/** Each custom family sticks to one tagging convention, as teams do; all are unique per build number. */
function customTag(familyIndex: number, build: number, day: number): string {
  switch (familyIndex % 4) {
    case 0:
      return `v${compactDate(day)}`;
    case 1:
      return `${1 + Math.floor(build / 100)}.${Math.floor(build / 10) % 10}.${build % 10}`;
    case 2:
      return `release_${new Date(day).toISOString().slice(0, 10).replaceAll("-", ".")}`;
    default:
      return `Build-${1000 + build}`;
  }
}

function compactDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10).replaceAll("-", "");
}

function weightedStatus(roll: number): ImageStatus {
  let cumulative = 0;
  for (const [status, weight] of customStatusWeights) {
    cumulative += weight;
    if (roll < cumulative) return status;
  }
  return "READY";
}

function pick<T>(items: readonly T[], index: number): T {
  return items[index % items.length] as T;
}