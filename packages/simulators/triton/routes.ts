/**
 * CloudAPI's routes for what the simulator serves, matched like restify 4: an unknown path is 404
 * ResourceNotFound, a known path with another method 405 with `Allow` (TritonDataCenter/sdc-cloudapi
 * lib/datasets.js, lib/account.js, lib/datacenters.js, lib/machines.js mount()).
 */
import type { SimRequest } from "../kit";

export type Operation =
  | "Ping"
  | "GetAccount"
  | "ListImages"
  | "GetImage"
  | "CreateImageFromMachine"
  | "ImportImageFromDatacenter"
  | "UpdateImage"
  | "CloneImage"
  | "ExportImage"
  | "DeleteImage"
  | "ListMachines"
  | "GetMachine"
  | "ListDatacenters"
  | "GetDatacenter";

export type Route =
  | { kind: "operation"; operation: Operation; login: string; id?: string; methods: string[] }
  | { kind: "methodNotAllowed"; methods: string[] }
  | { kind: "notFound" };

interface PathRoute {
  /** Path segments after the login; ":id" matches one segment. */
  pattern: readonly string[];
  /** Method → operation (HEAD is served like GET where the route allows it). */
  methods: Readonly<Record<string, Operation>>;
}

const pathRoutes: readonly PathRoute[] = [
  { pattern: [], methods: { GET: "GetAccount", HEAD: "GetAccount" } },
  { pattern: ["images"], methods: { GET: "ListImages", HEAD: "ListImages", POST: "CreateImageFromMachine" } },
  { pattern: ["images", ":id"], methods: { GET: "GetImage", HEAD: "GetImage", POST: "UpdateImage", DELETE: "DeleteImage" } },
  { pattern: ["machines"], methods: { GET: "ListMachines", HEAD: "ListMachines" } },
  { pattern: ["machines", ":id"], methods: { GET: "GetMachine", HEAD: "GetMachine" } },
  { pattern: ["datacenters"], methods: { GET: "ListDatacenters" } },
  { pattern: ["datacenters", ":id"], methods: { GET: "GetDatacenter" } },
];

export function route(request: SimRequest): Route {
  if (request.path === "/--ping") {
    const methods = ["GET", "HEAD"];
    return methods.includes(request.method) ? { kind: "operation", operation: "Ping", login: "", methods } : { kind: "methodNotAllowed", methods };
  }
  const [empty, login, ...rest] = request.path.split("/").map(decodeSegment);
  if (empty !== "" || !login) return { kind: "notFound" };
  for (const candidate of pathRoutes) {
    if (!matches(candidate.pattern, rest)) continue;
    const methods = Object.keys(candidate.methods);
    const operation = candidate.methods[request.method];
    if (!operation) return { kind: "methodNotAllowed", methods };
    const id = candidate.pattern.includes(":id") ? rest[rest.length - 1] : undefined;
    return { kind: "operation", operation, login, id, methods };
  }
  return { kind: "notFound" };
}

/**
 * Which POST action a request asks for. restify merges body and query parameters with the body winning
 * (mapParams/overrideParams), so `action` may come from either; node-triton sends ExportImage's in the body.
 */
export function imageAction(operation: Exclude<Operation, "Ping">, params: Record<string, unknown>): Exclude<Operation, "Ping"> | undefined {
  const action = params.action;
  if (operation === "CreateImageFromMachine") {
    if (action === undefined || action === "") return "CreateImageFromMachine";
    return action === "import-from-datacenter" ? "ImportImageFromDatacenter" : undefined;
  }
  if (operation !== "UpdateImage") return operation;
  if (action === "update") return "UpdateImage";
  if (action === "clone") return "CloneImage";
  if (action === "export") return "ExportImage";
  return undefined;
}

/** RBAC action names CloudAPI names in 403 messages (lib/datasets.js mount() route names, lowercased). */
export function rbacAction(operation: Operation): string {
  if (operation === "ImportImageFromDatacenter") return "createimagefrommachine";
  if (operation === "CloneImage" || operation === "ExportImage") return "updateimage";
  return operation.toLowerCase();
}

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  return pattern.length === segments.length && pattern.every((part, index) => part === ":id" ? segments[index] !== "" : part === segments[index]);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
