/**
 * The HTTP API on the real local stack: a fresh DynamoDB Local table and SQS queues, the deployed handler
 * wiring (functions/api.ts) with a test configuration, served over real HTTP by the local API Gateway adapter.
 * Seed data is written through the store's own write functions, as sync and jobs write it.
 */
import { guardSecret } from "../support/secrets";
import { randomBytes } from "node:crypto";
import { documentClient } from "../../packages/core/aws";
import { ConfigLoader } from "../../packages/core/config";
import { apiFunction, apiRoutes, providers, type Provider } from "../../packages/core/resources";
import { startHttpAdapter } from "../../packages/local/adapters/http";
import { stackpathStackId } from "../../packages/providers/coxedge/schemas";
import { buildImage, environmentStack } from "../../packages/simulators/coxedge/catalog";
import type { CoxEdgeImage } from "../../packages/providers/coxedge/schemas";
import type { TritonImage } from "../../packages/providers/triton/schemas";
import { writeSourceDirectory } from "../../packages/store/directory";
import { writeImageContent, writeTombstone } from "../../packages/store/inventory";
import { describeSources } from "../../packages/sync/sources";
import { normaliseImage, type UpstreamDocument } from "../../packages/store/normalise";
import { emptyCounts, recordRun } from "../../packages/store/runs";
import type { Table } from "../../packages/store/table";
import { createHandler } from "../../functions/api";
import { createTestQueues, createTestTable } from "../support/stack";

export const sources = {
  east: "triton-us-east-1-acme",
  west: "triton-eu-west-1-acme",
  edge: "coxedge-edge-services-prod",
  /** Configured, never synced. */
  idle: "coxedge-edge-services-idle",
} as const;

export const secrets = { tritonKey: "-----BEGIN PRIVATE KEY-----not-a-real-key", coxedgeKey: "coxedge-api-key-that-must-not-leak" };

export interface Api {
  url: string;
  token: string;
  table: Table;
  queues: Awaited<ReturnType<typeof createTestQueues>>;
  env: Record<string, string>;
  get(path: string, init?: { token?: string | null; headers?: Record<string, string> }): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startApi(options: { cacheTtlMs?: number; corsOrigins?: string; tokens?: string } = {}): Promise<Api> {
  const [created, queues] = await Promise.all([createTestTable(), createTestQueues()]);
  const token = randomBytes(24).toString("base64url");
  for (const secret of [token, secrets.tritonKey, secrets.coxedgeKey]) guardSecret(secret);
  for (const entry of JSON.parse(options.tokens ?? "[]") as { token: string }[]) guardSecret(entry.token);
  const env: Record<string, string> = {
    IMAGESYNC_TABLE_NAME: created.tableName,
    IMAGESYNC_JOB_QUEUE_URL: queues.jobQueueUrl,
    IMAGESYNC_DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
    IMAGESYNC_API_TOKEN: token,
    IMAGESYNC_TRITON_SOURCES: JSON.stringify([
      { id: sources.east, datacenter: "us-east-1", url: "https://us-east-1.example.test", account: "acme", privateKey: secrets.tritonKey },
      { id: sources.west, datacenter: "eu-west-1", url: "https://eu-west-1.example.test", account: "acme", privateKey: secrets.tritonKey },
    ]),
    IMAGESYNC_COXEDGE_SOURCES: JSON.stringify([
      { id: sources.edge, environment: "prod", apiKey: secrets.coxedgeKey },
      { id: sources.idle, environment: "idle", apiKey: secrets.coxedgeKey },
    ]),
    ...(options.corsOrigins ? { IMAGESYNC_CORS_ORIGINS: options.corsOrigins } : {}),
    ...(options.tokens ? { IMAGESYNC_API_TOKENS: options.tokens } : {}),
  };
  const table = { client: documentClient(), name: created.tableName };
  // The directory the sync functions write. The API reads sources from it: its own configuration, like
  // the deployed function's links, has no source secrets at all.
  const syncConfig = new ConfigLoader(env, () => undefined);
  for (const provider of providers) await writeSourceDirectory(table, provider, describeSources(provider, syncConfig));
  const { IMAGESYNC_TRITON_SOURCES: _triton, IMAGESYNC_COXEDGE_SOURCES: _coxedge, ...apiEnv } = env;
  const adapter = await startHttpAdapter({
    handler: createHandler(new ConfigLoader(apiEnv, () => undefined), { cacheTtlMs: options.cacheTtlMs ?? 0 }),
    routes: apiRoutes,
    settings: { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds },
  });
  const auth = (t: string | null | undefined): Record<string, string> => (t === null ? {} : { authorization: `Bearer ${t ?? token}` });
  return {
    url: adapter.url,
    token,
    table,
    queues,
    env,
    get: (path, init = {}) => fetch(`${adapter.url}${path}`, { headers: { ...auth(init.token), ...init.headers } }),
    post: (path, body, headers = {}) =>
      fetch(`${adapter.url}${path}`, {
        method: "POST",
        headers: { ...auth(undefined), "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    async close() {
      await adapter.close();
      await Promise.all([created.drop(), queues.drop()]);
    },
  };
}

/** An image as seeded, with what the API should answer for it. */
export interface Seeded {
  provider: Provider;
  source: string;
  id: string;
  document: UpstreamDocument;
  removed: boolean;
}

const uuid = (n: number, prefix = "0000") => `${prefix}${n.toString(16).padStart(4, "0")}-1111-4222-8333-444455556666`;
export const acmeOwner = "930896af-bf8c-48d4-885c-6573a94b1853";
const joyentOwner = "9dce1460-0c4c-4417-ab8b-25ca478c5a78";

function tritonImage(n: number): TritonImage {
  const oses = ["linux", "smartos", "windows"] as const;
  const names = ["ubuntu-20.04", "base-64-lts", "centos-7", "ubuntu-22.04", "win2019"];
  return {
    id: uuid(n),
    name: names[n % names.length] as string,
    version: `${20 + (n % 3)}.${n % 4}.0`,
    os: oses[n % oses.length],
    type: n % 5 === 0 ? "zvol" : "zone-dataset",
    requirements: { min_ram: 512 },
    public: n % 2 === 0,
    owner: n % 2 === 0 ? joyentOwner : acmeOwner,
    state: n % 7 === 3 ? "disabled" : "active",
    published_at: new Date(Date.UTC(2024, 0, 1 + n)).toISOString(),
    tags: { role: "os" },
    files: [{ compression: "gzip", sha1: "0123456789abcdef0123456789abcdef01234567", size: 1000 + n }],
  };
}

function coxedgeImages(): CoxEdgeImage[] {
  const custom = environmentStack("prod");
  const stackpath = { stackId: stackpathStackId, slug: "stackpath-edge" };
  const at = (n: number) => new Date(Date.UTC(2024, 5, 1 + n)).toISOString();
  return [
    buildImage(stackpath, { family: "ubuntu-2004-lts", tag: "v20240101", createdAt: at(1), description: "Ubuntu 20.04", status: "READY" }),
    buildImage(stackpath, { family: "ubuntu-2004-lts", tag: "v20240601", createdAt: at(2), description: "Ubuntu 20.04", status: "READY" }),
    buildImage(stackpath, { family: "centos7", tag: "v20201110", createdAt: at(3), description: "CentOS 7", status: "READY" }),
    buildImage(custom, { family: "web-frontend", tag: "v1.2.3", createdAt: at(4), description: "frontend", status: "READY" }),
    buildImage(custom, { family: "web-frontend", tag: "v1.2.4", createdAt: at(5), description: "frontend", status: "PENDING" }),
    buildImage(custom, { family: "db", tag: "2024.06.01", createdAt: at(6), description: "database", status: "FAILED" }),
  ];
}

/**
 * 24 Triton images in us-east-1 (two of them tombstoned), 3 in eu-west-1 (one also in us-east-1), and
 * 6 Cox Edge images (one tombstoned), plus a successful run for each synced source.
 */
/** Recent, so DynamoDB Local's TTL does not delete the tombstones (they expire 30 days after removal). */
const day = 86_400_000;
const midnight = Math.floor(Date.now() / day) * day;
export const times = {
  observed: new Date(midnight - 2 * day).toISOString(),
  removed: new Date(midnight - day).toISOString(),
  snapshot: new Date(midnight - day + 500).toISOString(),
  runStarted: new Date(midnight - day).toISOString(),
  runFinished: new Date(midnight - day + 5000).toISOString(),
};

export async function seedInventory(table: Table): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  const add = (provider: Provider, source: string, document: UpstreamDocument, removed = false) =>
    seeded.push({ provider, source, id: document.image.id, document, removed });
  for (let n = 0; n < 24; n++) add("triton", sources.east, { provider: "triton", image: tritonImage(n) }, n === 4 || n === 11);
  for (const n of [1, 100, 101]) add("triton", sources.west, { provider: "triton", image: tritonImage(n) });
  coxedgeImages().forEach((image, i) => add("coxedge", sources.edge, { provider: "coxedge", image }, i === 2));

  await Promise.all(seeded.map((s) => writeImageContent(table, s.source, normaliseImage(s.document), times.observed, "sync:seed")));
  await Promise.all(
    seeded
      .filter((s) => s.removed)
      .map((s) => writeTombstone(table, { provider: s.provider, sourceId: s.source, upstreamId: s.id }, { observedAt: times.removed, retentionDays: 30, cause: "sync:seed" })),
  );
  for (const [provider, sourceId] of [["triton", sources.east], ["triton", sources.west], ["coxedge", sources.edge]] as const) {
    await recordRun(table, {
      provider,
      sourceId,
      runId: `run-${sourceId}`,
      trigger: "schedule",
      status: "ok",
      startedAt: times.runStarted,
      finishedAt: times.runFinished,
      durationMs: 5000,
      snapshotAt: times.snapshot,
      counts: { ...emptyCounts(), seen: seeded.filter((s) => s.source === sourceId && !s.removed).length },
      writes: 0,
      superseded: 0,
    });
  }
  return seeded;
}

/** Follows `nextCursor` to the end; fails on a page over the limit. */
export async function listAll(api: Api, query: string, limit = 5): Promise<{ items: Record<string, unknown>[]; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const params = new URLSearchParams(query);
    params.set("limit", String(limit));
    if (cursor) params.set("cursor", cursor);
    const response = await api.get(`/images?${params}`);
    if (response.status !== 200) throw new Error(`GET /images?${params} answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { items: Record<string, unknown>[]; nextCursor?: string };
    if (page.items.length > limit) throw new Error(`page of ${page.items.length} items over limit ${limit}`);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { items, pages };
}
