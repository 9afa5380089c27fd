/**
 * HTTP requests for the API's property tests: paths made from the route templates (parameters filled with
 * real ids, awkward text, bad percent-escapes, NUL, unicode, long and greedy values) or made up, query
 * strings of known and unknown parameters (repeated, huge, real cursors), authorization, content-type,
 * If-None-Match and Idempotency-Key variants, and bodies (valid and near-valid jobs, JSON, garbage, bytes).
 */
import fc from "fast-check";
import { apiRoutes } from "../../packages/core/resources";
import { awkwardText } from "../support/fuzz";
import { nearValidJobMessage, validJobMessage, type MessageSources } from "../jobs/messages-fuzz";

export interface FuzzRequest {
  method: string;
  /** Path and query, as given to fetch (which may still normalise it). */
  target: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** What the generators draw known values from. */
export interface Known {
  tokens: { jobs: string; read: string };
  sources: MessageSources & { all: readonly string[] };
  /** Ids that exist: image ids of both providers, job ids. */
  ids: readonly string[];
  cursors: readonly string[];
}

const badEscapes = ["%", "%zz", "%2", "%00", "%2F", "%2f", "%C0%80", "%ED%A0%80", "%FF", "%E2%82", "x%00y", "..", ".", "%25", "+"];

/** encodeURIComponent, or the text as is (fetch encodes what it must); lone surrogates stay raw. */
function maybeEncoded(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(text, fc.boolean()).map(([value, encode]) => {
    if (!encode) return value;
    try {
      return encodeURIComponent(value);
    } catch {
      return value;
    }
  });
}

function segment(known: Known): fc.Arbitrary<string> {
  const long = fc.tuple(fc.constantFrom(100, 300, 700, 1100), fc.constantFrom("a", "é", "😀", "%41")).map(([n, c]) => c.repeat(n));
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom("triton", "coxedge", ...known.sources.all, ...known.ids.map(encodeURIComponent), ...known.ids) },
    { weight: 3, arbitrary: maybeEncoded(awkwardText(24)) },
    { weight: 1, arbitrary: fc.constantFrom(...badEscapes) },
    { weight: 1, arbitrary: long },
  );
}

function path(known: Known): fc.Arbitrary<{ method: string; path: string }> {
  const routes = fc.constantFrom(...apiRoutes, "POST /jobs", "POST /jobs", "POST /jobs");
  const provider = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("triton", "coxedge") }, { weight: 1, arbitrary: segment(known) });
  const fromTemplate = fc.tuple(routes, provider, fc.array(segment(known), { minLength: 4, maxLength: 4 }), fc.nat(3)).map(([route, providerValue, values, greedy]) => {
    const [method, template] = route.split(" ") as [string, string];
    let n = 0;
    const fill = (name: string, plus: string) => (name === "provider" ? providerValue : plus ? values.slice(n, n + greedy + 1).join("/") : (values[n++] as string));
    return { method, path: template.replace(/\{(\w+)(\+?)\}/g, (_, name: string, plus: string) => fill(name, plus)) };
  });
  const madeUp = fc.tuple(fc.constantFrom("GET", "POST"), fc.array(segment(known), { maxLength: 5 }), fc.constantFrom("/", "//", "/./")).map(([method, parts, join]) => ({
    method,
    path: `/${parts.join(join)}`,
  }));
  return fc.oneof({ weight: 6, arbitrary: fromTemplate }, { weight: 1, arbitrary: madeUp });
}

const queryNames = ["provider", "source", "name", "os", "version", "public", "state", "owner", "type", "imageType", "family", "tag", "tag.role", "tag.", "limit", "cursor"];

function queryValue(known: Known): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("triton", "coxedge", "true", "false", "present", "removed", "all", "active", "queued", "failed", "default", "custom", "linux", "~ubuntu", "~", "", "1", "0", "5", "1000", "1001", "-1", "1e2", "0x10", "2.5", "NaN", ...known.sources.all) },
    { weight: 2, arbitrary: fc.constantFrom(...known.cursors).map(encodeURIComponent) },
    { weight: 3, arbitrary: maybeEncoded(awkwardText(30)) },
    { weight: 1, arbitrary: fc.constantFrom(...badEscapes) },
    { weight: 1, arbitrary: fc.constantFrom(300, 4097, 6000, 11_000).map((n) => "x".repeat(n)) },
  );
}

/** Parameters with values the routes accept, so most requests get past validation. */
function tameQuery(known: Known): fc.Arbitrary<string> {
  const values: Record<string, readonly string[]> = {
    provider: ["triton", "coxedge"],
    source: known.sources.all,
    name: ["ubuntu-20.04", "~ubuntu", "~2", "web-frontend"],
    os: ["linux", "smartos", "ubuntu-2004-lts"],
    version: ["20.0.0", "v1.2.3"],
    public: ["true", "false"],
    state: ["present", "removed", "all", "active", "disabled", "queued", "failed"],
    type: ["zvol", "zone-dataset", "default", "custom"],
    imageType: ["default", "custom"],
    family: ["ubuntu-2004-lts", "web-frontend"],
    tag: ["v20240101", "v1.2.3"],
    "tag.role": ["os", "web"],
    limit: ["1", "2", "5", "100"],
    cursor: known.cursors,
  };
  const pair = (name: string) => fc.constantFrom(...(values[name] ?? [""])).map((value) => `${name}=${encodeURIComponent(value)}`);
  return fc
    .uniqueArray(fc.constantFrom(...Object.keys(values)), { maxLength: 3 })
    .chain((names) => fc.tuple(...names.map(pair)))
    .map((pairs) => (pairs.length ? `?${pairs.join("&")}` : ""));
}

function query(known: Known): fc.Arbitrary<string> {
  const name = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...queryNames) }, { weight: 1, arbitrary: maybeEncoded(awkwardText(10)) }, { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty") });
  const pair = fc.tuple(name, queryValue(known), fc.boolean()).map(([n, v, withValue]) => (withValue ? `${n}=${v}` : n));
  const wild = fc.array(pair, { minLength: 1, maxLength: 5 }).map((pairs) => `?${pairs.join("&")}`);
  return fc.oneof({ weight: 3, arbitrary: tameQuery(known) }, { weight: 2, arbitrary: wild });
}

/** Header values fetch can send: visible ASCII, space and tab, some Latin-1. */
const headerText = fc.string({ unit: fc.constantFrom(..."abcXYZ019 \t!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~é\u00ff"), maxLength: 40 });

function headers(known: Known): fc.Arbitrary<Record<string, string>> {
  const { jobs, read } = known.tokens;
  const authorization = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(`Bearer ${jobs}`, `Bearer ${read}`) },
    { weight: 2, arbitrary: fc.constantFrom(`bearer ${jobs}`, `Bearer  ${read}  `, `Bearer ${jobs}x`, `Basic ${jobs}`, "Bearer", `Bearer ${jobs} ${read}`, `Bearer ${read.slice(0, -1)}`, "") },
    { weight: 1, arbitrary: headerText },
  );
  const contentType = fc.constantFrom("application/json", "application/json", "application/json", "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json", "application/vnd.x+json", "application/foo bar+json", "text/plain", "application/octet-stream", "application/json;", "application/jsonx", "multipart/form-data");
  const etag = fc.oneof(fc.constantFrom("*", '"x"', 'W/"x"', ",", '"', "*, *"), headerText);
  const optional = { requiredKeys: ["authorization", "content-type"] as ("authorization" | "content-type")[] };
  return fc
    .tuple(
      fc.record({ authorization, "content-type": contentType, "if-none-match": etag, "idempotency-key": fc.oneof(fc.constantFrom(...known.ids), headerText) }, optional),
      fc.option(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), headerText)),
    )
    .map(([chosen, extra]) => (extra && !(extra[0] in chosen) ? { ...chosen, [extra[0]]: extra[1] } : chosen));
}

/** Bodies: jobs (valid, near-valid, replayed ids), JSON, truncated JSON, garbage text and bytes. */
export function body(known: Known): fc.Arbitrary<string | Uint8Array> {
  const replayed = fc.tuple(validJobMessage(known.sources), fc.constantFrom(...known.ids)).map(([message, jobId]) => ({ ...message, jobId }));
  return fc.oneof(
    { weight: 8, arbitrary: validJobMessage(known.sources).map((m) => JSON.stringify(m)) },
    { weight: 5, arbitrary: nearValidJobMessage(known.sources).map((m) => JSON.stringify(m) ?? "") },
    { weight: 1, arbitrary: replayed.map((m) => JSON.stringify(m)) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.tuple(validJobMessage(known.sources), fc.nat()).map(([m, cut]) => JSON.stringify(m).slice(0, cut % 60)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  );
}

const methodsWithBody = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function httpRequest(known: Known): fc.Arbitrary<FuzzRequest> {
  const method = fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "GET", "POST") });
  return fc.record({ route: path(known), method, query: query(known), headers: headers(known), body: body(known) }).map(({ route, method: other, query: search, headers: chosen, body: payload }) => {
    const chosenMethod = other ?? route.method;
    return { method: chosenMethod, target: `${route.path}${search}`, headers: chosen, ...(methodsWithBody.has(chosenMethod) ? { body: payload } : {}) };
  });
}
