/** The soak's options and the fixed timings it runs the system with (short, so jobs finish inside a run). */

export interface SoakOptions {
  /** How long faults are injected, syncs run and jobs are submitted. Default 5. */
  minutes?: number;
  /** Seeds every random choice (faults, jobs, kill times). Default: random, printed. */
  seed?: number;
  /** Jobs submitted per second. Default 3. */
  jobsPerSecond?: number;
  /** Pause between the end of one sync round of a provider and the start of its next. Default 2000. */
  syncEveryMs?: number;
  /** Times the job worker process is SIGKILLed and restarted. Default: about one per 75 s, at least 1. */
  workerKills?: number;
  /** How long to wait for jobs to settle once faults stop. Default 120 s. */
  settleTimeoutMs?: number;
  /** Use the DynamoDB and SQS servers AWS_ENDPOINT_URL_DYNAMODB/_SQS point at (the test tier's) instead of starting them. */
  useRunningServers?: boolean;
  /** Progress lines; silent when omitted. */
  log?: (line: string) => void;
}

export type SoakSettings = Required<Omit<SoakOptions, "log">> & { log: (line: string) => void };

export function soakSettings(options: SoakOptions): SoakSettings {
  const minutes = options.minutes ?? 5;
  return {
    minutes,
    seed: options.seed ?? Math.floor(Math.random() * 2 ** 31),
    jobsPerSecond: options.jobsPerSecond ?? 3,
    syncEveryMs: options.syncEveryMs ?? 2000,
    workerKills: options.workerKills ?? Math.max(1, Math.round((minutes * 60) / 75)),
    settleTimeoutMs: options.settleTimeoutMs ?? 120_000,
    useRunningServers: options.useRunningServers ?? false,
    log: options.log ?? (() => undefined),
  };
}

/** Timings of the system under soak. */
export const timings = {
  /** Per attempt, sync and jobs alike: a `timeout` fault holds a request longer than this. */
  clientTimeoutMs: 1000,
  /** Sync listings retry; jobs always call once (the worker forces maxAttempts 1). */
  syncMaxAttempts: 3,
  /** A killed worker's messages come back after this; the handler's timeout is below it. */
  visibilityTimeoutSeconds: 10,
  handlerTimeoutSeconds: 8,
  /** IMAGESYNC_JOB_POLL_TIMEOUT_SECONDS (its minimum), IMAGESYNC_JOB_POLL_MAX_DELAY_SECONDS, IMAGESYNC_TRITON_COPY_WAIT_SECONDS. */
  jobPollTimeoutSeconds: 60,
  jobPollMaxDelaySeconds: 2,
  tritonCopyWaitSeconds: 1,
  /** Upstream work: Triton creations and Cox Edge tasks take this long; imports outlast the copy wait. */
  upstreamTaskMs: 1500,
  tritonImportMs: 1200,
  /** A worker stays dead this long before it is restarted. */
  workerDownMs: { min: 300, max: 2000 },
} as const;
