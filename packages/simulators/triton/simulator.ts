/**
 * A local Triton CloudAPI datacenter: the images endpoints with IMGAPI's rules, real HTTP Signature
 * verification, restify's response headers, fault injection, plus what node-triton's image commands also
 * call (GetAccount, ListMachines/GetMachine, ListDatacenters). Several datacenters of one cloud share
 * accounts and can copy images between them (ImportImageFromDatacenter): start the first, then pass its
 * `cloud` to the next.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  ListingDrop,
  SeededRandom,
  startSimServer,
  TokenBucketLimiter,
  type EffectLedger,
  type FaultController,
  type ListingDropOptions,
  type RequestCounters,
  type SimRequest,
} from "../kit";
import { handleCloudApiRequest, throttledBody, type Datacenter } from "./cloudapi";
import { createTritonCloud, type SimAccountCredentials, type SimKeyType, type TritonCloud, type TritonCloudOptions } from "./cloud";
import { ImageService, type CreationOutcome } from "./images";
import { MachineDirectory, type SimMachine } from "./machines";
import { translate, type ImageRecord } from "./model";
import { route } from "./routes";

export type { ImageRecord } from "./model";
export type { SimMachine } from "./machines";
export { generateKeyPair, type GeneratedKeyPair, type SimAccountCredentials, type SimKeyType, type TritonCloud } from "./cloud";

export interface TritonSimulatorOptions extends TritonCloudOptions {
  /** Port on 127.0.0.1; random when omitted. */
  port?: number;
  /** Join this cloud as another datacenter (its accounts and keys work here); a new cloud when omitted. */
  cloud?: TritonCloud;
  /** Default "us-central-1" for a cloud's first datacenter, "us-west-1" for the second. */
  datacenterName?: string;
  /** Images generated at start. Default 0. */
  images?: number;
  /** How long a new image stays `creating`. Default 50 ms. */
  createDelayMs?: number;
  /** How long ImportImageFromDatacenter takes before it answers. Default 50 ms. */
  importDelayMs?: number;
  /** Creating and failed placeholders disappear after this long. Default 7 days. */
  placeholderTtlMs?: number;
  /** Allowed |now − Date|. Default 300 s. */
  clockSkewSeconds?: number;
  /** CloudAPI's per-login token bucket; off unless given. CloudAPI's own setting is burst 30, rate 10. */
  throttle?: ThrottleSettings | false;
  /** Whether the IMGAPI behind it stores images in Manta (ExportImage needs it). Default true. */
  mantaStorage?: boolean;
  mantaUrl?: string;
}

export interface ThrottleSettings {
  burst: number;
  rate: number;
}

export interface TritonSimulator {
  url: string;
  datacenterName: string;
  /** Shared by every datacenter started with it. */
  cloud: TritonCloud;
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
  /** Requests per CloudAPI route name, refined by the query's `action`: `counters.get("ListImages")`. */
  counters: RequestCounters;
  /**
   * Effects applied in this datacenter: `create` (key `name@version`), `clone` (key: the source image's
   * uuid), `update`, `export`, `delete` (key: the image's uuid) and `copy` (key: the uuid imported here).
   */
  effects: EffectLedger;

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
  /** What ListImages?state=all and ?state=all&type=docker answer the account together (API 9), with no fault or drop. */
  accountListing(): Record<string, unknown>[];
  /** Creations that ended `failed` (see setCreateOutcome). */
  failedCreations(): number;
  /** Changes description and tags of a deterministic `fraction` of images; returns their uuids. */
  mutateImages(fraction: number, options?: { seed?: number }): string[];
  /** Adds an instance to create images from; default stopped, owned by the account. */
  addMachine(machine?: Partial<SimMachine>): SimMachine;
  /** Registers another account (in every datacenter of the cloud); a key pair is generated unless given. */
  addAccount(login: string, options?: { uuid?: string; publicKey?: string; keyType?: SimKeyType }): SimAccountCredentials;
  /** Registers an RBAC sub-user of the account. */
  addUser(login: string, options?: { publicKey?: string; keyType?: SimKeyType }): SimAccountCredentials;
  /** Registers another key for the account (or one of its sub-users). */
  addKey(publicKey: string, options?: { name?: string; user?: string }): string;
  setCreateDelayMs(ms: number): void;
  setImportDelayMs(ms: number): void;
  /** How image creations started from now on end. */
  setCreateOutcome(outcome: "active" | "failed", error?: { code: string; message: string }): void;
  setThrottle(settings: ThrottleSettings | false): void;
  /** The next ListImages answers leave out a share of the images (the same ones for the same salt). */
  dropFromListings(options?: ListingDropOptions): void;
  /** ListImages answers that dropped images so far. */
  droppedListings(): number;
  close(): Promise<void>;
}

const serverVersion = "cloudapi/9.20.0";

export async function startTritonSimulator(options: TritonSimulatorOptions = {}): Promise<TritonSimulator> {
  const cloud = options.cloud ?? createTritonCloud(options);
  const { dc, random } = newDatacenter(cloud, options);
  const { name } = dc;

  const server = await startSimServer({
    port: options.port,
    handle: (request) => handleCloudApiRequest(dc, request),
    errorBody: (status) => errorBody(status, dc),
    classify: counterName,
    responseHeaders,
  });
  inheritBaseImages(cloud, dc.images);
  cloud.datacenters.set(name, { url: server.url, images: dc.images });
  const owners = { accountUuid: cloud.account.uuid, otherOwners: cloud.otherOwners };
  if (options.images) dc.images.seed(options.images, owners);

  return {
    url: server.url,
    datacenterName: name,
    cloud,
    account: cloud.account.login,
    accountUuid: cloud.account.uuid,
    adminUuid: cloud.adminUuid,
    keyId: cloud.fingerprint,
    signatureKeyId: `/${cloud.account.login}/keys/${cloud.fingerprint}`,
    privateKeyPem: cloud.privateKeyPem,
    publicKey: cloud.publicKey,
    faults: server.faults,
    counters: server.counters,
    effects: dc.images.effects,
    seed: (count, seedOptions = {}) => dc.images.seed(count, owners, seedOptions.seed === undefined ? undefined : new SeededRandom(seedOptions.seed)),
    addImage: (input) => dc.images.put(newImageRecord(input, cloud.adminUuid, random)),
    modifyImage(uuid, changes) {
      const image = dc.images.get(uuid);
      if (!image) throw new Error(`no image ${uuid}`);
      return Object.assign(image, changes);
    },
    removeImage: (uuid) => dc.images.remove(uuid),
    getImageRecord(uuid) {
      dc.images.settle();
      return dc.images.get(uuid);
    },
    imageRecords: () => dc.images.records(),
    accountListing: () => dc.images.list(cloud.account.uuid, { state: "all" }).map((image) => translate(image, [9, 0])),
    failedCreations: () => dc.images.failedCreations,
    mutateImages: (fraction, mutateOptions = {}) =>
      mutateImages(dc.images.records(), fraction, mutateOptions.seed === undefined ? random : new SeededRandom(mutateOptions.seed)),
    addMachine: (input = {}) => dc.machines.add(newMachine(input, cloud.account.uuid)),
    addAccount: cloud.addAccount,
    addUser: cloud.addUser,
    addKey: cloud.addKey,
    setCreateDelayMs: (ms) => void (dc.images.settings.createDelayMs = ms),
    setImportDelayMs: (ms) => void (dc.importDelayMs = ms),
    setCreateOutcome: (outcome, error) => void (dc.images.createOutcome = creationOutcome(outcome, error)),
    setThrottle: (settings) => void (dc.throttle = settings ? new TokenBucketLimiter(settings) : undefined),
    dropFromListings: (dropOptions) => dc.listingDrop.set(dropOptions),
    droppedListings: () => dc.listingDrop.applied,
    async close() {
      cloud.datacenters.delete(name);
      await server.close();
    },
  };
}

/** The next datacenter of `cloud`: its name, its own seeded ids, its image service and settings. */
function newDatacenter(cloud: TritonCloud, options: TritonSimulatorOptions): { dc: Datacenter; random: SeededRandom } {
  const dcIndex = cloud.datacenters.size;
  const name = options.datacenterName ?? ["us-central-1", "us-west-1"][dcIndex] ?? `dc-${dcIndex + 1}`;
  if (cloud.datacenters.has(name)) throw new Error(`datacenter ${name} already exists in this cloud`);
  // Each datacenter draws its own ids, so seeded catalogs of two datacenters never share a uuid.
  const random = dcIndex === 0 ? cloud.random : new SeededRandom((options.seed ?? 1) + 7919 * dcIndex);
  const dc: Datacenter = {
    name,
    cloud,
    images: new ImageService({
      random,
      adminUuid: cloud.adminUuid,
      createDelayMs: options.createDelayMs ?? 50,
      placeholderTtlMs: options.placeholderTtlMs ?? 7 * 24 * 3_600_000,
      mantaStorage: options.mantaStorage ?? true,
      mantaUrl: options.mantaUrl ?? "https://us-central.manta.mnx.io",
    }),
    machines: new MachineDirectory(),
    clockSkewSeconds: options.clockSkewSeconds ?? 300,
    throttle: options.throttle ? new TokenBucketLimiter(options.throttle) : undefined,
    importDelayMs: options.importDelayMs ?? 50,
    listingDrop: new ListingDrop(),
  };
  return { dc, random };
}

/** The admin's public images (the base images) are in every datacenter of a cloud, as on Triton. */
function inheritBaseImages(cloud: TritonCloud, images: ImageService): void {
  for (const other of cloud.datacenters.values()) {
    for (const image of other.images.records()) if (image.owner === cloud.adminUuid && image.public) images.put(structuredClone(image));
  }
}

function creationOutcome(outcome: "active" | "failed", error?: { code: string; message: string }): CreationOutcome {
  return outcome === "active" ? { outcome } : { outcome, error };
}

function newImageRecord(input: Partial<ImageRecord> & { name: string }, adminUuid: string, random: SeededRandom): ImageRecord {
  return {
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
}

function newMachine(input: Partial<SimMachine>, owner: string): SimMachine {
  const id = input.id ?? randomUUID();
  return { id, name: `inst-${id.slice(0, 8)}`, owner, state: "stopped", docker: false, created: new Date().toISOString(), ...input };
}

function mutateImages(images: ImageRecord[], fraction: number, picker: SeededRandom): string[] {
  const changed: string[] = [];
  for (const image of images) {
    if (!picker.chance(fraction)) continue;
    image.description = `${image.name} ${image.version} (revised ${picker.hex(6)})`;
    image.tags = { ...image.tags, revision: picker.int(1, 1_000_000) };
    changed.push(image.uuid);
  }
  return changed;
}

/** The route's CloudAPI name, refined by the query's action (a body's action is not read for counting). */
function counterName(request: SimRequest): string {
  const matched = route(request);
  if (matched.kind !== "operation") return matched.kind === "notFound" ? "NotFound" : "MethodNotAllowed";
  const action = request.query.get("action");
  if (matched.operation === "UpdateImage" && action === "clone") return "CloneImage";
  if (matched.operation === "UpdateImage" && action === "export") return "ExportImage";
  if (matched.operation === "CreateImageFromMachine" && action === "import-from-datacenter") return "ImportImageFromDatacenter";
  return matched.operation;
}

/** CloudAPI's and haproxy's error bodies, for injected faults and unexpected exceptions. */
function errorBody(status: number, dc: Datacenter): { code: string; message: string } {
  if (status === 429) return throttledBody(dc.throttle);
  if (status === 503 || status === 504) return { code: "ServiceUnavailable", message: "CloudAPI service is currently unavailable" };
  if (status === 500) return { code: "InternalError", message: "Internal Error" };
  if (status === 401) return { code: "InvalidCredentials", message: "Invalid authorization credentials supplied" };
  if (status === 404) return { code: "ResourceNotFound", message: "resource not found" };
  return { code: "UnknownError", message: `HTTP ${status}` };
}

/** restify 4 fullResponse headers (lib/plugins/full_response.js), on every response including injected faults. */
function responseHeaders(request: SimRequest, _status: number, body: string | undefined): Record<string, string> {
  const matched = route(request);
  const requestId = request.headers["request-id"] ?? request.headers["x-request-id"];
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    server: serverVersion,
    "api-version": "9.0.0",
    "request-id": (Array.isArray(requestId) ? requestId[0] : requestId) ?? randomUUID(),
    "response-time": String(Date.now() - request.receivedAt),
    "access-control-allow-origin": "*",
    "access-control-allow-headers": "Accept, Accept-Version, Content-Length, Content-MD5, Content-Type, Date, Api-Version, Response-Time",
    "access-control-allow-methods": matched.kind === "notFound" ? "" : matched.methods.join(", "),
    "access-control-expose-headers": "Api-Version, Request-Id, Response-Time",
  };
  if (body !== undefined) headers["content-md5"] = createHash("md5").update(body).digest("base64");
  return headers;
}
