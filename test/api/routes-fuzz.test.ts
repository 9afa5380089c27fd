/**
 * Properties of the HTTP API over random requests: the real handler (functions/api.ts) behind the local API
 * Gateway adapter, on DynamoDB Local and SQS with a seeded inventory. Whatever arrives, the API answers
 * (no hang), never with a 5xx; every 4xx is problem+json (or API Gateway's own 404 for a path no route
 * matches); nothing is written unless POST /jobs accepted a job; no token appears in any response; a read
 * token gets only 403 from POST /jobs; a cursor changed in any way is refused or means exactly what it did.
 */
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dynamoClient, sqsClient } from "../../packages/core/aws";
import { apiRoutes } from "../../packages/core/resources";
import { routeMatcher } from "../../packages/local/adapters/http";
import { emptyCounts, recordRun } from "../../packages/store/runs";
import { awkwardText, checkProperty, fuzzTimeout, quietLogs } from "../support/fuzz";
import { secrets, seedInventory, sources, startApi, times, type Api } from "./harness";
import { httpRequest, type FuzzRequest, type Known } from "./requests-fuzz";

const tokens = { jobs: randomBytes(24).toString("base64url"), read: randomBytes(24).toString("base64url") };
const tokenList = [
  { name: "ops", token: tokens.jobs, scopes: ["read", "jobs"] },
  { name: "viewer", token: tokens.read, scopes: ["read"] },
];
const messageSources = { triton: [sources.east, sources.west, "triton-unknown"], coxedge: [sources.edge, "coxedge-unknown"] };
const match = routeMatcher(apiRoutes);
/** A case that takes this long has hung. */
const caseTimeoutMs = 20_000;

let api: Api;
let known: Known;
/** Successful writes as sent by anyone in this process (the handler runs here): DynamoDB items and SQS messages. */
const writes = { dynamo: 0, sqs: 0 };
/** Job ids POST /jobs accepted (202): the only items the table may gain. */
const accepted = new Set<string>();

function countWrites(): void {
  const isWrite = (command = "") => /^(Put|Update|Delete|BatchWrite|TransactWrite)(Item|Items)?Command$|^SendMessage(Batch)?Command$/.test(command);
  const options = { step: "initialize", name: "fuzzCountWrites" } as const;
  dynamoClient().middlewareStack.add((next, context) => async (args) => {
    const result = await next(args);
    if (isWrite(context.commandName)) writes.dynamo++;
    return result;
  }, options);
  sqsClient().middlewareStack.add((next, context) => async (args) => {
    const result = await next(args);
    if (isWrite(context.commandName)) writes.sqs++;
    return result;
  }, options);
}

/** Every item of the table, jobs apart, as one string; and the job ids. */
async function tableDigest(): Promise<{ items: string; jobs: string[] }> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const scanned = await api.table.client.send(new ScanCommand({ TableName: api.table.name, ConsistentRead: true, ExclusiveStartKey }));
    items.push(...(scanned.Items ?? []));
    ExclusiveStartKey = scanned.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const isJob = (item: Record<string, unknown>) => String(item.pk).startsWith("JOB#");
  const sorted = items.filter((item) => !isJob(item)).map((item) => JSON.stringify(item)).toSorted();
  return { items: sorted.join("\n"), jobs: items.filter(isJob).map((item) => String(item.pk).slice(4)).toSorted() };
}

async function page(target: string, token = tokens.jobs): Promise<{ status: number; text: string }> {
  const response = await fetch(`${api.url}${target}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text() };
}

async function realCursors(): Promise<{ target: string; cursor: string }[]> {
  const found: { target: string; cursor: string }[] = [];
  for (const target of ["/images?limit=2", "/images?limit=3&provider=triton&state=all", "/images?os=linux&limit=1", "/jobs?limit=1", `/sources/${sources.east}/runs?limit=1`]) {
    const cursor = (JSON.parse((await page(target)).text) as { nextCursor?: string }).nextCursor;
    if (!cursor) throw new Error(`no cursor from ${target}`);
    found.push({ target, cursor });
  }
  return found;
}

let cursorPages: { target: string; cursor: string }[];
let restoreLogs: (() => void) | undefined;
let initial: Awaited<ReturnType<typeof tableDigest>>;

beforeAll(async () => {
  api = await startApi({ tokens: JSON.stringify(tokenList) });
  const seeded = await seedInventory(api.table);
  const run = { provider: "triton" as const, sourceId: sources.east, trigger: "manual" as const, status: "ok" as const, durationMs: 1, counts: emptyCounts(), writes: 0, superseded: 0 };
  await recordRun(api.table, { ...run, runId: "fuzz-extra", startedAt: times.runFinished, finishedAt: times.runFinished });
  const jobIds = ["fuzz-job-1", "fuzz-job-2", "fuzz-job-3"];
  for (const jobId of jobIds) {
    const response = await api.post("/jobs", { jobId, provider: "triton", source: sources.east, action: "clone", params: { imageId: seeded[0]?.id } }, { authorization: `Bearer ${tokens.jobs}` });
    expect(response.status).toBe(202);
  }
  cursorPages = await realCursors();
  known = {
    tokens,
    sources: { ...messageSources, all: [...Object.values(sources), "triton-unknown"] },
    ids: [...seeded.slice(0, 6).map((s) => s.id), ...seeded.filter((s) => s.provider === "coxedge").map((s) => s.id), ...jobIds],
    cursors: cursorPages.map((c) => c.cursor),
  };
  countWrites();
  initial = await tableDigest();
  restoreLogs = quietLogs();
}, 120_000);
afterAll(async () => {
  restoreLogs?.();
  await api?.close();
});

/** The route API Gateway would pick, or "malformed" when it would refuse the path. */
function routeOf(request: FuzzRequest): string | undefined {
  try {
    return match(request.method, new URL(request.target, api.url).pathname)?.routeKey;
  } catch {
    return "malformed";
  }
}

function expectProblem(status: number, headers: Headers, text: string, method: string): void {
  if (method === "HEAD") {
    expect(text).toBe("");
    return;
  }
  if (headers.get("content-type") === "application/json") {
    // API Gateway's own answer when no route matches the path.
    expect({ status, body: JSON.parse(text) }).toEqual({ status: 404, body: { message: "Not Found" } });
    return;
  }
  expect(headers.get("content-type")).toBe("application/problem+json");
  const problem = JSON.parse(text) as { status: unknown; detail: unknown; title: unknown };
  expect(problem.status).toBe(status);
  expect(problem.detail).toEqual(expect.stringMatching(/\S/));
  expect(problem.title).toEqual(expect.any(String));
  if (status === 401) expect(headers.get("www-authenticate")).toBe('Bearer realm="imagesync"');
}

function expectNoSecret(headers: Headers, text: string): void {
  const seen = `${[...headers].join(" ")} ${text}`;
  for (const secret of [...Object.values(tokens), ...Object.values(secrets)]) expect(seen.includes(secret), "a secret in the response").toBe(false);
}

async function send(request: FuzzRequest): Promise<{ response: Response; text: string }> {
  const response = await fetch(`${api.url}${request.target}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: "manual",
    signal: AbortSignal.timeout(caseTimeoutMs),
  });
  return { response, text: await response.text() };
}

/** One request against every property (failing by assertion); returns the status. */
async function checkedStatus(request: FuzzRequest): Promise<number> {
  const before = { ...writes };
  const route = routeOf(request);
  const { response, text } = await send(request);
  const { status, headers } = response;
  expect(status, text).toBeLessThan(500);
  if (status >= 400) expectProblem(status, headers, text, request.method);
  expectNoSecret(headers, text);
  const refusedByAdapter = route === "malformed" || status === 413 || (status === 400 && text.includes("Malformed request"));
  if (route === "POST /jobs" && request.headers.authorization === `Bearer ${tokens.read}` && !refusedByAdapter) expect(status).toBe(403);
  if (route === "malformed") expect(status).toBe(400);
  const wrote = writes.dynamo > before.dynamo || writes.sqs > before.sqs;
  if (route === "POST /jobs" && status === 202) accepted.add((JSON.parse(text) as { jobId: string }).jobId);
  else if (!(route === "POST /jobs" && status === 200)) expect(wrote, `${status} ${text}`).toBe(false);
  return status;
}

/** As a fast-check predicate, which must return nothing (any value but `true` counts as a failure). */
async function checkRequest(request: FuzzRequest): Promise<void> {
  await checkedStatus(request);
}

it("answers any request without a 5xx, refuses with problem+json, writes only accepted jobs and shows no token", { timeout: fuzzTimeout(120_000) }, async () => {
  await checkProperty("http: any request", fc.asyncProperty(httpRequest(known), checkRequest), 400, { timeout: caseTimeoutMs });
});

it("gives a read token 403 on POST /jobs, whatever else the request holds", { timeout: fuzzTimeout(60_000) }, async () => {
  const asReader = httpRequest(known).map((r): FuzzRequest => {
    const query = r.target.includes("?") ? r.target.slice(r.target.indexOf("?")) : "";
    return { ...r, method: "POST", target: `/jobs${query}`, headers: { ...r.headers, authorization: `Bearer ${tokens.read}` }, body: r.body ?? "" };
  });
  await checkProperty("http: read token on POST /jobs", fc.asyncProperty(asReader, checkRequest), 150, { timeout: caseTimeoutMs });
});

it("answers any image id on the greedy route, however long, odd or full of slashes", { timeout: fuzzTimeout(60_000) }, async () => {
  const unit = fc.constantFrom("a", "é", "😀", "/", "%2F", "%25", " ", "~", ".", "%00", "%zz");
  // Lengths around DynamoDB's 1024-byte key limit, in characters of one to four bytes.
  const id = fc.oneof(
    fc.tuple(unit, fc.integer({ min: 1, max: 1100 })).map(([text, count]) => text.repeat(count)),
    fc.tuple(fc.string({ unit, minLength: 1, maxLength: 40 }), fc.constantFrom(1, 30, 120)).map(([text, count]) => text.repeat(count)),
  );
  const cases = fc.record({ provider: fc.constantFrom("triton", "coxedge", "x"), id, query: fc.constantFrom("", `?source=${sources.east}`, "?source=", "?limit=2") });
  const property = fc.asyncProperty(cases, ({ provider, id: value, query: search }) =>
    checkRequest({ method: "GET", target: `/images/${provider}/${value}${search}`, headers: { authorization: `Bearer ${tokens.read}` } }),
  );
  await checkProperty("http: greedy image ids", property, 100, { timeout: caseTimeoutMs });
});

const maxBodyBytes = 10 * 1024 * 1024;

/** A body of `size` bytes: a job padded with spaces, a job with a huge description, a JSON array, text or binary garbage. */
function largeBody(kind: string, size: number): Uint8Array {
  const job = { provider: "triton", source: sources.east, action: "create", params: { machine: "5e4a1c32-1111-4222-8333-444455556666", name: "big", version: "1" } };
  const heads: Record<string, string> = { description: JSON.stringify({ ...job, params: { ...job.params, description: "" } }).slice(0, -3), array: "[", binary: "" };
  const head = heads[kind] ?? JSON.stringify(job);
  const tail = kind === "description" ? '"}}' : kind === "array" ? "1]" : "";
  const fill = { array: "1,", garbage: "\u00ff", description: "x", padded: " ", binary: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) }[kind] ?? " ";
  const bytes = Buffer.alloc(size, fill);
  bytes.write(head, 0);
  bytes.write(tail, size - tail.length);
  return bytes;
}

it("answers bodies around the 10 MB limit: 413 above it, never a 5xx", { timeout: fuzzTimeout(120_000) }, async () => {
  const large = fc.record({
    kind: fc.constantFrom("padded", "description", "array", "garbage", "binary"),
    size: fc.constantFrom(maxBodyBytes - 1, maxBodyBytes, maxBodyBytes + 1, maxBodyBytes + 200_000, 600_000),
    token: fc.constantFrom(tokens.jobs, tokens.read),
  });
  const property = fc.asyncProperty(large, async ({ kind, size, token }) => {
    const body = largeBody(kind, size);
    const before = accepted.size;
    const status = await checkedStatus({ method: "POST", target: "/jobs", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
    if (size > maxBodyBytes) expect(status).toBe(413);
    else if (token === tokens.read) expect(status).toBe(403);
    else if (kind !== "padded") expect(status).toBe(400);
    if (size > maxBodyBytes) expect(accepted.size).toBe(before);
  });
  await checkProperty("http: bodies around 10 MB", property, 6, { timeout: caseTimeoutMs });
});

const cursorMutation = fc.record({ kind: fc.constantFrom("replace", "delete", "insert", "truncate", "case"), at: fc.nat(), char: fc.constantFrom(..."AZaz09-_.=+/% é~") });

function mutateCursor(cursor: string, mutations: readonly { kind: string; at: number; char: string }[]): string {
  return mutations.reduce((text, { kind, at, char }) => {
    const i = at % (text.length + 1);
    if (kind === "replace") return `${text.slice(0, i)}${char}${text.slice(i + 1)}`;
    if (kind === "delete") return `${text.slice(0, i)}${text.slice(i + 1)}`;
    if (kind === "insert") return `${text.slice(0, i)}${char}${text.slice(i)}`;
    if (kind === "truncate") return text.slice(0, i);
    const c = text.charAt(i);
    return `${text.slice(0, i)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${text.slice(i + 1)}`;
  }, cursor);
}

it("refuses a cursor changed in any way with 400 naming it, or serves exactly the page it stood for", { timeout: fuzzTimeout(60_000) }, async () => {
  const cases = fc.record({ base: fc.constantFrom(...cursorPages), mutations: fc.array(cursorMutation, { minLength: 1, maxLength: 3 }), reader: fc.boolean() });
  const property = fc.asyncProperty(cases, async ({ base, mutations, reader }) => {
    const changed = mutateCursor(base.cursor, mutations);
    const before = { ...writes };
    const [original, answer] = await Promise.all([
      page(`${base.target}&cursor=${encodeURIComponent(base.cursor)}`),
      page(`${base.target}&cursor=${encodeURIComponent(changed)}`, reader ? tokens.read : tokens.jobs),
    ]);
    expect(original.status).toBe(200);
    expect(writes).toEqual(before);
    if (answer.status === 200 && !reader) {
      expect(answer.text).toBe(original.text);
    } else {
      expect(answer.status, answer.text).toBe(400);
      expect((JSON.parse(answer.text) as { invalidParams: { name: string }[] }).invalidParams[0]?.name).toBe("cursor");
    }
  });
  await checkProperty("http: mutated cursors", property, 150, { timeout: caseTimeoutMs });
});

/** Sends raw bytes on a fresh connection and returns everything the server answered before closing. */
function rawExchange(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(api.url).port), "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(caseTimeoutMs, () => socket.destroy(new Error("no answer")));
    socket.on("data", (chunk) => chunks.push(chunk)).on("error", reject).on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    // Not end(): a client that half-closes gets its request aborted by Node's server before any answer.
    socket.write(bytes);
  });
}

it("answers any request line and header bytes with an HTTP response under 500", { timeout: fuzzTimeout(60_000) }, async () => {
  const line = fc.record({
    method: fc.constantFrom("GET", "POST", "get", "HEAD", "BREW", "G T"),
    target: fc.oneof(fc.string({ unit: "binary-ascii", maxLength: 60 }).map((t) => `/${t}`), awkwardText(40).map((t) => `/images/triton/${t}`), fc.constantFrom("*", "http://x/jobs", "/jobs?cursor=%", "")),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x", ""),
    header: fc.string({ unit: "binary-ascii", maxLength: 30 }),
    token: fc.constantFrom(tokens.jobs, tokens.read, ""),
  });
  const property = fc.asyncProperty(line, async ({ method, target, version, header, token }) => {
    const text = `${method} ${target} ${version}\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\nx-fuzz: ${header}\r\nconnection: close\r\n\r\n`;
    const before = { ...writes };
    const answer = await rawExchange(Buffer.from(text, "latin1"));
    const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(answer)?.[1]);
    expect(status, answer.slice(0, 200)).toBeGreaterThanOrEqual(200);
    expect(status, answer.slice(0, 200)).toBeLessThan(500);
    expect(writes).toEqual(before);
    for (const secret of Object.values(tokens)) expect(answer.includes(secret)).toBe(false);
  });
  await checkProperty("http: raw request bytes", property, 150, { timeout: caseTimeoutMs });
});

it("leaves the table as it was, apart from the jobs POST /jobs accepted", async () => {
  const after = await tableDigest();
  expect(after.items).toBe(initial.items);
  expect(after.jobs).toEqual([...initial.jobs, ...accepted].toSorted());
});
