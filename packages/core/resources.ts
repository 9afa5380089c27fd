/**
 * The one description of imagesync's AWS resources. `infra/` turns it into SST components and the local
 * runtime (`packages/local`) provisions DynamoDB Local and the SQS server from it, so names, keys, indexes,
 * TTL, timeouts and routes cannot drift between a laptop and AWS.
 */

/** Single-table design: every item has pk/sk; two generic GSIs serve the listing access patterns. */
export const inventoryTable = {
  name: "Inventory",
  fields: {
    pk: "string",
    sk: "string",
    gsi1pk: "string",
    gsi1sk: "string",
    gsi2pk: "string",
    gsi2sk: "string",
  },
  primaryIndex: { hashKey: "pk", rangeKey: "sk" },
  globalIndexes: {
    gsi1: { hashKey: "gsi1pk", rangeKey: "gsi1sk" },
    gsi2: { hashKey: "gsi2pk", rangeKey: "gsi2sk" },
  },
  /** Epoch seconds; tombstones, finished jobs and idempotency records expire through it. */
  ttlAttribute: "expiresAt",
  /** Every write, with the item before and after: the change history is made from it (functions/changes.ts). */
  stream: "new-and-old-images",
} as const;

/** Logs name the service; metrics are published under the namespace with a `service` dimension (Powertools). */
export const serviceName = "imagesync";
export const metricsNamespace = "imagesync";

/** The table stream's consumer: turns image writes into change records and publishes change and job events. */
export const changesFunction = {
  name: "Changes",
  handler: "functions/changes.handler",
  timeoutSeconds: 60,
  batchSize: 100,
  /** Attempts on a failing record before it goes to the on-failure queue. */
  maxRetryAttempts: 5,
  failureQueueName: "ChangesFailures",
} as const;

/** The EventBridge bus changes and finished jobs are published to (source `imagesync`). */
export const eventBus = { name: "Events", source: "imagesync" } as const;

export const jobQueue = {
  name: "JobQueue",
  deadLetterName: "JobDeadLetterQueue",
  /** Lambda requires the queue's visibility timeout to be at least the consumer's timeout. */
  handlerTimeoutSeconds: 60,
  visibilityTimeoutSeconds: 120,
  batchSize: 10,
  /** Deliveries before SQS moves a message to the dead-letter queue. */
  maxReceiveCount: 5,
  /** Dead letters are kept the SQS maximum, 14 days, so nothing is lost before someone redrives them. */
  deadLetterRetentionSeconds: 14 * 24 * 3600,
} as const;

export type Provider = "triton" | "coxedge";
export const providers: readonly Provider[] = ["triton", "coxedge"];

export const syncFunctions = {
  triton: { name: "TritonSync", handler: "functions/sync-triton.handler", scheduleEnv: "IMAGESYNC_TRITON_SCHEDULE" },
  coxedge: { name: "CoxEdgeSync", handler: "functions/sync-coxedge.handler", scheduleEnv: "IMAGESYNC_COXEDGE_SCHEDULE" },
} as const;
export const syncHandlerTimeoutSeconds = 600;

/**
 * A scheduled sync only enqueues one message per configured source; a worker per provider syncs one source
 * per message, so sources run in parallel up to `syncConcurrency`, a slow source delays no other, and one
 * invocation holds one source's images. (SQS rather than a schedule per source: sources live in a secret,
 * unknown at deploy, and a queue adds retries, a dead-letter queue and a concurrency bound.)
 */
export const syncQueues = {
  triton: { name: "TritonSyncQueue", deadLetterName: "TritonSyncDeadLetters" },
  coxedge: { name: "CoxEdgeSyncQueue", deadLetterName: "CoxEdgeSyncDeadLetters" },
} as const;
export const syncWorkerFunctions = {
  triton: { name: "TritonSyncWorker", handler: "functions/sync-triton-worker.handler", queueEnv: "IMAGESYNC_TRITON_SYNC_QUEUE_URL" },
  coxedge: { name: "CoxEdgeSyncWorker", handler: "functions/sync-coxedge-worker.handler", queueEnv: "IMAGESYNC_COXEDGE_SYNC_QUEUE_URL" },
} as const;
export const syncQueueSettings = {
  /** Lambda requires at least the worker's timeout; a little more, so a run is recorded before redelivery. */
  visibilityTimeoutSeconds: syncHandlerTimeoutSeconds + 60,
  /** A worker that crashed or timed out gets the message again (its lease lapses first: the retry may be skipped-locked). */
  maxReceiveCount: 3,
  deadLetterRetentionSeconds: 14 * 24 * 3600,
} as const;

/** How many sources of one provider sync at once (the workers' maximum concurrency): IMAGESYNC_SYNC_CONCURRENCY, default 5. */
export function syncConcurrency(env: Record<string, string | undefined> = process.env): number {
  // SQS event source mappings take a maximum concurrency from 2 to 1000.
  return numberSetting(env, "IMAGESYNC_SYNC_CONCURRENCY", 5, (value) => Number.isInteger(value) && value >= 2 && value <= 1000, "an integer from 2 to 1000");
}
export const defaultSyncSchedule = "rate(15 minutes)";

/** EventBridge schedule expression for a provider's sync, overridable per deployment by environment. */
export function syncSchedule(provider: Provider, env: Record<string, string | undefined> = process.env): string {
  return env[syncFunctions[provider].scheduleEnv] || defaultSyncSchedule;
}

/** The payload a scheduled sync invocation carries (EventBridge Scheduler's static input). */
export function syncEvent(provider: Provider): { provider: Provider } {
  return { provider };
}

/**
 * Tunables read by `packages/core/config` (see README). `infra/` copies the ones set at deploy time into
 * every function's environment, so `IMAGESYNC_X=... sst deploy` and `IMAGESYNC_X=... npm start` agree.
 */
export const tuningVariables = {
  tombstoneRetentionDays: "IMAGESYNC_TOMBSTONE_RETENTION_DAYS",
  runRetentionDays: "IMAGESYNC_RUN_RETENTION_DAYS",
  syncLeaseSeconds: "IMAGESYNC_SYNC_LEASE_SECONDS",
  syncMaxRemovalShare: "IMAGESYNC_SYNC_MAX_REMOVAL_SHARE",
  jobPollTimeoutSeconds: "IMAGESYNC_JOB_POLL_TIMEOUT_SECONDS",
  jobPollMaxDelaySeconds: "IMAGESYNC_JOB_POLL_MAX_DELAY_SECONDS",
  tritonCopyWaitSeconds: "IMAGESYNC_TRITON_COPY_WAIT_SECONDS",
  changeRetentionDays: "IMAGESYNC_CHANGE_RETENTION_DAYS",
  corsOrigins: "IMAGESYNC_CORS_ORIGINS",
} as const;

export function tuningEnvironment(env: Record<string, string | undefined> = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.values(tuningVariables).flatMap((name) => (env[name] ? [[name, env[name] as string]] : [])),
  );
}

/** Secrets hold credentials; their values are JSON documents validated by `packages/core/config`. */
export const secretNames = ["TritonSources", "CoxEdgeSources", "ApiToken"] as const;
export type SecretName = (typeof secretNames)[number];

/** HTTP API routes, all served by the one API function. The local HTTP adapter matches the same list. */
export const apiRoutes = [
  "GET /healthz",
  "GET /openapi.json",
  "GET /me",
  "GET /images",
  "GET /images/counts",
  "GET /changes",
  "GET /images/{provider}/{id+}",
  "GET /images/{provider}/{id}/history",
  "GET /sources",
  "GET /sources/{id}/runs",
  "POST /jobs",
  "GET /jobs",
  "GET /jobs/{id}",
] as const;

/**
 * API Gateway's throttle for every route of the stage (token bucket: `burst` at once, `rate` per second),
 * from IMAGESYNC_API_THROTTLE_BURST and IMAGESYNC_API_THROTTLE_RATE at deploy. Defaults keep well inside
 * Lambda's default account concurrency.
 */
export function apiThrottle(env: Record<string, string | undefined> = process.env): { burst: number; rate: number } {
  const setting = (name: string, fallback: number, max: number) =>
    numberSetting(env, name, fallback, (value) => Number.isInteger(value) && value >= 1 && value <= max, `an integer from 1 to ${max}`);
  return { burst: setting("IMAGESYNC_API_THROTTLE_BURST", 200, 5000), rate: setting("IMAGESYNC_API_THROTTLE_RATE", 100, 10_000) };
}

const rateExpression = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const unitSeconds = { minute: 60, hour: 3600, day: 86_400 } as const;

/**
 * The seconds a schedule's `rate(...)` expression stands for; undefined for anything else (a `cron(...)`).
 * Throws for a rate EventBridge would refuse (`rate(0 minutes)`, `rate(1 minutes)`, `rate(5 minute)`).
 */
export function rateSeconds(expression: string): number | undefined {
  const match = rateExpression.exec(expression.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  if (value < 1 || (value !== 1) !== match[2]?.endsWith("s")) {
    throw new Error(`invalid rate expression "${expression}": use "rate(1 minute)" or "rate(N minutes)"`);
  }
  return value * unitSeconds[(match[2] as string).replace(/s$/, "") as keyof typeof unitSeconds];
}

/** The seconds between a provider's scheduled syncs: from its `rate(...)`, or IMAGESYNC_SYNC_INTERVAL_SECONDS for a cron schedule. */
export function syncIntervalSeconds(provider: Provider, env: Record<string, string | undefined> = process.env): number {
  const schedule = syncSchedule(provider, env);
  const rate = rateSeconds(schedule);
  if (rate !== undefined) return rate;
  const given = Number(env.IMAGESYNC_SYNC_INTERVAL_SECONDS);
  if (Number.isInteger(given) && given >= 60) return given;
  throw new Error(`${syncFunctions[provider].scheduleEnv} is "${schedule}": set IMAGESYNC_SYNC_INTERVAL_SECONDS (at least 60) to the seconds between its runs, for the sync alarms`);
}

/**
 * Alarm settings read at deploy (infra/monitoring.ts): where alarms are mailed (IMAGESYNC_ALARM_EMAIL; none:
 * subscribe to the topic yourself), how many failed syncs in a row alarm (IMAGESYNC_ALARM_SYNC_FAILURES, 3),
 * the share of failed jobs that alarms (IMAGESYNC_ALARM_JOB_FAILURE_SHARE, 0.2), and the stream iterator
 * age that alarms (IMAGESYNC_ALARM_ITERATOR_AGE_SECONDS, 300).
 */
export function alarmSettings(env: Record<string, string | undefined> = process.env) {
  const email = env.IMAGESYNC_ALARM_EMAIL || undefined;
  if (email !== undefined && !/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error(`IMAGESYNC_ALARM_EMAIL must be an email address, got "${email}"`);
  return {
    email,
    syncFailures: numberSetting(env, "IMAGESYNC_ALARM_SYNC_FAILURES", 3, (value) => Number.isInteger(value) && value >= 1, "an integer of at least 1"),
    jobFailureShare: numberSetting(env, "IMAGESYNC_ALARM_JOB_FAILURE_SHARE", 0.2, (value) => value > 0 && value <= 1, "a number above 0 and at most 1"),
    iteratorAgeSeconds: numberSetting(env, "IMAGESYNC_ALARM_ITERATOR_AGE_SECONDS", 300, (value) => Number.isInteger(value) && value >= 1, "an integer of at least 1"),
  };
}

/** A numeric deploy setting: `fallback` when unset, else a number that must pass `valid`. */
function numberSetting(env: Record<string, string | undefined>, name: string, fallback: number, valid: (value: number) => boolean, rule: string): number {
  const value = env[name] === undefined || env[name] === "" ? fallback : Number(env[name]);
  if (!valid(value)) throw new Error(`${name} must be ${rule}, got "${env[name]}"`);
  return value;
}

/**
 * The operator console (docs/console.md): static files served by their own small function on the API's
 * routes, so the page shares the API's origin (no CORS, `connect-src 'self'`) while the API function's
 * bundle carries none of it. Built into `consoleBuildDir` (git-ignored), which the function's package copies.
 */
export const consoleFunction = { name: "Console", handler: "functions/console.handler", timeoutSeconds: 10 } as const;
export const consoleRoutes = ["GET /", "GET /console/{file}"] as const;
export const consoleBuildDir = "dist/console";

/** API Gateway's integration timeout is 30 s, so the function stops just before it. */
export const apiFunction = { name: "Api", handler: "functions/api.handler", timeoutSeconds: 29 } as const;
export const jobWorkerFunction = { name: "JobWorker", handler: "functions/jobs.handler" } as const;
