/**
 * One datacenter's IMGAPI as CloudAPI sees it: images in the IMGAPI model, creation from a machine that
 * settles later, and the update, clone, export, delete and import-from-datacenter rules
 * (TritonDataCenter/sdc-imgapi lib/images.js; CloudAPI's own parameter checks live in the HTTP layer).
 */
import { randomUUID } from "node:crypto";
import type { ImageState } from "../../providers/triton/schemas";
import { EffectLedger, SeededRandom } from "../kit";
import { generateImage, type SeedContext } from "./catalog";
import { CloudApiError, notFound, validationFailed } from "./errors";
import { applyFields, uuidPattern, validateImageFields } from "./fields";
import type { SimMachine } from "./machines";
import { comparePublished, isActivated, isVisibleTo, matchesListQuery, type ImageRecord, type ListQuery } from "./model";

export type CreationOutcome = { outcome: "active" } | { outcome: "failed"; error?: { code: string; message: string } };

export interface ImageServiceSettings {
  random: SeededRandom;
  /** Owner of public images (the datacenter's admin account). */
  adminUuid: string;
  createDelayMs: number;
  /** Creating and failed placeholders disappear after this long. */
  placeholderTtlMs: number;
  /** Whether images are stored in Manta (ExportImage needs it). */
  mantaStorage: boolean;
  mantaUrl: string;
}

const defaultFailure = { code: "PrepareImageDidNotRun", message: "prepare-image script did not indicate it was run (old guest tools in VM?)" };

export class ImageService {
  private readonly images = new Map<string, ImageRecord>();
  /** Creations in progress: when they finish and how. */
  private readonly pending = new Map<string, { readyAt: number; outcome: CreationOutcome; machine: SimMachine }>();
  /** When each creating/failed placeholder appeared, for reaping. */
  private readonly placeholderCreatedAt = new Map<string, number>();
  private readonly seedOrigins: string[] = [];
  createOutcome: CreationOutcome = { outcome: "active" };
  /** Every create, clone, update, export, delete and copy applied here (hooks such as `put` are not effects). */
  readonly effects = new EffectLedger();
  /** Creations that ended `failed`. */
  failedCreations = 0;

  constructor(readonly settings: ImageServiceSettings) {}

  /** ListImages for the caller, in IMGAPI's default order. */
  list(callerUuid: string, query: ListQuery): ImageRecord[] {
    return this.records().filter((image) => matchesListQuery(image, query, callerUuid));
  }

  /** Only a lower-case UUID is an id: names and upper-case UUIDs never match (CloudAPI UUID_RE). */
  findVisible(callerUuid: string, id: string): ImageRecord {
    if (!uuidPattern.test(id)) throw notFound(`${id} not found`);
    this.settle();
    const image = this.images.get(id);
    if (!image) throw notFound(`image ${id} not found`);
    if (!isVisibleTo(image, callerUuid)) throw notFound("image not found");
    return image;
  }

  /** CreateImageFromVm: a `creating` placeholder that becomes active or failed after the delay. */
  create(owner: string, fields: Record<string, unknown>, machine: SimMachine): ImageRecord {
    validateImageFields(fields, "invalid image data");
    const image: ImageRecord = {
      uuid: randomUUID(),
      name: String(fields.name),
      version: String(fields.version),
      owner,
      public: false,
      state: "creating",
      acl: [],
      files: [],
      requirements: {},
    };
    applyFields(image, fields);
    this.images.set(image.uuid, image);
    this.placeholderCreatedAt.set(image.uuid, Date.now());
    this.pending.set(image.uuid, { readyAt: Date.now() + this.settings.createDelayMs, outcome: this.createOutcome, machine });
    this.effects.record("create", `${image.name}@${image.version}`, image.uuid);
    return image;
  }

  update(callerUuid: string, image: ImageRecord, fields: Record<string, unknown>): ImageRecord {
    requireOwner(callerUuid, image);
    if (Object.keys(fields).length === 0) throw validationFailed("invalid image update data: no parameters provided");
    validateImageFields(fields, "invalid image update data");
    applyFields(image, fields);
    this.effects.record("update", image.uuid, image.uuid);
    return image;
  }

  /** CloneImage (sdc-imgapi apiCloneImage): the caller must be in the acl, even as owner; the clone keeps `disabled`. */
  clone(callerUuid: string, image: ImageRecord): ImageRecord {
    if (!isActivated(image)) throw validationFailed("image is not active", [{ field: "active", code: "Invalid" }]);
    if (!image.acl.includes(callerUuid)) {
      // IMGAPI's message has the account and the image the other way round; kept as the server sends it.
      throw new CloudApiError(422, "ImageNotShared", `Image ${callerUuid} is not shared with account ${image.uuid}`);
    }
    if (image.type === "docker") throw validationFailed("docker images cannot be cloned", [{ field: "type", code: "Invalid" }]);
    const clone = this.copyChain(image, callerUuid, image.state);
    this.effects.record("clone", image.uuid, clone.uuid);
    return clone;
  }

  exportTo(caller: { uuid: string; login: string }, image: ImageRecord, mantaPath: string): Record<string, string> {
    requireOwner(caller.uuid, image);
    if (!this.settings.mantaStorage) throw new CloudApiError(503, "StorageUnsupported", "This IMGAPI does not store images in Manta");
    if (mantaPath.split("/")[1] !== caller.login) {
      throw new CloudApiError(422, "NotMantaPathOwner", `manta_path ${mantaPath} is not owned by account ${caller.login}`);
    }
    const extension = { gzip: ".gz", bzip2: ".bz2", xz: ".xz", none: "" }[image.files[0]?.compression ?? "none"];
    // A directory (here: trailing slash, or the account's top-level stor/public) gets NAME-VER files.
    const isDirectory = mantaPath.endsWith("/") || /^\/[^/]+\/(stor|public)$/.test(mantaPath);
    const base = isDirectory ? `${mantaPath.replace(/\/+$/, "")}/${image.name}-${image.version}` : mantaPath;
    this.effects.record("export", image.uuid, image.uuid);
    return { manta_url: this.settings.mantaUrl, image_path: `${base}.zfs${extension}`, manifest_path: `${base}.imgmanifest` };
  }

  delete(callerUuid: string, image: ImageRecord): void {
    requireOwner(callerUuid, image);
    const dependents = [...this.images.values()].filter((candidate) => candidate.origin === image.uuid).map((child) => child.uuid);
    if (dependents.length > 0) {
      const message = `image "${image.uuid}" has ${dependents.length} dependent incremental image(s): ${dependents.join(", ")}`;
      throw new CloudApiError(422, "ImageHasDependentImages", message);
    }
    this.remove(image.uuid);
    this.effects.record("delete", image.uuid, image.uuid);
  }

  /**
   * ImportImageFromDatacenter's checks (sdc-imgapi lib/images.js apiImportImageFromDatacenter): the
   * caller's own active image, not here yet, whose admin origin (if any) is already here. Returns the
   * images to copy, the caller's own origins first.
   */
  planImport(source: ImageService, callerUuid: string, uuid: string): ImageRecord[] {
    const image = source.findVisible(callerUuid, uuid);
    if (image.state !== "active") throw validationFailed(`Cannot import image ${uuid} - image is not active.`);
    if (image.owner !== callerUuid) throw new CloudApiError(401, "Unauthorized", `Cannot import image ${uuid} - you are not the owner.`);
    if (this.images.has(uuid)) throw new CloudApiError(409, "ImageUuidAlreadyExists", `image uuid "${uuid}" already exists`);
    const chain = [image];
    for (let origin = source.get(image.origin); origin?.owner === callerUuid; origin = source.get(origin.origin)) chain.push(origin);
    const base = source.get(chain[chain.length - 1]?.origin);
    if (base && !this.images.has(base.uuid)) {
      throw notFound(`Unable to import - origin image ${base.uuid} must already exist in the datacenter (as this image is not owned by you).`);
    }
    return chain.toReversed();
  }

  /** Copies the image and its own origins here, keeping uuids and published_at. */
  importFrom(source: ImageService, callerUuid: string, uuid: string): ImageRecord {
    for (const record of this.planImport(source, callerUuid, uuid)) {
      if (this.images.has(record.uuid)) continue;
      this.put(structuredClone(record));
      this.effects.record("copy", record.uuid, record.uuid);
    }
    return this.images.get(uuid) as ImageRecord;
  }

  /** Finishes creations whose time has come and reaps old placeholders. */
  settle(): void {
    const now = Date.now();
    for (const [uuid, job] of this.pending) {
      const image = this.images.get(uuid);
      if (now < job.readyAt || !image) continue;
      this.pending.delete(uuid);
      if (job.outcome.outcome === "failed") {
        this.failedCreations++;
        image.state = "failed";
        image.error = job.outcome.error ?? defaultFailure;
      } else {
        this.finishCreation(image, job.machine);
      }
    }
    for (const [uuid, createdAt] of this.placeholderCreatedAt) {
      const state = this.images.get(uuid)?.state;
      if (state !== "creating" && state !== "failed") this.placeholderCreatedAt.delete(uuid);
      else if (now - createdAt > this.settings.placeholderTtlMs) this.remove(uuid);
    }
  }

  // --- hooks for tests, benchmarks and the HTTP layer ---------------------------------------------

  get(uuid: string | undefined): ImageRecord | undefined {
    return uuid === undefined ? undefined : this.images.get(uuid);
  }

  /** Every image, in IMGAPI's default order: published_at ascending, unpublished first. */
  records(): ImageRecord[] {
    this.settle();
    return [...this.images.values()].toSorted(comparePublished);
  }

  put(image: ImageRecord): ImageRecord {
    this.images.set(image.uuid, image);
    return image;
  }

  remove(uuid: string): boolean {
    this.pending.delete(uuid);
    this.placeholderCreatedAt.delete(uuid);
    return this.images.delete(uuid);
  }

  /** Adds `count` generated images; the same seed and call sequence gives the same catalog. */
  seed(count: number, owners: Pick<SeedContext, "accountUuid" | "otherOwners">, random?: SeededRandom): ImageRecord[] {
    const context: SeedContext = {
      random: random ?? this.settings.random,
      adminUuid: this.settings.adminUuid,
      startIndex: this.images.size,
      origins: this.seedOrigins,
      ...owners,
    };
    return Array.from({ length: count }, (_, index) => this.put(generateImage(context, index)));
  }

  private finishCreation(image: ImageRecord, machine: SimMachine): void {
    const origin = this.get(machine.image);
    const { random } = this.settings;
    image.state = "active";
    image.os = origin?.os ?? "smartos";
    image.type = origin?.type ?? "zone-dataset";
    image.files = [{ compression: "gzip", sha1: random.hex(40), size: random.int(50, 2000) * 1_048_576 }];
    image.published_at = new Date().toISOString();
    image.origin = machine.image;
    image.requirements = { ...origin?.requirements, brand: machine.brand ?? origin?.requirements.brand };
    if (image.type === "zvol") image.image_size = origin?.image_size ?? 10240;
    if (image.type === "lx-dataset") image.tags = { ...image.tags, kernel_version: "5.10.0" };
  }

  /** A clone owned by `owner`; non-admin origins in the chain are cloned too, as disabled images. */
  private copyChain(image: ImageRecord, owner: string, state: ImageState): ImageRecord {
    const origin = this.get(image.origin);
    const clonedOrigin = origin && origin.owner !== this.settings.adminUuid ? this.copyChain(origin, owner, "disabled").uuid : image.origin;
    const copy: ImageRecord = {
      ...structuredClone(image),
      uuid: randomUUID(),
      owner,
      acl: [],
      state,
      published_at: new Date().toISOString(),
      origin: clonedOrigin,
    };
    return this.put(copy);
  }
}

function requireOwner(callerUuid: string, image: ImageRecord): void {
  if (image.owner !== callerUuid) {
    throw new CloudApiError(422, "NotImageOwner", `account ${callerUuid} is not the owner of image ${image.uuid}`);
  }
}
