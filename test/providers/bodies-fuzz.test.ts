/**
 * Properties of the upstream clients (TritonClient, CoxEdgeClient) over whatever an upstream may answer on
 * their list, get, export, delete and task endpoints: random JSON, mutated valid documents, truncated JSON,
 * wrong types, 100k-element arrays, deep nesting, garbage, odd statuses and headers, cut or stalled transfers.
 * A call returns data its schema accepts, or throws a typed UpstreamError (UpstreamResponseError for a 2xx
 * body that is not what the endpoint returns); it never hangs; no error shows the API key or private key,
 * even when the upstream echoes the credential it was sent.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as z from "../../packages/core/zod";
import { CoxEdgeClient } from "../../packages/providers/coxedge/client";
import { ImageResponseSchema, TaskResponseSchema, TaskStartedResponseSchema } from "../../packages/providers/coxedge/schemas";
import { UpstreamError, UpstreamResponseError } from "../../packages/providers/http";
import { TritonClient } from "../../packages/providers/triton/client";
import { ExportImageResultSchema, TritonImageListSchema, TritonImageSchema } from "../../packages/providers/triton/schemas";
import { checkProperty, fuzzTimeout, quietLogs } from "../support/fuzz";
import { guardSecret } from "../support/secrets";
import { acceptable, answer, CoxEdgeListing, startFuzzUpstream, validDocuments, type Answer, type FuzzUpstream } from "./upstream-fuzz";

const fuzzCredentials = {
  apiKey: `coxedge-fuzz-key-${randomBytes(16).toString("hex")}`,
  privateKey: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
};
/** The key's base64 body, which is what a leak of it would show. */
const keyBody = fuzzCredentials.privateKey.split("\n").filter((line) => line && !line.startsWith("-----")).join("");

let upstream: FuzzUpstream;
let triton: TritonClient;
let coxedge: CoxEdgeClient;
let restoreLogs: () => void;
/** Short timeouts and one quick retry: a stalled answer fails in about a second. */
const tuning = { timeoutMs: 600, maxAttempts: 2, retry: { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 100 } };

beforeAll(async () => {
  for (const secret of Object.values(fuzzCredentials)) guardSecret(secret);
  upstream = await startFuzzUpstream();
  triton = new TritonClient({ url: upstream.url, account: "fuzz", privateKey: fuzzCredentials.privateKey, ...tuning });
  coxedge = new CoxEdgeClient({ baseUrl: `${upstream.url}/api/v2`, service: "edge-services", environment: "fuzz", apiKey: fuzzCredentials.apiKey, ...tuning });
  restoreLogs = quietLogs();
});
afterAll(async () => {
  restoreLogs?.();
  await Promise.all([triton?.close(), coxedge?.close()]);
  await upstream?.close();
});

const id = validDocuments.tritonImage.id;
const coxedgeId = validDocuments.coxedgeImage.id;
const endpoints: Record<string, { call: () => Promise<unknown>; schema: z.ZodMiniType }> = {
  "triton ListImages": { call: () => triton.listImages({ state: "all" }), schema: TritonImageListSchema },
  "triton GetImage": { call: () => triton.getImage(id), schema: TritonImageSchema },
  "triton ExportImage": { call: () => triton.exportImage(id, "/fuzz/stor/x"), schema: ExportImageResultSchema },
  "triton DeleteImage": { call: () => triton.deleteImage(id), schema: z.undefined() },
  "coxedge ListImages": { call: () => coxedge.listImages(), schema: CoxEdgeListing },
  "coxedge GetImage": { call: () => coxedge.getImage(coxedgeId), schema: ImageResponseSchema },
  "coxedge GetTask": { call: () => coxedge.getTask("task-1"), schema: TaskResponseSchema },
  "coxedge DeleteImage": { call: () => coxedge.deleteImage(coxedgeId), schema: TaskStartedResponseSchema },
};

function expectNoCredential(error: unknown): void {
  const shown = error instanceof UpstreamError ? `${error.message} ${JSON.stringify(error.toJSON())}` : String(error);
  expect(shown.includes(fuzzCredentials.apiKey), "the API key in an error").toBe(false);
  expect(shown.includes(keyBody), "the private key in an error").toBe(false);
}

async function checkCall(endpoint: string, sent: Answer): Promise<void> {
  const { call, schema } = endpoints[endpoint] as (typeof endpoints)[string];
  upstream.answer = sent;
  const outcome = await call().then(
    (data) => ({ data }),
    (error: unknown) => ({ error }),
  );
  const ok = acceptable(sent, upstream.lastCredential, schema);
  if ("data" in outcome) {
    expect(ok, "data returned for a body the endpoint's schema refuses").toBe(true);
    return;
  }
  expect(outcome.error).toBeInstanceOf(UpstreamError);
  expectNoCredential(outcome.error);
  const answeredBody = (sent.transport === "normal" || sent.status === 204) && sent.transport !== "reset" && sent.status >= 200 && sent.status < 300;
  if (answeredBody) expect(outcome.error, String(outcome.error)).toBeInstanceOf(UpstreamResponseError);
  expect(ok, `a valid body refused: ${String(outcome.error)}`).toBe(false);
}

for (const provider of ["triton", "coxedge"]) {
  it(`${provider}: returns schema-valid data or throws a typed error without credentials, never hangs`, { timeout: fuzzTimeout(90_000) }, async () => {
    const names = Object.keys(endpoints).filter((name) => name.startsWith(provider));
    const property = fc.asyncProperty(fc.constantFrom(...names), answer(), checkCall);
    await checkProperty(`upstream bodies: ${provider} client`, property, 150, { timeout: 15_000 });
  });
}
