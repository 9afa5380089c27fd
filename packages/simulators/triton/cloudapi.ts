/**
 * The HTTP side of one simulated CloudAPI datacenter: the checks in the real server's order, then one
 * small handler per operation over the datacenter's images and machines and the cloud's accounts.
 * Order (TritonDataCenter/sdc-cloudapi lib/app.js, lib/auth.js, lib/datasets.js): route (404/405) and
 * Accept-Version, body parsing (400/413), authentication (401/400), the path's account (403), the image
 * named in the path (404), the throttle (429), then the operation's own parameter checks.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { BodyTooLargeError, type ListingDrop, type SimRequest, type SimResponse, type TokenBucketLimiter } from "../kit";
import { authenticate, type SimAccount } from "./auth";
import type { TritonCloud } from "./cloud";
import { CloudApiError, invalidArgument, missingParameter, notFound, validationFailed } from "./errors";
import { pickManifestFields, uuidPattern } from "./fields";
import type { ImageService } from "./images";
import { machineView, type MachineDirectory } from "./machines";
import { negotiateVersion, translate, type ApiVersion, type ImageRecord, type ListQuery } from "./model";
import { imageAction, rbacAction, route, type Operation } from "./routes";

const maxBodyBytes = 100_000;
const listStates = new Set<string>(["active", "disabled", "unactivated", "creating", "failed", "all"]);
const imageOperations = new Set<Operation>(["GetImage", "UpdateImage", "CloneImage", "ExportImage", "DeleteImage"]);

export interface Datacenter {
  name: string;
  cloud: TritonCloud;
  images: ImageService;
  machines: MachineDirectory;
  clockSkewSeconds: number;
  /** CloudAPI's per-login token bucket, when on. */
  throttle: TokenBucketLimiter | undefined;
  /** How long ImportImageFromDatacenter holds the request, as CloudAPI waits for its workflow job. */
  importDelayMs: number;
  /** Partial listings that look whole, for tests and the soak. */
  listingDrop: ListingDrop;
}

interface Call {
  dc: Datacenter;
  request: SimRequest;
  caller: SimAccount;
  params: Record<string, unknown>;
  version: ApiVersion;
  id: string;
  /** The visible image the path names, for image operations. */
  image: ImageRecord;
}

export async function handleCloudApiRequest(dc: Datacenter, request: SimRequest): Promise<SimResponse> {
  try {
    return await dispatch(dc, request);
  } catch (error) {
    if (error instanceof CloudApiError) return { status: error.status, body: error.body };
    throw error;
  }
}

async function dispatch(dc: Datacenter, request: SimRequest): Promise<SimResponse> {
  const matched = route(request);
  if (matched.kind === "notFound") throw notFound(`${request.path} does not exist`);
  if (matched.kind === "methodNotAllowed") {
    const body = { code: "MethodNotAllowedError", message: `${request.method} is not allowed` };
    return { status: 405, headers: { allow: matched.methods.join(", ") }, body };
  }
  if (matched.operation === "Ping") return ping(dc);

  const range = header(request, "accept-version") ?? header(request, "x-api-version");
  const version = negotiateVersion(range);
  if (!version) throw new CloudApiError(400, "InvalidVersion", `${range} is not supported by ${request.method} ${request.path}`);
  const params = { ...Object.fromEntries(request.query), ...(await readBodyParams(request)) };
  const caller = authenticateCaller(dc, request, matched.login, matched.operation);

  const id = matched.id ?? "";
  const image = imageOperations.has(matched.operation) ? dc.images.findVisible(caller.uuid, id) : undefined;
  if (dc.throttle && !dc.throttle.take(caller.login)) throw throttled(dc.throttle);
  const operation = imageAction(matched.operation, params) ?? invalidAction(request, matched.operation, params);
  return operations[operation]({ dc, request, caller, params, version, id, image: image as ImageRecord });
}

function authenticateCaller(dc: Datacenter, request: SimRequest, login: string, operation: Operation): SimAccount {
  const auth = authenticate(request, dc.cloud.accounts, { now: Date.now(), clockSkewSeconds: dc.clockSkewSeconds });
  if (!auth.ok) throw new CloudApiError(auth.status, auth.code, auth.message);
  if (login === "my" || login === auth.account.login) return auth.account;
  // Another account in the path is loaded first (sdc-cloudapi lib/auth.js loadAccount), then refused.
  if (!dc.cloud.accounts.has(login)) throw notFound(`${login} does not exist`);
  throw new CloudApiError(403, "NotAuthorized", `You do not have permission to access ${request.path} (${rbacAction(operation)})`);
}

/**
 * POST /:login/images/:id names the query's action when it is not valid, and otherwise asks for one, even
 * when the body held an unknown one (lib/datasets.js invalidUpdateAction). The real server never answers
 * an unknown action on POST /:login/images; a 409 is more useful than a hang.
 */
function invalidAction(request: SimRequest, operation: Operation, params: Record<string, unknown>): never {
  if (operation === "CreateImageFromMachine") throw invalidArgument(`action ${String(params.action)} is not a valid argument`);
  const queryAction = request.query.get("action");
  if (queryAction) throw invalidArgument(`action ${queryAction} is not a valid argument`);
  throw missingParameter("action is a required argument");
}

export function throttledBody(throttle: TokenBucketLimiter | undefined): { code: string; message: string } {
  return { code: "TooManyRequestsError", message: `You have exceeded your request rate of ${throttle?.options.rate ?? 10} r/s.` };
}

function throttled(throttle: TokenBucketLimiter): CloudApiError {
  const body = throttledBody(throttle);
  return new CloudApiError(429, body.code, body.message);
}

const operations: Record<Exclude<Operation, "Ping">, (call: Call) => SimResponse | Promise<SimResponse>> = {
  GetAccount: ({ caller }) => ({ status: 200, body: accountView(caller) }),
  ListImages: ({ dc, request, caller, params, version }) => {
    const listed = dc.images.list(caller.uuid, listQuery(params, version));
    return { status: 200, body: dc.listingDrop.apply(listed, (image) => image.uuid, request.query).map((image) => translate(image, version)) };
  },
  GetImage: ({ image, version }) => ({ status: 200, body: translate(image, version) }),
  CreateImageFromMachine: createImage,
  ImportImageFromDatacenter: importImage,
  UpdateImage: ({ dc, caller, image, params, version }) => ({
    status: 200,
    body: translate(dc.images.update(caller.uuid, image, pickManifestFields(params)), version),
  }),
  CloneImage: ({ dc, caller, image, version }) => ({ status: 200, body: translate(dc.images.clone(caller.uuid, image), version) }),
  ExportImage: ({ dc, caller, image, params }) => {
    const mantaPath = typeof params.manta_path === "string" ? params.manta_path : "";
    if (!mantaPath) throw missingParameter("Image destination manta_path is a required argument");
    return { status: 200, body: dc.images.exportTo(caller, image, mantaPath) };
  },
  DeleteImage: ({ dc, caller, image }) => {
    dc.images.delete(caller.uuid, image);
    return { status: 204 };
  },
  ListMachines: ({ dc, caller, params }) => {
    const name = typeof params.name === "string" && params.name !== "" ? params.name : undefined;
    const limit = boundedInteger(params.limit, 1000, "limit");
    const { total, page } = dc.machines.list(caller.uuid, { name, limit, offset: boundedInteger(params.offset, 0, "offset") });
    return { status: 200, headers: { "x-resource-count": String(total) }, body: page.map(machineView) };
  },
  GetMachine: ({ dc, caller, id }) => ({ status: 200, body: machineView(dc.machines.getOwned(caller.uuid, id)) }),
  ListDatacenters: ({ dc }) => ({
    status: 200,
    headers: { "triton-datacenter-name": dc.name },
    body: Object.fromEntries([...dc.cloud.datacenters].map(([name, entry]) => [name, entry.url])),
  }),
  GetDatacenter: ({ dc, id }) => {
    const target = dc.cloud.datacenters.get(id);
    if (!target) throw notFound(`${id} is not a valid datacenter`);
    return { status: 302, headers: { location: target.url }, body: { code: "ResourceMoved", message: `${id} ${target.url}` } };
  },
};

function ping(dc: Datacenter): SimResponse {
  return {
    status: 200,
    headers: { "triton-datacenter-name": dc.name },
    body: { ping: "pong", cloudapi: { versions: ["7.0.0", "7.1.0", "7.2.0", "7.3.0", "8.0.0", "9.0.0"] } },
  };
}

function accountView(account: SimAccount): Record<string, unknown> {
  const created = "2024-01-01T00:00:00.000Z";
  return { id: account.uuid, login: account.login, email: `${account.login}@example.com`, created, updated: created, triton_cns_enabled: false };
}

/** ListImages parameters, forwarded only when truthy (lib/datasets.js loadImages). */
function listQuery(params: Record<string, unknown>, version: ApiVersion): ListQuery {
  const param = (name: string) => (typeof params[name] === "string" && params[name] !== "" ? (params[name] as string) : undefined);
  const state = param("state") ?? "active";
  if (!listStates.has(state)) throw new CloudApiError(422, "InvalidParameter", `invalid state: "${state}"`);
  const publicParam = param("public");
  if (publicParam !== undefined && publicParam !== "true" && publicParam !== "false") {
    throw new CloudApiError(422, "InvalidParameter", `invalid public: "${publicParam}"`);
  }
  let type = param("type");
  if (version[0] < 8 && type !== undefined) {
    if (type !== "smartmachine" && type !== "virtualmachine") throw invalidArgument(`image type ${type} is not a valid type`);
    type = type === "virtualmachine" ? "zvol" : "zone-dataset";
  }
  return {
    name: param("name"),
    version: param("version"),
    os: param("os"),
    public: publicParam === undefined ? undefined : publicParam === "true",
    state: state as ListQuery["state"],
    owner: param("owner"),
    type: type ?? "!docker",
  };
}

function createImage({ dc, caller, params, version }: Call): SimResponse {
  if (!params.machine) throw missingParameter("machine is a required argument");
  if (!params.name) throw missingParameter("Image name is a required argument");
  if (!params.version) throw missingParameter("Image version is a required argument");
  const machineId = String(params.machine);
  const machine = dc.machines.get(machineId);
  if (!machine || machine.owner !== caller.uuid) {
    throw new CloudApiError(422, "InvalidParameter", `could not get VM "${machineId}" details`, { errors: [{ field: "vm_uuid", code: "Invalid" }] });
  }
  if (machine.docker) {
    const message = "cannot create an image from a Docker container";
    throw new CloudApiError(422, "InvalidParameter", message, { errors: [{ field: "vm_uuid", code: "Invalid", message }] });
  }
  const image = dc.images.create(caller.uuid, pickManifestFields(params), machine);
  // The 201 body is translate() of the request data plus uuid and state: no owner or public.
  const { owner: _owner, public: _public, ...body } = translate(image, version);
  return {
    status: 201,
    headers: { location: `/${caller.login}/images/${image.uuid}`, "x-joyent-jobid": randomUUID() },
    body,
  };
}

/**
 * ImportImageFromDatacenter: CloudAPI checks its parameters, IMGAPI checks the image, then CloudAPI holds
 * the request until the copy is done (lib/datasets.js importFromDatacenter) and answers 200 with the image.
 */
async function importImage({ dc, caller, params, version }: Call): Promise<SimResponse> {
  const sourceName = typeof params.datacenter === "string" ? params.datacenter : "";
  const uuid = typeof params.id === "string" ? params.id : "";
  if (!sourceName) throw missingParameter("datacenter is a required argument");
  if (!uuidPattern.test(uuid)) throw invalidArgument(`id ${uuid} must be a UUID`);
  const others = [...dc.cloud.datacenters.keys()].filter((name) => name !== dc.name).join(", ");
  const source = dc.cloud.datacenters.get(sourceName);
  const invalidDatacenter = [{ field: "datacenter", code: "Invalid" }];
  if (sourceName === dc.name) throw validationFailed(`cannot import into the same datacenter, valid datacenters names are: ${others}`, invalidDatacenter);
  if (!source) throw validationFailed(`datacenter "${sourceName}" is not supported, valid datacenters names are: ${others}`, invalidDatacenter);
  dc.images.planImport(source.images, caller.uuid, uuid);
  await delay(dc.importDelayMs);
  return { status: 200, body: translate(dc.images.importFrom(source.images, caller.uuid, uuid), version) };
}

function boundedInteger(value: unknown, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw invalidArgument(`${name} must be a non-negative integer`);
  return number;
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** restify bodyParser: JSON or urlencoded, limited to 100 kB; parsed before authentication. */
async function readBodyParams(request: SimRequest): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await request.readBody(maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new CloudApiError(413, "RequestEntityTooLarge", `Request body size exceeds ${maxBodyBytes}`);
    throw error;
  }
  if (text.trim() === "") return {};
  if ((header(request, "content-type") ?? "").includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CloudApiError(400, "InvalidContent", `Invalid JSON: ${error instanceof Error ? error.message : "parse error"}`);
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}
