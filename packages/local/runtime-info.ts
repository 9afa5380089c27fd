/**
 * What a running `npm start` publishes for other local commands (`npm run sync`, `npm run dlq:redrive`,
 * the CLI): endpoints and resource names. Credentials are not in it: they are re-read from the files and
 * environment the runtime itself used. Written to the git-ignored `.data/` folder, removed at shutdown.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { providers, syncWorkerFunctions } from "../core/resources";
import { localSdkEnvironment } from "./sdk-env";

/** Under the runtime's data dir: `.data` unless `npm start -- --data-dir` / IMAGESYNC_DATA_DIR say otherwise. */
export function runtimeInfoPath(dataDir = process.env.IMAGESYNC_DATA_DIR ?? ".data"): string {
  return resolve(dataDir, "runtime.json");
}

export const RuntimeInfoSchema = z.object({
  pid: z.number().int(),
  apiUrl: z.url(),
  dynamoEndpoint: z.url(),
  sqsEndpoint: z.url(),
  region: z.string(),
  tableName: z.string(),
  jobQueueUrl: z.url(),
  deadLetterQueueUrl: z.url(),
  /** Each provider's sync queue (`imagesync sync` enqueues there, as the schedules do). */
  syncQueueUrls: z.object({ triton: z.url(), coxedge: z.url() }),
  /** Files holding the source lists and API token the runtime uses (0600, git-ignored). */
  tritonSourcesFile: z.string(),
  coxedgeSourcesFile: z.string(),
  apiTokenFile: z.string(),
  /** Change and job events, one JSON line each (`imagesync events --follow`). */
  eventsFile: z.string(),
});
export type RuntimeInfo = z.infer<typeof RuntimeInfoSchema>;

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  const path = runtimeInfoPath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(info, null, 2), { mode: 0o600 });
}

export function removeRuntimeInfo(dataDir: string): void {
  rmSync(runtimeInfoPath(dataDir), { force: true });
}

/** The running local runtime, or undefined when none is running (stale files from a crash are ignored). */
export function readRuntimeInfo(dataDir?: string): RuntimeInfo | undefined {
  const path = runtimeInfoPath(dataDir);
  if (!existsSync(path)) return undefined;
  const info = RuntimeInfoSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

/**
 * Points this process at the running local runtime the way the runtime points its own handlers: the AWS
 * SDK endpoint variables plus the IMAGESYNC_* settings `ConfigLoader` reads. Existing variables win, so a
 * user can still aim a command at real AWS or real upstreams. Returns false when no runtime is running.
 */
export function useRunningLocalRuntime(env: NodeJS.ProcessEnv = process.env): boolean {
  const info = readRuntimeInfo();
  if (!info) return false;
  const read = (file: string) => readFileSync(file, "utf8");
  const defaults: Record<string, string> = {
    ...localSdkEnvironment({ dynamo: info.dynamoEndpoint, sqs: info.sqsEndpoint, region: info.region }),
    IMAGESYNC_API_URL: info.apiUrl,
    IMAGESYNC_TABLE_NAME: info.tableName,
    IMAGESYNC_JOB_QUEUE_URL: info.jobQueueUrl,
    IMAGESYNC_DEAD_LETTER_QUEUE_URL: info.deadLetterQueueUrl,
    ...Object.fromEntries(providers.map((provider) => [syncWorkerFunctions[provider].queueEnv, info.syncQueueUrls[provider]])),
    IMAGESYNC_TRITON_SOURCES: read(info.tritonSourcesFile),
    IMAGESYNC_COXEDGE_SOURCES: read(info.coxedgeSourcesFile),
    IMAGESYNC_API_TOKEN: read(info.apiTokenFile),
  };
  for (const [name, value] of Object.entries(defaults)) env[name] ??= value;
  return true;
}
