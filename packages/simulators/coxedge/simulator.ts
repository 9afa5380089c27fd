// A loopback HTTP server that behaves like the Cox Edge images and tasks API: same paths, shapes,
// status codes and CloudMC-style error bodies. Domain state lives in sim-state.ts; fault injection,
// counters and the server itself come from the shared simulator layer.
import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
import {
  SeededRandom,
  startSimServer,
  TokenBucketLimiter,
  type FaultController,
  type RequestCounters,
  type SimRequest,
  type SimResponse,
  type TokenBucketOptions,
} from "../kit";
import type { CatalogOptions } from "./catalog";
import { CoxEdgeSimState, SimApiError, type ImageType, type SimTask, type SimWorkload } from "./state";

export const COXEDGE_API_PATH = "/api/v2";
const MAX_BODY_BYTES = 64 * 1024;

export interface CoxEdgeSimulatorOptions {
  /** Port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** Service code. Default "edge-services". */
  service?: string;
  /** Environment name. Default "test-area". */
  environment?: string;
  /** The only accepted MC-Api-Key. Default: a random one. */
  apiKey?: string;
  /** When set, requests naming another organizationId are refused with 403. */
  organizationId?: string;
  /** Initial catalog. Default: 10 images. */
  catalog?: CatalogOptions;
  /** Workloads that images can be created from. Default: DEFAULT_SIM_WORKLOADS. */
  workloads?: readonly SimWorkload[];
  /** Default 100 ms. */
  taskDelayMs?: number;
  /** Default 0. */
  taskFailureRate?: number;
  /** Seeds task outcomes, churn and probabilistic faults. Default 1. */
  seed?: number;
  /** Per-API-key token bucket; 429 with Retry-After when empty. Off by default. */
  rateLimit?: TokenBucketOptions;
}

export interface CoxEdgeSimulator {
  /** API base, e.g. http://127.0.0.1:PORT/api/v2 (what CoxEdgeClient takes as baseUrl). */
  url: string;
  service: string;
  environment: string;
  apiKey: string;
  organizationId: string | undefined;
  /** Catalog, workloads and task settings; hooks for tests and benchmarks. */
  state: CoxEdgeSimState;
  faults: FaultController;
  /** Requests per endpoint: ListImages, GetImage, CreateImage, DeleteImage, GetTask, Other. */
  counters: RequestCounters;
  close(): Promise<void>;
}

interface Route {
  endpoint: "ListImages" | "GetImage" | "CreateImage" | "DeleteImage" | "GetTask";
  /** Image id (may contain slashes) or task id. */
  id?: string;
}

export async function startCoxEdgeSimulator(options: CoxEdgeSimulatorOptions = {}): Promise<CoxEdgeSimulator> {
  const service = options.service ?? "edge-services";
  const environment = options.environment ?? "test-area";
  const apiKey = options.apiKey ?? randomBytes(24).toString("base64url");
  const seed = options.seed ?? 1;
  const state = new CoxEdgeSimState({
    environment,
    workloads: options.workloads,
    seed,
    taskDelayMs: options.taskDelayMs ?? 100,
    taskFailureRate: options.taskFailureRate ?? 0,
  });
  state.seed(options.catalog ?? { images: 10, seed });
  const faultRandom = new SeededRandom(seed);
  const limiter = options.rateLimit ? new TokenBucketLimiter(options.rateLimit) : undefined;
  const servicePrefix = `${COXEDGE_API_PATH}/services/${encodeURIComponent(service)}/${encodeURIComponent(environment)}/images`;

  function route(request: SimRequest): Route | undefined {
    const { method, path } = request;
    if (path === servicePrefix) {
      if (method === "GET") return { endpoint: "ListImages" };
      if (method === "POST") return { endpoint: "CreateImage" };
    } else if (path.startsWith(`${servicePrefix}/`)) {
      // The image id is `stackId/family/tag`: the whole rest of the path, one encoded segment per part.
      const id = decodeSegments(path.slice(servicePrefix.length + 1));
      if (id && method === "GET") return { endpoint: "GetImage", id };
      if (id && method === "DELETE") return { endpoint: "DeleteImage", id };
    } else if (path.startsWith(`${COXEDGE_API_PATH}/tasks/`) && method === "GET") {
      const id = decodeSegments(path.slice(`${COXEDGE_API_PATH}/tasks/`.length));
      if (id && !id.includes("/")) return { endpoint: "GetTask", id };
    }
    return undefined;
  }

  async function handle(request: SimRequest): Promise<SimResponse> {
    try {
      if (request.headers["mc-api-key"] !== apiKey) {
        throw new SimApiError(401, "UNAUTHORIZED", "Missing or invalid MC-Api-Key");
      }
      if (limiter && !limiter.take(apiKey)) {
        return { status: 429, headers: { "retry-after": "1" }, body: errorBody("TOO_MANY_REQUESTS", "Rate limit exceeded") };
      }
      const organizationId = request.query.get("organizationId");
      if (options.organizationId && organizationId !== null && organizationId !== options.organizationId) {
        throw new SimApiError(403, "FORBIDDEN", `Environment ${environment} does not belong to organization ${organizationId}`);
      }
      const matched = route(request);
      if (!matched) throw new SimApiError(404, "NOT_FOUND", `No route for ${request.method} ${request.path}`);
      return await respond(matched, request);
    } catch (error) {
      if (!(error instanceof SimApiError)) throw error;
      return { status: error.status, body: errorBody(error.code, error.message, error.field) };
    }
  }

  async function respond({ endpoint, id = "" }: Route, request: SimRequest): Promise<SimResponse> {
    switch (endpoint) {
      case "ListImages": {
        const images = state.listImages(imageTypeFilter(request.query.get("imageType")));
        return { status: 200, body: { data: images, metadata: { recordCount: images.length } } };
      }
      case "GetImage":
        return { status: 200, body: { data: state.getImage(id) } };
      case "CreateImage":
        return taskStarted(state.createImage(await readJsonBody(request)));
      case "DeleteImage":
        return taskStarted(state.deleteImage(id));
      case "GetTask":
        return { status: 200, body: { data: taskView(state.getTask(id)) } };
    }
  }

  const server = await startSimServer({
    port: options.port,
    handle,
    errorBody: (status) => errorBody(codeForStatus(status), STATUS_CODES[status] ?? "Error"),
    classify: (request) => route(request)?.endpoint ?? "Other",
    random: () => faultRandom.next(),
  });

  return {
    url: server.url + COXEDGE_API_PATH,
    service,
    environment,
    apiKey,
    organizationId: options.organizationId,
    state,
    faults: server.faults,
    counters: server.counters,
    close: () => server.close(),
  };
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
  const text = await request.readBody(MAX_BODY_BYTES).catch(() => {
    throw new SimApiError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds ${MAX_BODY_BYTES} bytes`);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new SimApiError(400, "INVALID_JSON", "Request body is not valid JSON");
  }
}

function taskStarted(task: SimTask): SimResponse {
  return { status: 200, body: { taskId: task.id, taskStatus: task.taskStatus } };
}

function taskView(task: SimTask): Record<string, unknown> {
  return {
    id: task.id,
    type: task.type,
    taskStatus: task.taskStatus,
    created: task.createdAt,
    ...(task.taskStatus === "SUCCESS" ? { result: { id: task.imageId } } : {}),
  };
}

function errorBody(code: string, message: string, field?: string): unknown {
  return { errors: [{ code, message, ...(field ? { field } : {}) }] };
}

function codeForStatus(status: number): string {
  return (STATUS_CODES[status] ?? "ERROR").toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}
