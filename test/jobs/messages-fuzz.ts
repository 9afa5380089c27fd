/**
 * Job messages for property tests: valid ones for every action of both providers, and near-valid ones
 * made from them by a few mutations (a key dropped, added or retyped, a string lengthened or given an
 * awkward character, a value nested deeply). Shared by the schema, worker and HTTP API properties.
 */
import fc from "fast-check";
import { awkwardText } from "../support/fuzz";

export interface MessageSources {
  triton: readonly string[];
  coxedge: readonly string[];
}

const shortText = fc.string({ minLength: 1, maxLength: 16 });
const tags = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const imageId = fc.uuid();
const jobId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);

function jobMessage(provider: string, sources: readonly string[], action: string, params: fc.Arbitrary<Record<string, unknown>>) {
  return fc.record(
    { jobId, provider: fc.constant(provider), source: fc.constantFrom(...sources), action: fc.constant(action), params },
    { requiredKeys: ["provider", "source", "action", "params"] },
  );
}

const optional = { requiredKeys: [] as never[] };

function tritonMessages(sources: readonly string[]): fc.Arbitrary<Record<string, unknown>>[] {
  const fields = fc.record({ name: shortText, version: shortText, description: fc.option(fc.string(), { nil: null }), acl: fc.array(fc.uuid(), { maxLength: 2 }), tags }, optional);
  return [
    jobMessage("triton", sources, "create", fc.record(
      { machine: fc.uuid(), name: shortText, version: shortText, description: fc.string(), homepage: fc.string(), acl: fc.array(fc.uuid(), { maxLength: 3 }), tags },
      { requiredKeys: ["machine", "name", "version"] },
    )),
    jobMessage("triton", sources, "clone", fc.record({ imageId })),
    jobMessage("triton", sources, "delete", fc.record({ imageId })),
    jobMessage("triton", sources, "update", fc.record({ imageId, fields: fields.filter((f) => Object.keys(f).length > 0) })),
    jobMessage("triton", sources, "export", fc.record({ imageId, manta_path: fc.stringMatching(/^\/[a-z]{1,8}\/stor\/[a-z.]{1,12}$/) })),
    jobMessage("triton", sources, "copy", fc.record({ imageId, targetSource: fc.constantFrom(...sources) })),
  ];
}

function coxedgeMessages(sources: readonly string[]): fc.Arbitrary<Record<string, unknown>>[] {
  const family = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
  const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
  const create = fc.record({ family, tag, workloadId: fc.uuid(), instanceName: shortText, description: fc.string() }, { requiredKeys: ["family", "tag", "workloadId", "instanceName"] });
  const coxId = fc.tuple(fc.uuid(), family, tag).map((parts) => parts.join("/"));
  return [jobMessage("coxedge", sources, "create", create), jobMessage("coxedge", sources, "delete", fc.record({ imageId: coxId }))];
}

/** A valid job message: every action of both providers. */
export function validJobMessage(sources: MessageSources): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(...tritonMessages(sources.triton), ...coxedgeMessages(sources.coxedge));
}

export interface Mutation {
  kind: "delete" | "replace" | "add" | "retype" | "lengthen" | "deepen" | "awkward" | "upper";
  /** Picks the place (modulo the number of places). */
  at: number;
  value: fc.JsonValue;
  key: string;
  size: number;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("delete", "replace", "add", "retype", "lengthen", "deepen", "awkward", "upper"),
  at: fc.nat(),
  value: fc.jsonValue({ maxDepth: 2 }),
  key: fc.oneof(awkwardText(8), fc.constantFrom("jobId", "seq", "provider", "action", "params", "source", "fields", "tags", "__proto__")),
  size: fc.constantFrom(2, 40, 300, 20_000, 70_000),
});

type Container = Record<string, unknown> | unknown[];
interface Place {
  parent: Container;
  key: string | number;
}

function places(value: unknown, found: Place[] = []): Place[] {
  if (typeof value !== "object" || value === null) return found;
  for (const [key, child] of Object.entries(value)) {
    found.push({ parent: value as Container, key: Array.isArray(value) ? Number(key) : key });
    places(child, found);
  }
  return found;
}

function retype(value: unknown): unknown {
  if (typeof value === "string") return value.length;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return Object.fromEntries(value.entries());
  if (value === null) return {};
  return Object.values(value as object);
}

function changed(value: unknown, m: Mutation): unknown {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? "";
  switch (m.kind) {
    case "replace":
      return m.value;
    case "retype":
      return retype(value);
    case "lengthen":
      return (text || "x").repeat(Math.ceil(m.size / Math.max(1, text.length)));
    case "deepen":
      return Array.from({ length: Math.min(m.size, 300) }).reduce<unknown>((inner) => ({ [m.key]: inner }), value);
    case "awkward":
      return `${text.slice(0, m.at % (text.length + 1))}${m.key}${text.slice(m.at % (text.length + 1))}`;
    default:
      return typeof value === "string" ? value.toUpperCase() : value;
  }
}

function apply(root: unknown, m: Mutation): unknown {
  const all = places(root);
  const place = all[m.at % Math.max(1, all.length)];
  if (!place) return m.kind === "delete" ? undefined : changed(root, m);
  const { parent, key } = place;
  if (m.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else if (m.kind === "add") {
    const target = typeof parent[key as never] === "object" && parent[key as never] !== null ? (parent[key as never] as Container) : parent;
    if (Array.isArray(target)) target.push(m.value);
    else Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  } else {
    (parent as Record<string | number, unknown>)[key] = changed(parent[key as never], m);
  }
  return root;
}

/** The message after the mutations, on a copy. */
export function mutate(message: unknown, mutations: readonly Mutation[]): unknown {
  return mutations.reduce((value, m) => apply(value, m), structuredClone(message));
}

/** Near-valid messages: valid ones with one to three mutations. */
export function nearValidJobMessage(sources: MessageSources): fc.Arbitrary<unknown> {
  return fc.tuple(validJobMessage(sources), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([valid, mutations]) => mutate(valid, mutations));
}

/** Continuations: the worker's own `{jobId, seq}`, well-formed or not. */
export const continuation: fc.Arbitrary<unknown> = fc.record(
  { jobId: fc.oneof(jobId, fc.jsonValue({ maxDepth: 1 })), seq: fc.oneof(fc.integer({ min: -2, max: 50 }), fc.double(), fc.jsonValue({ maxDepth: 1 })) },
  { requiredKeys: ["seq"] },
);

/** Any queue message body: random text, random JSON, near-valid messages and continuations, as JSON text or not. */
export function queueMessageBody(sources: MessageSources): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.json({ maxDepth: 3 }),
    nearValidJobMessage(sources).map((value) => JSON.stringify(value) ?? "null"),
    continuation.map((value) => JSON.stringify(value)),
    nearValidJobMessage(sources).map((value) => (JSON.stringify(value) ?? "").slice(0, -1)),
  );
}
