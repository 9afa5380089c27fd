/**
 * The console against the whole system in this process: the simulators and the job worker (test/jobs
 * harness), the Changes function behind the stream poller, the API and the console's function behind one
 * local API Gateway adapter (as `npm start` serves them), and an inventory filled by real syncs.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHandler } from "../../functions/api";
import { handler as changesHandler } from "../../functions/changes";
import { dynamoClient } from "../../packages/core/aws";
import { ConfigLoader } from "../../packages/core/config";
import { apiFunction, apiRoutes, changesFunction, type Provider } from "../../packages/core/resources";
import { startHttpAdapter, type HttpAdapter } from "../../packages/local/adapters/http";
import { startStreamPoller, type StreamPoller } from "../../packages/local/adapters/streams";
import { localConsoleFunction } from "../../packages/local/console-build";
import { syncProvider } from "../../packages/sync/engine";
import { startHarness, type Harness } from "../jobs/harness";
import { guardSecret } from "../support/secrets";

export interface ConsoleStack {
  url: string;
  tokens: { operator: string; viewer: string };
  h: Harness;
  /** Syncs the provider's sources and waits until their changes are recorded. */
  sync(provider: Provider): Promise<void>;
  /** A GET as the operator, for what a test expects to see. */
  api<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

export async function startConsoleStack(): Promise<ConsoleStack> {
  const h = await startHarness();
  const tokens = { operator: randomBytes(24).toString("base64url"), viewer: randomBytes(24).toString("base64url") };
  for (const token of Object.values(tokens)) guardSecret(token);
  // The Changes function reads its configuration from the environment, as on Lambda.
  process.env.IMAGESYNC_EVENTS_FILE = join(mkdtempSync(join(tmpdir(), "imagesync-console-")), "events.jsonl");
  const settings = (fn: { name: string; timeoutSeconds: number }) => ({ functionName: fn.name, timeoutSeconds: fn.timeoutSeconds });
  let poller: StreamPoller | undefined;
  let http: HttpAdapter | undefined;
  const stack: ConsoleStack = {
    url: "",
    tokens,
    h,
    async sync(provider) {
      await syncProvider(provider, { deadline: Date.now() + 60_000, trigger: "manual" }, new ConfigLoader(h.env, () => undefined));
      await poller?.drained();
    },
    async api(path) {
      const response = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${tokens.operator}` } });
      if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
      return (await response.json()) as never;
    },
    async close() {
      await poller?.stop();
      await http?.close();
      await h.close();
    },
  };
  try {
    poller = await startStreamPoller({ dynamo: dynamoClient(), tableName: h.tableName, handler: changesHandler, settings: settings(changesFunction), batchSize: 100, maxRetryAttempts: 3, pollIntervalMs: 50 });
    const apiTokens = [{ name: "operator", token: tokens.operator, scopes: ["read", "jobs"] }, { name: "viewer", token: tokens.viewer, scopes: ["read"] }];
    const config = new ConfigLoader({ ...h.env, IMAGESYNC_API_TOKENS: JSON.stringify(apiTokens) }, () => undefined);
    http = await startHttpAdapter({ handler: createHandler(config, { cacheTtlMs: 0 }), routes: apiRoutes, settings: settings(apiFunction), also: [await localConsoleFunction()] });
    stack.url = http.url;
    return stack;
  } catch (error) {
    await stack.close();
    throw error;
  }
}
