/**
 * What the sync tests share: both simulators, a fresh table, configuration pointing at them, and an
 * independent count of image writes taken from the DynamoDB client's own middleware stack.
 */
import { guardSecret } from "../support/secrets";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { dynamoClient, documentClient } from "../../packages/core/aws";
import { ConfigLoader } from "../../packages/core/config";
import type { Provider } from "../../packages/core/resources";
import { CoxEdgeClient } from "../../packages/providers/coxedge/client";
import { startCoxEdgeSimulator, type CoxEdgeSimulator } from "../../packages/simulators/coxedge/simulator";
import { TritonClient } from "../../packages/providers/triton/client";
import { startTritonSimulator, type TritonSimulator } from "../../packages/simulators/triton/simulator";
import { imagePartitionKey, type ImageItem } from "../../packages/store/inventory";
import type { Table } from "../../packages/store/table";
import { syncProvider } from "../../packages/sync/engine";
import { createTestTable } from "../support/stack";

const writeCommands = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand", "BatchWriteItemCommand", "TransactWriteItemsCommand"]);
let imageWrites = 0;
let counting = false;

/** Counts every write request whose key is an image item, as sent to DynamoDB by anyone in this process. */
function countImageWrites(): void {
  if (counting) return;
  counting = true;
  dynamoClient().middlewareStack.add(
    (next, context) => async (args) => {
      if (writeCommands.has(context.commandName ?? "")) {
        const input = args.input as { Key?: { pk?: unknown }; Item?: { pk?: unknown }; RequestItems?: unknown };
        const pk = JSON.stringify(input.Key?.pk ?? input.Item?.pk ?? input.RequestItems ?? "");
        if (pk.includes("IMAGE#")) imageWrites++;
      }
      return next(args);
    },
    { step: "initialize", name: "countImageWritesForTests" },
  );
}

export interface SourceSettings {
  maxAttempts?: number;
  timeoutMs?: number;
}

export interface Harness {
  table: Table;
  triton: TritonSimulator;
  coxedge: CoxEdgeSimulator;
  tritonSourceId: string;
  coxedgeSourceId: string;
  /** The sources' configuration entries (IMAGESYNC_*_SOURCES items). */
  sourceConfig: { triton: Record<string, unknown>; coxedge: Record<string, unknown> };
  /** The IMAGESYNC_* settings the harness's configuration is made of. */
  env: Record<string, string>;
  config(env?: Record<string, string>): ConfigLoader;
  sync(provider: Provider, options?: { sourceId?: string; deadline?: number; config?: ConfigLoader }): ReturnType<typeof syncProvider>;
  /** Image write requests since the harness started. */
  imageWrites(): number;
  /** Every item in the source's image partition, by upstream id. */
  stored(provider: Provider): Promise<Map<string, ImageItem>>;
  /** What the upstream lists right now, through a client of its own: the expected inventory. */
  upstream(provider: Provider): Promise<Map<string, Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function startHarness(options: { images?: number; source?: SourceSettings } = {}): Promise<Harness> {
  countImageWrites();
  const images = options.images ?? 40;
  const [triton, coxedge, { tableName, drop }] = await Promise.all([
    startTritonSimulator({ images, seed: 7 }),
    startCoxEdgeSimulator({ catalog: { images, seed: 7 } }),
    createTestTable(),
  ]);
  const tuning = { maxAttempts: 2, timeoutMs: 5_000, ...options.source };
  for (const secret of [triton.privateKeyPem, coxedge.apiKey]) guardSecret(secret);
  const tritonSource = { id: "triton-test", datacenter: "local-1", url: triton.url, account: triton.account, keyId: triton.keyId, privateKey: triton.privateKeyPem, ...tuning };
  const coxedgeSource = { id: "coxedge-test", baseUrl: coxedge.url, service: coxedge.service, environment: coxedge.environment, apiKey: coxedge.apiKey, ...tuning };
  const baseEnv = {
    IMAGESYNC_TABLE_NAME: tableName,
    IMAGESYNC_TRITON_SOURCES: JSON.stringify([tritonSource]),
    IMAGESYNC_COXEDGE_SOURCES: JSON.stringify([coxedgeSource]),
    IMAGESYNC_TOMBSTONE_RETENTION_DAYS: "7",
  };
  const table: Table = { client: documentClient(), name: tableName };
  const sourceIds = { triton: tritonSource.id, coxedge: coxedgeSource.id };
  const tritonClient = new TritonClient(tritonSource);
  const coxedgeClient = new CoxEdgeClient(coxedgeSource);
  const start = imageWrites;

  const harness: Harness = {
    table,
    triton,
    coxedge,
    tritonSourceId: tritonSource.id,
    coxedgeSourceId: coxedgeSource.id,
    sourceConfig: { triton: tritonSource, coxedge: coxedgeSource },
    env: baseEnv,
    config: (env = {}) => new ConfigLoader({ ...baseEnv, ...env }, () => undefined),
    sync: (provider, { sourceId, deadline = Date.now() + 60_000, config = harness.config() } = {}) =>
      syncProvider(provider, { sourceId, deadline, trigger: "manual" }, config),
    imageWrites: () => imageWrites - start,
    async stored(provider) {
      const items = new Map<string, ImageItem>();
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await table.client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": imagePartitionKey({ provider, sourceId: sourceIds[provider] }) },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) items.set(item.sk as string, item as ImageItem);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return items;
    },
    async upstream(provider) {
      const listed =
        provider === "triton"
          ? [...(await tritonClient.listImages({ state: "all" })), ...(await tritonClient.listImages({ state: "all", type: "docker" }))]
          : await coxedgeClient.listImages();
      return new Map(listed.map((image) => [image.id, image as Record<string, unknown>]));
    },
    async close() {
      await Promise.all([tritonClient.close(), coxedgeClient.close()]);
      await Promise.all([triton.close(), coxedge.close(), drop()]);
    },
  };
  return harness;
}
