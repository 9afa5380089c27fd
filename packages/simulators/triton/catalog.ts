/**
 * Generated Triton catalogs: a deterministic mix of public admin images, the account's own images in
 * every state, and other accounts' shared, private and public images, as IMGAPI would hold them.
 */
import type { ImageState } from "../../providers/triton/schemas";
import type { SeededRandom } from "../kit";
import { isActivated, type FileCompression, type ImageRecord } from "./model";

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
