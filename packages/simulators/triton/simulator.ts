/**
 * A local CloudAPI images service (notes: /shared/notes/triton.md §10). Same paths, query semantics,
 * JSON shapes, status codes, error bodies and response headers as CloudAPI 9.20 over IMGAPI, with
 * real HTTP Signature verification, stateful image creation, seedable catalogs and fault injection.
 */
import { createHash, generateKeyPairSync, randomUUID } from "node:crypto";
import sshpk from "sshpk";
import {
  BodyTooLargeError,
  SeededRandom,
  startSimServer,
  TokenBucketLimiter,
  type FaultController,
  type RequestCounters,
  type SimRequest,
  type SimResponse,
} from "../kit";
import type { ImageState } from "../../providers/triton/schemas";
import { authenticate, simKeyFromOpenSsh, type SimAccount } from "./auth";
import {
  comparePublished,
  generateImage,
  isActivated,
  isVisibleTo,
  matchesListQuery,
  negotiateVersion,
  translate,
  type ApiVersion,
  type ImageRecord,
  type ListQuery,
  type SeedContext,
} from "./model";

export type { ImageRecord } from "./model";

export type SimKeyType = "ed25519" | "rsa" | "ecdsa";

export interface TritonSimulatorOptions {
  /** Port on 127.0.0.1; random when omitted. */
  port?: number;
  /** Account login. Default "imagesync". */
  account?: string;
  accountUuid?: string;
  /** Key pair generated for the account when `privateKey` is not given. Default ed25519. */
  keyType?: SimKeyType;
  /** The account's private key (PEM or OpenSSH); its public key is registered. */
  privateKey?: string;
  /** Images generated at start. Default 0. */
  images?: number;
  /** Seed for generated catalogs and ids. Default 1. */
  seed?: number;
  /** How long a new image stays `creating`. Default 50 ms. */
  createDelayMs?: number;
  /** Creating and failed placeholders disappear after this long. Default 7 days. */
  placeholderTtlMs?: number;
  /** Allowed |now − Date|. Default 300 s. */
  clockSkewSeconds?: number;
  /** CloudAPI's per-login token bucket; off unless given. CloudAPI's own setting is burst 30, rate 10. */
  throttle?: ThrottleSettings | false;
  /** Whether the IMGAPI behind it stores images in Manta (ExportImage needs it). Default true. */
  mantaStorage?: boolean;
  mantaUrl?: string;
  datacenterName?: string;
}

export interface ThrottleSettings {
  burst: number;
  rate: number;
}

export interface GeneratedKeyPair {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** OpenSSH public key line. */
  publicKey: string;
  /** MD5 fingerprint, colon hex, as CloudAPI names keys. */
  fingerprint: string;
}

export interface SimMachine {
  id: string;
  owner: string;
  state: "running" | "stopped";
  /** The image the instance was provisioned from; becomes the new image's origin. */
  image?: string;
  brand?: string;
  docker: boolean;
}

export interface TritonSimulator {
  url: string;
  /** Account login. */
  account: string;
  accountUuid: string;
  /** Owner of the generated public images. */
  adminUuid: string;
  /** MD5 fingerprint of the account key: the `keyId` option for TritonClient. */
  keyId: string;
  /** The keyId as sent in signatures: `/<account>/keys/<fingerprint>`. */
  signatureKeyId: string;
  privateKeyPem: string;
  /** OpenSSH public key line. */
  publicKey: string;
  faults: FaultController;
  /** Requests per endpoint, e.g. `counters.get("ListImages")`. */
  counters: RequestCounters;

  /** Adds `count` generated images; the same seed and call sequence gives the same catalog. */
  seed(count: number, options?: { seed?: number }): ImageRecord[];
  /** Adds an image as IMGAPI would hold it; defaults make it an active public admin image. */
  addImage(image: Partial<ImageRecord> & { name: string }): ImageRecord;
  /** Changes an image in place, as if someone changed it upstream. */
  modifyImage(uuid: string, changes: Partial<ImageRecord>): ImageRecord;
  removeImage(uuid: string): boolean;
  getImageRecord(uuid: string): ImageRecord | undefined;
  /** Every image, in IMGAPI's default order. */
  imageRecords(): ImageRecord[];
  /** Changes description and tags of a deterministic `fraction` of images; returns their uuids. */
  mutateImages(fraction: number, options?: { seed?: number }): string[];
  /** Adds an instance to create images from; default stopped, owned by the account. */
  addMachine(machine?: Partial<SimMachine>): SimMachine;
  /** Registers another account; a key pair is generated unless a public key is given. */
  addAccount(login: string, options?: { uuid?: string; publicKey?: string; keyType?: SimKeyType }): SimAccountCredentials;
  /** Registers an RBAC sub-user of the account. */
  addUser(login: string, options?: { publicKey?: string; keyType?: SimKeyType }): SimAccountCredentials;
  /** Registers another key for the account (or one of its sub-users). */
  addKey(publicKey: string, options?: { name?: string; user?: string }): string;
  setCreateDelayMs(ms: number): void;
  /** How image creations started from now on end. */
  setCreateOutcome(outcome: "active" | "failed", error?: { code: string; message: string }): void;
  setThrottle(settings: ThrottleSettings | false): void;
  close(): Promise<void>;
}

export interface SimAccountCredentials {
  login: string;
  uuid: string;
  fingerprint: string;
  publicKey: string;
  /** Present when the simulator generated the key. */
  privateKeyPem?: string;
}

const serverVersion = "cloudapi/9.20.0";
const maxBodyBytes = 100_000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const namePattern = /^[A-Za-z0-9._/ -]+$/;
const versionPattern = /^[A-Za-z0-9._/+-]+$/;
const listStates = new Set<string>(["active", "disabled", "unactivated", "creating", "failed", "all"]);
const updatableFields = ["name", "version", "description", "homepage", "eula", "acl", "tags"] as const;

type Operation =
  | "Ping"
  | "ListImages"
  | "HeadImages"
  | "GetImage"
  | "HeadImage"
  | "CreateImageFromMachine"
  | "UpdateImage"
  | "CloneImage"
  | "ExportImage"
  | "DeleteImage"
  | "ImageAction"
  | "ImagesAction"
  | "MethodNotAllowed"
  | "NotFound";

interface Route {
  operation: Operation;
  login?: string;
  id?: string;
  /** Methods the matched path supports, for 405 and CORS. */
  methods: string[];
}

class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function generateKeyPair(type: SimKeyType = "ed25519"): GeneratedKeyPair {
  const { privateKey } =
    type === "rsa"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : type === "ecdsa"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("ed25519");
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return { privateKeyPem, ...publicKeyOf(privateKeyPem) };
}

function publicKeyOf(privateKeyText: string): { publicKey: string; fingerprint: string } {
  const key = sshpk.parsePrivateKey(privateKeyText, "auto");
  return { publicKey: key.toPublic().toString("ssh"), fingerprint: key.fingerprint("md5").toString("hex") };
}

export async function startTritonSimulator(options: TritonSimulatorOptions = {}): Promise<TritonSimulator> {
  const random = new SeededRandom(options.seed ?? 1);
  const login = options.account ?? "imagesync";
  const accountUuid = options.accountUuid ?? random.uuid();
  const adminUuid = "930896af-bf8c-48d4-885c-6573a94b1853";
  const otherOwners = Array.from({ length: 5 }, () => random.uuid());
  const clockSkewSeconds = options.clockSkewSeconds ?? 300;
  const placeholderTtlMs = options.placeholderTtlMs ?? 7 * 24 * 3_600_000;
  const mantaUrl = options.mantaUrl ?? "https://us-central.manta.mnx.io";
  const datacenterName = options.datacenterName ?? "us-central-1";
  const mantaStorage = options.mantaStorage ?? true;

  const privateKeyPem = options.privateKey ?? generateKeyPair(options.keyType).privateKeyPem;
  const { publicKey, fingerprint } = publicKeyOf(privateKeyPem);
  const account: SimAccount = { login, uuid: accountUuid, keys: [simKeyFromOpenSsh(publicKey)], users: new Map() };
  const accounts = new Map<string, SimAccount>([[login, account]]);

  const images = new Map<string, ImageRecord>();
  const machines = new Map<string, SimMachine>();
  /** Creations in progress: when they finish and how. */
  const pending = new Map<string, { readyAt: number; outcome: "active" | "failed"; error?: ImageRecord["error"]; machine: SimMachine }>();
  /** When each creating/failed placeholder appeared, for reaping. */
  const placeholderCreatedAt = new Map<string, number>();
  const seedOrigins: string[] = [];
  let createDelayMs = options.createDelayMs ?? 50;
  let createOutcome: { outcome: "active" | "failed"; error?: ImageRecord["error"] } = { outcome: "active" };
  let throttle = options.throttle ? new TokenBucketLimiter(options.throttle) : undefined;

  const server = await startSimServer({
    port: options.port,
    handle,
    errorBody,
    classify: (request) => route(request).operation,
    responseHeaders,
  });

  function errorBody(status: number): { code: string; message: string } {
    if (status === 429) return throttledBody();
    if (status === 503 || status === 504) return { code: "ServiceUnavailable", message: "CloudAPI service is currently unavailable" };
    if (status === 500) return { code: "InternalError", message: "Internal Error" };
    if (status === 401) return { code: "InvalidCredentials", message: "Invalid authorization credentials supplied" };
    if (status === 404) return { code: "ResourceNotFound", message: "resource not found" };
    return { code: "UnknownError", message: `HTTP ${status}` };
  }

  function throttledBody(): { code: string; message: string } {
    const rate = throttle?.options.rate ?? 10;
    return { code: "TooManyRequestsError", message: `You have exceeded your request rate of ${rate} r/s.` };
  }

  async function handle(request: SimRequest): Promise<SimResponse> {
    try {
      return await dispatch(request);
    } catch (error) {
      if (error instanceof SimError) {
        return { status: error.status, body: { code: error.code, message: error.message, ...error.extra } };
      }
      throw error;
    }
  }

  async function dispatch(request: SimRequest): Promise<SimResponse> {
    settlePending();
    const matched = route(request);
    if (matched.operation === "NotFound") throw new SimError(404, "ResourceNotFound", `${request.path} does not exist`);
    if (matched.operation === "MethodNotAllowed") {
      const body = { code: "MethodNotAllowedError", message: `${request.method} is not allowed` };
      return { status: 405, headers: { allow: matched.methods.join(", ") }, body };
    }
    if (matched.operation === "Ping") {
      return {
        status: 200,
        headers: { "triton-datacenter-name": datacenterName },
        body: { ping: "pong", cloudapi: { versions: ["7.0.0", "7.1.0", "7.2.0", "7.3.0", "8.0.0", "9.0.0"] } },
      };
    }

    const range = headerValue(request, "accept-version") ?? headerValue(request, "x-api-version");
    const version = negotiateVersion(range);
    if (!version) throw new SimError(400, "InvalidVersion", `${range} is not supported by ${request.method} ${request.path}`);

    const auth = authenticate(request, accounts, { now: Date.now(), clockSkewSeconds });
    if (!auth.ok) throw new SimError(auth.status, auth.code, auth.message);
    if (matched.login !== "my" && matched.login !== auth.account.login) {
      throw new SimError(403, "NotAuthorized", `You do not have permission to access ${request.path} (${rbacAction(matched.operation)})`);
    }
    if (throttle && !throttle.take(auth.account.login)) throw new SimError(429, "TooManyRequestsError", throttledBody().message);

    const caller = auth.account;
    const params = { ...Object.fromEntries(request.query), ...(await readParams(request)) };
    switch (matched.operation) {
      case "ListImages":
      case "HeadImages":
        return { status: 200, body: listImages(caller, request.query, version) };
      case "GetImage":
      case "HeadImage":
        return { status: 200, body: translate(findVisibleImage(caller, matched.id ?? ""), version) };
      case "CreateImageFromMachine":
        return createImage(caller, params, version);
      case "ImagesAction":
        return imagesAction(request.query.get("action") ?? "");
      case "UpdateImage":
      case "CloneImage":
      case "ExportImage":
      case "ImageAction":
        return imageAction(caller, matched.id ?? "", request.query.get("action") ?? "", params, version);
      case "DeleteImage":
        deleteImage(caller, matched.id ?? "");
        return { status: 204 };
      default:
        throw new SimError(500, "InternalError", "Internal Error");
    }
  }

  function listImages(caller: SimAccount, query: URLSearchParams, version: ApiVersion): Record<string, unknown>[] {
    // CloudAPI forwards only truthy params.
    const param = (name: string) => query.get(name) || undefined;
    const state = param("state") ?? "active";
    if (!listStates.has(state)) throw new SimError(422, "InvalidParameter", `invalid state: "${state}"`);
    const publicParam = param("public");
    if (publicParam !== undefined && publicParam !== "true" && publicParam !== "false") {
      throw new SimError(422, "InvalidParameter", `invalid public: "${publicParam}"`);
    }
    let type = param("type");
    if (version[0] < 8 && type !== undefined) {
      if (type !== "smartmachine" && type !== "virtualmachine") {
        throw new SimError(409, "InvalidArgument", `image type ${type} is not a valid type`);
      }
      type = type === "virtualmachine" ? "zvol" : "zone-dataset";
    }
    const listQuery: ListQuery = {
      name: param("name"),
      version: param("version"),
      os: param("os"),
      public: publicParam === undefined ? undefined : publicParam === "true",
      state: state as ListQuery["state"],
      owner: param("owner"),
      type: type ?? "!docker",
    };
    return sortedImages()
      .filter((image) => matchesListQuery(image, listQuery, caller.uuid))
      .map((image) => translate(image, version));
  }

  /** GetImage lookup: 404 with CloudAPI's wording for missing, invisible or non-uuid ids. */
  function findVisibleImage(caller: SimAccount, id: string): ImageRecord {
    if (!uuidPattern.test(id)) {
      const named = sortedImages().filter((image) => image.name === id && isVisibleTo(image, caller.uuid));
      const latest = named[named.length - 1];
      if (!latest) throw new SimError(404, "ResourceNotFound", `${id} not found`);
      return latest;
    }
    const image = images.get(id.toLowerCase());
    if (!image) throw new SimError(404, "ResourceNotFound", `image ${id} not found`);
    if (!isVisibleTo(image, caller.uuid)) throw new SimError(404, "ResourceNotFound", "image not found");
    return image;
  }

  function createImage(caller: SimAccount, params: Record<string, unknown>, version: ApiVersion): SimResponse {
    if (!params.machine) throw new SimError(409, "MissingParameter", "machine is a required argument");
    if (!params.name) throw new SimError(409, "MissingParameter", "Image name is a required argument");
    if (!params.version) throw new SimError(409, "MissingParameter", "Image version is a required argument");
    const machineId = String(params.machine);
    const machine = machines.get(machineId);
    if (!machine || machine.owner !== caller.uuid) {
      throw new SimError(422, "InvalidParameter", `could not get VM "${machineId}" details`, {
        errors: [{ field: "vm_uuid", code: "Invalid" }],
      });
    }
    if (machine.docker) {
      const message = "cannot create an image from a Docker container";
      throw new SimError(422, "InvalidParameter", message, { errors: [{ field: "vm_uuid", code: "Invalid", message }] });
    }
    const fields = pickDefined(params, updatableFields);
    validateImageFields(fields, "invalid image data");

    const image: ImageRecord = {
      uuid: randomUUID(),
      name: String(fields.name),
      version: String(fields.version),
      owner: caller.uuid,
      public: false,
      state: "creating",
      acl: [],
      files: [],
      requirements: {},
    };
    applyFields(image, fields);
    images.set(image.uuid, image);
    placeholderCreatedAt.set(image.uuid, Date.now());
    pending.set(image.uuid, { readyAt: Date.now() + createDelayMs, ...createOutcome, machine });

    // The 201 body is translate() of the request data: no owner or public (notes §3.3).
    const body = translate(image, version);
    delete body.owner;
    delete body.public;
    return {
      status: 201,
      headers: { location: `/${caller.login}/images/${image.uuid}`, "x-joyent-jobid": randomUUID() },
      body,
    };
  }

  function imageAction(
    caller: SimAccount,
    id: string,
    action: string,
    params: Record<string, unknown>,
    version: ApiVersion,
  ): SimResponse {
    if (!action) throw new SimError(409, "MissingParameter", "action is a required argument");
    if (action === "update") return { status: 200, body: translate(updateImage(caller, id, params), version) };
    if (action === "clone") return { status: 200, body: translate(cloneImage(caller, id), version) };
    if (action === "export") return { status: 200, body: exportImage(caller, id, params) };
    throw new SimError(409, "InvalidArgument", `action ${action} is not a valid argument`);
  }

  function updateImage(caller: SimAccount, id: string, params: Record<string, unknown>): ImageRecord {
    const image = findVisibleImage(caller, id);
    requireOwner(caller, image);
    const fields = Object.fromEntries(updatableFields.filter((field) => field in params).map((field) => [field, params[field]]));
    if (Object.keys(fields).length === 0) {
      throw new SimError(422, "ValidationFailed", "invalid image update data: no parameters provided");
    }
    validateImageFields(fields, "invalid image update data");
    applyFields(image, fields);
    return image;
  }

  function cloneImage(caller: SimAccount, id: string): ImageRecord {
    const image = findVisibleImage(caller, id);
    if (!isActivated(image)) throw new SimError(422, "ValidationFailed", "image is not active");
    if (!image.acl.includes(caller.uuid)) {
      throw new SimError(422, "ImageNotShared", `Image ${image.uuid} is not shared with account ${caller.uuid}`);
    }
    if (image.type === "docker") throw new SimError(422, "InvalidParameter", "cannot clone a docker image");
    return copyImage(image, caller.uuid, "active");
  }

  /** A clone owned by `owner`; non-admin origins in the chain are cloned too, as disabled images. */
  function copyImage(image: ImageRecord, owner: string, state: ImageState): ImageRecord {
    const origin = image.origin === undefined ? undefined : images.get(image.origin);
    const clonedOrigin = origin && origin.owner !== adminUuid ? copyImage(origin, owner, "disabled").uuid : image.origin;
    const copy: ImageRecord = {
      ...structuredClone(image),
      uuid: randomUUID(),
      owner,
      acl: [],
      state,
      published_at: new Date().toISOString(),
      origin: clonedOrigin,
    };
    images.set(copy.uuid, copy);
    return copy;
  }

  function exportImage(caller: SimAccount, id: string, params: Record<string, unknown>): Record<string, string> {
    const mantaPath = typeof params.manta_path === "string" ? params.manta_path : "";
    if (!mantaPath) throw new SimError(409, "MissingParameter", "Image destination manta_path is a required argument");
    const image = findVisibleImage(caller, id);
    requireOwner(caller, image);
    if (!mantaStorage) throw new SimError(503, "StorageUnsupported", "This IMGAPI does not store images in Manta");
    if (mantaPath.split("/")[1] !== caller.login) {
      throw new SimError(422, "NotMantaPathOwner", `manta_path ${mantaPath} is not owned by account ${caller.login}`);
    }
    const extension = { gzip: ".gz", bzip2: ".bz2", xz: ".xz", none: "" }[image.files[0]?.compression ?? "none"];
    // A directory (here: trailing slash, or the account's top-level stor/public) gets NAME-VER files.
    const isDirectory = mantaPath.endsWith("/") || /^\/[^/]+\/(stor|public)$/.test(mantaPath);
    const base = isDirectory ? `${mantaPath.replace(/\/+$/, "")}/${image.name}-${image.version}` : mantaPath;
    return { manta_url: mantaUrl, image_path: `${base}.zfs${extension}`, manifest_path: `${base}.imgmanifest` };
  }

  function deleteImage(caller: SimAccount, id: string): void {
    const image = findVisibleImage(caller, id);
    requireOwner(caller, image);
    const dependents = [...images.values()].filter((candidate) => candidate.origin === image.uuid).map((child) => child.uuid);
    if (dependents.length > 0) {
      throw new SimError(
        422,
        "ImageHasDependentImages",
        `image "${image.uuid}" has ${dependents.length} dependent incremental image(s): ${dependents.join(", ")}`,
      );
    }
    removeRecord(image.uuid);
  }

  /** Finishes creations whose time has come and reaps old placeholders. */
  function settlePending(): void {
    const now = Date.now();
    for (const [uuid, job] of pending) {
      const image = images.get(uuid);
      if (now < job.readyAt || !image) continue;
      pending.delete(uuid);
      if (job.outcome === "failed") {
        image.state = "failed";
        image.error = job.error ?? {
          code: "PrepareImageDidNotRun",
          message: "prepare-image script did not indicate it was run (old guest tools in VM?)",
        };
        continue;
      }
      finishCreation(image, job.machine);
    }
    for (const [uuid, createdAt] of placeholderCreatedAt) {
      const image = images.get(uuid);
      const isPlaceholder = image?.state === "creating" || image?.state === "failed";
      if (!isPlaceholder) placeholderCreatedAt.delete(uuid);
      else if (now - createdAt > placeholderTtlMs) removeRecord(uuid);
    }
  }

  function finishCreation(image: ImageRecord, machine: SimMachine): void {
    const origin = machine.image === undefined ? undefined : images.get(machine.image);
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

  function removeRecord(uuid: string): boolean {
    pending.delete(uuid);
    placeholderCreatedAt.delete(uuid);
    return images.delete(uuid);
  }

  function sortedImages(): ImageRecord[] {
    return [...images.values()].toSorted(comparePublished);
  }

  function registerAccount(holder: { keys: SimAccount["keys"] }, keySource: { publicKey?: string; keyType?: SimKeyType }) {
    const generated = keySource.publicKey === undefined ? generateKeyPair(keySource.keyType) : undefined;
    const key = simKeyFromOpenSsh(keySource.publicKey ?? generated?.publicKey ?? "");
    holder.keys.push(key);
    return { fingerprint: key.fingerprint, publicKey: key.openssh, privateKeyPem: generated?.privateKeyPem };
  }

  if (options.images) seed(options.images);

  function seed(count: number, seedOptions: { seed?: number } = {}): ImageRecord[] {
    const context: SeedContext = {
      random: seedOptions.seed === undefined ? random : new SeededRandom(seedOptions.seed),
      accountUuid,
      adminUuid,
      otherOwners,
      startIndex: images.size,
      origins: seedOrigins,
    };
    const added: ImageRecord[] = [];
    for (let index = 0; index < count; index++) {
      const image = generateImage(context, index);
      images.set(image.uuid, image);
      added.push(image);
    }
    return added;
  }

  return {
    url: server.url,
    account: login,
    accountUuid,
    adminUuid,
    keyId: fingerprint,
    signatureKeyId: `/${login}/keys/${fingerprint}`,
    privateKeyPem,
    publicKey,
    faults: server.faults,
    counters: server.counters,
    seed,
    addImage(input) {
      const image: ImageRecord = {
        uuid: randomUUID(),
        version: "1.0.0",
        os: "smartos",
        type: "zone-dataset",
        owner: adminUuid,
        public: true,
        state: "active",
        acl: [],
        files: [{ compression: "gzip", sha1: random.hex(40), size: 104_857_600 }],
        published_at: new Date().toISOString(),
        requirements: {},
        ...input,
      };
      images.set(image.uuid, image);
      return image;
    },
    modifyImage(uuid, changes) {
      const image = images.get(uuid);
      if (!image) throw new Error(`no image ${uuid}`);
      Object.assign(image, changes);
      return image;
    },
    removeImage: removeRecord,
    getImageRecord(uuid) {
      settlePending();
      return images.get(uuid);
    },
    imageRecords() {
      settlePending();
      return sortedImages();
    },
    mutateImages(fraction, mutateOptions = {}) {
      const picker = mutateOptions.seed === undefined ? random : new SeededRandom(mutateOptions.seed);
      const changed: string[] = [];
      for (const image of images.values()) {
        if (!picker.chance(fraction)) continue;
        image.description = `${image.name} ${image.version} (revised ${picker.hex(6)})`;
        image.tags = { ...image.tags, revision: picker.int(1, 1_000_000) };
        changed.push(image.uuid);
      }
      return changed;
    },
    addMachine(input = {}) {
      const machine: SimMachine = { id: randomUUID(), owner: accountUuid, state: "stopped", docker: false, ...input };
      machines.set(machine.id, machine);
      return machine;
    },
    addAccount(accountLogin, accountOptions = {}) {
      const other: SimAccount = { login: accountLogin, uuid: accountOptions.uuid ?? randomUUID(), keys: [], users: new Map() };
      accounts.set(accountLogin, other);
      return { login: accountLogin, uuid: other.uuid, ...registerAccount(other, accountOptions) };
    },
    addUser(userLogin, userOptions = {}) {
      const user = { login: userLogin, uuid: randomUUID(), keys: [] };
      account.users.set(userLogin, user);
      return { login: userLogin, uuid: user.uuid, ...registerAccount(user, userOptions) };
    },
    addKey(publicKeyLine, keyOptions = {}) {
      const holder = keyOptions.user === undefined ? account : account.users.get(keyOptions.user);
      if (!holder) throw new Error(`no user ${keyOptions.user}`);
      const key = simKeyFromOpenSsh(publicKeyLine, keyOptions.name);
      holder.keys.push(key);
      return key.fingerprint;
    },
    setCreateDelayMs(ms) {
      createDelayMs = ms;
    },
    setCreateOutcome(outcome, error) {
      createOutcome = { outcome, error };
    },
    setThrottle(settings) {
      throttle = settings ? new TokenBucketLimiter(settings) : undefined;
    },
    close: server.close,
  };
}

/** restify fullResponse headers (notes §1), on every response including injected faults. */
function responseHeaders(request: SimRequest, _status: number, body: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    server: serverVersion,
    "api-version": "9.0.0",
    "request-id": headerValue(request, "request-id") ?? headerValue(request, "x-request-id") ?? randomUUID(),
    "response-time": String(Date.now() - request.receivedAt),
    "access-control-allow-origin": "*",
    "access-control-allow-headers":
      "Accept, Accept-Version, Content-Length, Content-MD5, Content-Type, Date, Api-Version, Response-Time",
    "access-control-allow-methods": route(request).methods.join(", "),
    "access-control-expose-headers": "Api-Version, Request-Id, Response-Time",
  };
  if (body !== undefined) headers["content-md5"] = createHash("md5").update(body).digest("base64");
  return headers;
}

function route(request: SimRequest): Route {
  if (request.path === "/--ping") {
    return request.method === "GET" || request.method === "HEAD"
      ? { operation: "Ping", methods: ["GET", "HEAD"] }
      : { operation: "MethodNotAllowed", methods: ["GET", "HEAD"] };
  }
  const segments = request.path.split("/").map(decodeSegment);
  if (segments.length === 3 && segments[2] === "images") {
    const methods = ["GET", "HEAD", "POST"];
    const base = { login: segments[1], methods };
    if (request.method === "GET") return { ...base, operation: "ListImages" };
    if (request.method === "HEAD") return { ...base, operation: "HeadImages" };
    if (request.method === "POST") return { ...base, operation: request.query.has("action") ? "ImagesAction" : "CreateImageFromMachine" };
    return { ...base, operation: "MethodNotAllowed" };
  }
  if (segments.length === 4 && segments[2] === "images") {
    const methods = ["GET", "HEAD", "POST", "DELETE"];
    const base = { login: segments[1], id: segments[3], methods };
    if (request.method === "GET") return { ...base, operation: "GetImage" };
    if (request.method === "HEAD") return { ...base, operation: "HeadImage" };
    if (request.method === "DELETE") return { ...base, operation: "DeleteImage" };
    if (request.method === "POST") return { ...base, operation: actionOperation(request.query.get("action")) };
    return { ...base, operation: "MethodNotAllowed" };
  }
  return { operation: "NotFound", methods: [] };
}

function requireOwner(caller: SimAccount, image: ImageRecord): void {
  if (image.owner !== caller.uuid) {
    throw new SimError(422, "NotImageOwner", `account ${caller.uuid} is not the owner of image ${image.uuid}`);
  }
}

function imagesAction(action: string): never {
  if (action === "import-from-datacenter") {
    throw new SimError(501, "NotAvailable", "ImportImageFromDatacenter is not simulated");
  }
  // The real server never answers this request; a 409 is more useful.
  throw new SimError(409, "InvalidArgument", `action ${action} is not a valid argument`);
}

function actionOperation(action: string | null): Operation {
  if (action === "update") return "UpdateImage";
  if (action === "clone") return "CloneImage";
  if (action === "export") return "ExportImage";
  return "ImageAction";
}

/** RBAC action names (notes §3.10), used in 403 messages. */
function rbacAction(operation: Operation): string {
  if (operation === "CreateImageFromMachine" || operation === "ImagesAction") return "createimagefrommachine";
  if (operation === "UpdateImage" || operation === "CloneImage" || operation === "ExportImage" || operation === "ImageAction") {
    return "updateimage";
  }
  return operation.toLowerCase();
}

function headerValue(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** restify bodyParser: JSON or urlencoded, limited to 100 kB. */
async function readParams(request: SimRequest): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await request.readBody(maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new SimError(413, "RequestEntityTooLarge", `Request body size exceeds ${maxBodyBytes}`);
    }
    throw error;
  }
  if (text.trim() === "") return {};
  const contentType = headerValue(request, "content-type") ?? "";
  if (contentType.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SimError(400, "InvalidContent", `Invalid JSON: ${error instanceof Error ? error.message : "parse error"}`);
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

function pickDefined<K extends string>(params: Record<string, unknown>, names: readonly K[]): Partial<Record<K, unknown>> {
  const picked: Partial<Record<K, unknown>> = {};
  for (const name of names) if (params[name] !== undefined) picked[name] = params[name];
  return picked;
}

/** imgmanifest field rules; all problems are reported together, as IMGAPI does. */
function validateImageFields(fields: Record<string, unknown>, message: string): void {
  const errors: { field: string; code: string; message: string }[] = [];
  const invalid = (field: string, reason: string) => errors.push({ field, code: "Invalid", message: reason });
  const { name, version, description, homepage, eula, acl, tags } = fields;
  if (name !== undefined && (typeof name !== "string" || name.length > 1024 || !namePattern.test(name))) {
    invalid("name", "invalid image name");
  }
  if (version !== undefined && (typeof version !== "string" || version.length > 512 || !versionPattern.test(version))) {
    invalid("version", "invalid image version");
  }
  if (description !== undefined && description !== null && (typeof description !== "string" || description.length > 10_240)) {
    invalid("description", "invalid image description");
  }
  for (const [field, value] of [["homepage", homepage], ["eula", eula]] as const) {
    if (value !== undefined && value !== null && !isHttpUrl(value)) invalid(field, `invalid image ${field} URL`);
  }
  if (acl !== undefined && acl !== null && !(Array.isArray(acl) && acl.every((entry) => typeof entry === "string" && uuidPattern.test(entry)))) {
    invalid("acl", "invalid image acl: must be an array of account UUIDs");
  }
  if (tags !== undefined && tags !== null && (typeof tags !== "object" || Array.isArray(tags) || JSON.stringify(tags).length > 102_400)) {
    invalid("tags", "invalid image tags: must be an object");
  }
  if (errors.length > 0) throw new SimError(422, "ValidationFailed", message, { errors });
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string" || value.length > 1024) return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Sets fields the way IMGAPI UpdateImage does: values replace, null removes. */
function applyFields(image: ImageRecord, fields: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (field === "acl") image.acl = value === null ? [] : (value as string[]);
    else if (field === "tags") image.tags = value === null ? undefined : (value as Record<string, unknown>);
    else if (field === "name" || field === "version") image[field] = String(value);
    else if (field === "description" || field === "homepage" || field === "eula") {
      if (value === null) delete image[field];
      else image[field] = String(value);
    }
  }
}
