// A loopback HTTP server that behaves like the Cox Edge images and tasks API: same paths, shapes and
// documented status codes (200, 400, 403, 404, 405, 500), CloudMC error bodies with integer codes.
// Domain state lives in state.ts; fault injection, counters and the server itself come from the shared
// simulator layer. What no public source shows is a setting (CoxEdgeSimSettings), never a fixed answer.
import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
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
  type SimResponse,
  type TokenBucketOptions,
} from "../kit";
import type { CatalogOptions } from "./catalog";
import {
  CoxEdgeSimState,
  simErrorCodes,
  SimApiError,
  type CoxEdgeSimSettings,
  type ImageType,
  type SimTask,
  type SimWorkload,
} from "./state";

export const coxedgeApiPath = "/api/v2";
const maxBodyBytes = 64 * 1024;

/** Settings (task delay, failure rate and spelling, task lifetime, guessed statuses...) start from these options. */
export interface CoxEdgeSimulatorOptions extends Partial<CoxEdgeSimSettings> {
  /** Port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** Service code. Default "edge-services". */
  service?: string;
  /** Environment name. Default "test-area". */
  environment?: string;
  /** The only accepted MC-Api-Key. Default: a random one. */
  apiKey?: string;
  /** When set, requests whose `org_id` names another organisation are refused with 403. */
  organizationId?: string;
  /** Initial catalog. Default: 10 images. */
  catalog?: CatalogOptions;
  /** Workloads that images can be created from. Default: defaultSimWorkloads. */
  workloads?: readonly SimWorkload[];
  /** Seeds task outcomes, churn and probabilistic faults. Default 1. */
  seed?: number;
  /** Per-API-key token bucket; 429 with Retry-After when empty (undocumented status). Off by default. */
  rateLimit?: TokenBucketOptions;
}

export interface CoxEdgeSimulator {
  /** API base, e.g. http://127.0.0.1:PORT/api/v2 (what CoxEdgeClient takes as baseUrl). */
  url: string;
  service: string;
  environment: string;
  apiKey: string;
  organizationId: string | undefined;
  /** Catalog, workloads and `settings`; hooks for tests and benchmarks. */
  state: CoxEdgeSimState;
  faults: FaultController;
  /** Requests per endpoint: ListImages, GetImage, CreateImage, DeleteImage, GetTask, Other. */
  counters: RequestCounters;
  /** Effects applied: `create` (key `family:tag`) and `delete` (key: the image id, when its task removes it); `state.effects`. */
  effects: EffectLedger;
  /** The next ListImages answers leave out a share of the images, with a matching recordCount (the same ones for the same salt). */
  dropFromListings(options?: ListingDropOptions): void;
  /** ListImages answers that dropped images so far. */
  droppedListings(): number;
  close(): Promise<void>;
}

type Endpoint = "ListImages" | "GetImage" | "CreateImage" | "DeleteImage" | "GetTask";

interface Route {
  endpoint: Endpoint;
  /** Image id (may contain slashes) or task id. */
  id?: string;
}

type Resource = { kind: "images" } | { kind: "image"; id: string } | { kind: "task"; id: string };

const endpointsByMethod: Record<Resource["kind"], Partial<Record<string, Endpoint>>> = {
  images: { GET: "ListImages", POST: "CreateImage" },
  image: { GET: "GetImage", DELETE: "DeleteImage" },
  task: { GET: "GetTask" },
};

export async function startCoxEdgeSimulator(options: CoxEdgeSimulatorOptions = {}): Promise<CoxEdgeSimulator> {
  const service = options.service ?? "edge-services";
  const environment = options.environment ?? "test-area";
  const apiKey = options.apiKey ?? randomBytes(24).toString("base64url");
  const seed = options.seed ?? 1;
  const state = new CoxEdgeSimState({ environment, workloads: options.workloads, seed, settings: options });
  state.seed(options.catalog ?? { images: 10, seed });
  const faultRandom = new SeededRandom(seed);
  const limiter = options.rateLimit ? new TokenBucketLimiter(options.rateLimit) : undefined;
  const router = createRouter(service, environment);
  const listingDrop = new ListingDrop();

  async function handle(request: SimRequest): Promise<SimResponse> {
    try {
      if (request.headers["mc-api-key"] !== apiKey) {
        throw new SimApiError(state.settings.authFailureStatus, simErrorCodes.notAuthorized, "Missing or invalid MC-Api-Key");
      }
      if (limiter && !limiter.take(apiKey)) {
        return { status: 429, headers: { "retry-after": "1" }, body: errorBody(simErrorCodes.rateLimited, "Rate limit exceeded") };
      }
      const orgId = request.query.get("org_id");
      if (options.organizationId && orgId !== null && orgId !== options.organizationId) {
        throw new SimApiError(403, simErrorCodes.notAuthorized, `Environment ${environment} does not belong to organization ${orgId}`, {
          org_id: orgId,
        });
      }
      const matched = router.route(request);
      if (!matched) throw unrouted(request, router.resourceAt(request.path) !== undefined);
      return await respond(state, matched, request, listingDrop);
    } catch (error) {
      if (!(error instanceof SimApiError)) throw error;
      return { status: error.status, body: errorBody(error.code, error.message, error.context) };
    }
  }

  const server = await startSimServer({
    port: options.port,
    handle,
    errorBody: (status) => errorBody(codeForStatus(status), STATUS_CODES[status] ?? "Error"),
    classify: (request) => router.route(request)?.endpoint ?? "Other",
    random: () => faultRandom.next(),
  });

  return {
    url: server.url + coxedgeApiPath,
    service,
    environment,
    apiKey,
    organizationId: options.organizationId,
    state,
    faults: server.faults,
    counters: server.counters,
    effects: state.effects,
    dropFromListings: (dropOptions) => listingDrop.set(dropOptions),
    droppedListings: () => listingDrop.applied,
    close: () => server.close(),
  };
}

/** The environment's images, one image (its id is the rest of the path) and tasks at the API base. */
function createRouter(service: string, environment: string) {
  const imagesPath = `${coxedgeApiPath}/services/${encodeURIComponent(service)}/${encodeURIComponent(environment)}/images`;
  const tasksPath = `${coxedgeApiPath}/tasks`;

  function resourceAt(path: string): Resource | undefined {
    if (path === imagesPath) return { kind: "images" };
    // The image id is `stackId/family/tag`: the whole rest of the path, one encoded segment per part.
    const imageId = path.startsWith(`${imagesPath}/`) ? decodeSegments(path.slice(imagesPath.length + 1)) : undefined;
    if (imageId) return { kind: "image", id: imageId };
    const taskId = path.startsWith(`${tasksPath}/`) ? decodeSegments(path.slice(tasksPath.length + 1)) : undefined;
    if (taskId && !taskId.includes("/")) return { kind: "task", id: taskId };
    return undefined;
  }

  function route(request: SimRequest): Route | undefined {
    const resource = resourceAt(request.path);
    const endpoint = resource && endpointsByMethod[resource.kind][request.method];
    return endpoint && { endpoint, id: resource.kind === "images" ? undefined : resource.id };
  }

  return { resourceAt, route };
}

async function respond(state: CoxEdgeSimState, { endpoint, id = "" }: Route, request: SimRequest, listingDrop: ListingDrop): Promise<SimResponse> {
  switch (endpoint) {
    case "ListImages": {
      const flag = state.settings.includeDeprecatedParam;
      const includeDeprecated = flag !== undefined && request.query.get(flag) === "true";
      const listed = state.listImages(imageTypeFilter(request.query.get("imageType")), includeDeprecated);
      const images = listingDrop.apply(listed, (image) => image.id, request.query);
      return { status: 200, body: { data: images, metadata: { recordCount: images.length } } };
    }
    case "GetImage":
      return { status: 200, body: { data: state.getImage(id) } };
    case "CreateImage":
      return taskStarted(state.createImage(await readJsonBody(request)));
    case "DeleteImage":
      return taskStarted(state.deleteImage(id));
    case "GetTask":
      return { status: 200, body: { data: taskView(state.getTask(id), state.settings.resultIncludesImageId) } };
  }
}

/** 405 for a known path with a method it does not take, 404 for anything else (both documented). */
function unrouted(request: SimRequest, knownPath: boolean): SimApiError {
  return knownPath
    ? new SimApiError(405, simErrorCodes.methodNotAllowed, `Method ${request.method} is not allowed on ${request.path}`)
    : new SimApiError(404, simErrorCodes.notFound, `No route for ${request.method} ${request.path}`);
}

/**
 * Decodes each path segment; undefined (so 404) for empty or badly encoded segments, and for an
 * encoded slash, which servlet containers in front of APIs like this one refuse by default.
 */
function decodeSegments(encodedPath: string): string | undefined {
  try {
    const segments = encodedPath.split("/").map(decodeURIComponent);
    return segments.every((segment) => segment !== "" && !segment.includes("/")) ? segments.join("/") : undefined;
  } catch {
    return undefined;
  }
}

/** `default` and `custom` filter; anything else (or nothing) lists all images, as documented. */
function imageTypeFilter(value: string | null): ImageType | undefined {
  return value === "default" || value === "custom" ? value : undefined;
}

async function readJsonBody(request: SimRequest): Promise<unknown> {
  // 400 for both: it is the documented status for invalid parameters (413 is not among them).
  const text = await request.readBody(maxBodyBytes).catch(() => {
    throw new SimApiError(400, simErrorCodes.badRequest, `Request body exceeds ${maxBodyBytes} bytes`);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new SimApiError(400, simErrorCodes.badRequest, "Request body is not valid JSON");
  }
}

/** Create and delete answer `{taskId, taskStatus}` (the images docs' examples). */
function taskStarted(task: SimTask): SimResponse {
  return { status: 200, body: { taskId: task.id, taskStatus: task.status } };
}

/** GET /tasks/{id} answers `{"data":{"id","status","created","result"}}`; `result` only on SUCCESS. */
function taskView(task: SimTask, resultIncludesImageId: boolean): Record<string, unknown> {
  const result = resultIncludesImageId ? { id: task.imageId } : {};
  return { id: task.id, status: task.status, created: task.createdAt, ...(task.status === "SUCCESS" ? { result } : {}) };
}

function errorBody(code: number, message: string, context: Record<string, unknown> = {}): unknown {
  return { errors: [{ code, message, context }] };
}

/** The code of the error body sent with an injected fault's status. */
function codeForStatus(status: number): number {
  if (status === 401 || status === 403) return simErrorCodes.notAuthorized;
  if (status === 404) return simErrorCodes.notFound;
  if (status === 405) return simErrorCodes.methodNotAllowed;
  if (status === 429) return simErrorCodes.rateLimited;
  if (status >= 500) return simErrorCodes.serverError;
  return simErrorCodes.badRequest;
}
