/**
 * A sync run (packages/sync/engine.ts syncSource, with each provider's configured source) whose listing the
 * client refuses — a body that is not a listing, a cut or stalled transfer, an error status — ends `failed`
 * with the reason and no credential, and leaves the source's inventory exactly as the last good run left it.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ConfigLoader } from "../../packages/core/config";
import type { Provider } from "../../packages/core/resources";
import { TritonImageListSchema } from "../../packages/providers/triton/schemas";
import { imagePartitionKey } from "../../packages/store/inventory";
import type { Table } from "../../packages/store/table";
import { syncSource, type SyncOptions } from "../../packages/sync/engine";
import { configuredSources, type SnapshotSource } from "../../packages/sync/sources";
import { acceptable, answer, CoxEdgeListing, echo, startFuzzUpstream, validDocuments, type FuzzUpstream } from "../providers/upstream-fuzz";
import { checkProperty, fuzzTimeout, quietLogs } from "../support/fuzz";
import { guardSecret } from "../support/secrets";
import { createTestTable } from "../support/stack";
import { documentClient } from "../../packages/core/aws";

const apiKey = `coxedge-sync-fuzz-${randomBytes(16).toString("hex")}`;
const privateKey = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const keyBody = privateKey.split("\n").filter((line) => line && !line.startsWith("-----")).join("");

let upstream: FuzzUpstream;
let table: Table;
let drop: () => Promise<void>;
let sources: Record<Provider, SnapshotSource>;
let restoreLogs: () => void;

/** Three images of each provider: what the last good listing held. */
const uuids = ["2b683a82-a066-11e3-97ab-2faa44701c5a", "3c683a82-a066-11e3-97ab-2faa44701c5a", "4d683a82-a066-11e3-97ab-2faa44701c5a"];
const goodListing: Record<Provider, string> = {
  triton: JSON.stringify(uuids.map((id) => ({ ...validDocuments.tritonImage, id }))),
  coxedge: JSON.stringify({ data: uuids.map((id) => ({ ...validDocuments.coxedgeImage, id: `${id}/ubuntu/v1`, stackId: id })), metadata: { recordCount: 3 } }),
};
const listingSchema = { triton: TritonImageListSchema, coxedge: CoxEdgeListing };

const options = (): SyncOptions => ({
  table,
  retentionDays: 30,
  runRetentionDays: 90,
  leaseSeconds: 900,
  removalGuard: { maxShare: 0.25, minCount: 5 },
  deadline: Date.now() + 60_000,
  trigger: "manual",
});

async function inventory(provider: Provider): Promise<string> {
  const { Items = [] } = await table.client.send(
    new QueryCommand({ TableName: table.name, ConsistentRead: true, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": imagePartitionKey(sources[provider]) } }),
  );
  return JSON.stringify(Items);
}

beforeAll(async () => {
  for (const secret of [apiKey, privateKey]) guardSecret(secret);
  upstream = await startFuzzUpstream();
  const created = await createTestTable();
  table = { client: documentClient(), name: created.tableName };
  drop = created.drop;
  // One attempt: retries (and their backoff) are the client properties' business.
  const tuning = { timeoutMs: 1000, maxAttempts: 1 };
  const config = new ConfigLoader(
    {
      IMAGESYNC_TABLE_NAME: created.tableName,
      IMAGESYNC_TRITON_SOURCES: JSON.stringify([{ id: "triton-fuzz", datacenter: "fuzz-1", url: upstream.url, account: "fuzz", privateKey, ...tuning }]),
      IMAGESYNC_COXEDGE_SOURCES: JSON.stringify([{ id: "coxedge-fuzz", baseUrl: `${upstream.url}/api/v2`, environment: "fuzz", apiKey, ...tuning }]),
    },
    () => undefined,
  );
  sources = { triton: configuredSources("triton", config)[0] as SnapshotSource, coxedge: configuredSources("coxedge", config)[0] as SnapshotSource };
  restoreLogs = quietLogs();
}, 60_000);
afterAll(async () => {
  restoreLogs?.();
  await Promise.all(Object.values(sources ?? {}).map((source) => source.close()));
  await upstream?.close();
  await drop?.();
});

for (const provider of ["triton", "coxedge"] as const) {
  it(`${provider}: a refused listing fails the run and leaves the inventory untouched`, { timeout: fuzzTimeout(90_000) }, async () => {
    upstream.answer = { status: 200, headers: {}, body: goodListing[provider], transport: "normal" };
    // Triton lists Docker images in a call of its own (`type=docker`): none, or the listing would repeat ids.
    upstream.override = (url) => (url.includes("type=docker") ? { ...upstream.answer, body: "[]" } : undefined);
    const seeded = await syncSource(sources[provider], options());
    upstream.override = undefined;
    expect(seeded.status, seeded.error).toBe("ok");
    const before = await inventory(provider);
    expect(JSON.parse(before)).toHaveLength(3);
    const refused = answer().filter((sent) => !acceptable(sent, "x", listingSchema[provider]) && !acceptable(sent, echo, listingSchema[provider]));
    const property = fc.asyncProperty(refused, async (sent) => {
      upstream.answer = sent;
      const run = await syncSource(sources[provider], options());
      expect(run.status, run.error).toBe("failed");
      expect(run.error).toEqual(expect.any(String));
      for (const secret of [apiKey, keyBody]) expect(run.error?.includes(secret)).toBe(false);
      expect(await inventory(provider)).toBe(before);
    });
    await checkProperty(`sync: refused ${provider} listings`, property, 40, { timeout: 20_000 });
  });
}
