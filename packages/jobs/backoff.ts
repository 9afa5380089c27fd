import { backoff } from "../core/backoff";

/** SQS delays a message at most 15 minutes (DelaySeconds ≤ 900). */
export const maxSqsDelaySeconds = 900;

export interface DelayOptions {
  /** Upper bound from configuration (IMAGESYNC_JOB_POLL_MAX_DELAY_SECONDS); never above 900. */
  maxSeconds: number;
  /** Lower bound, e.g. the upstream's Retry-After. */
  minSeconds?: number;
  /** Returns a number in [0, 1). */
  random?: () => number;
}

/**
 * Delay before continuation `step` (1, 2, ...) of a job: exponential (1, 2, 4, ... s) with "equal
 * jitter", a uniform pick in the upper half [cap/2, cap], so polls of jobs submitted together spread
 * out but none comes back sooner than half the backoff. Whole seconds, as SQS takes them.
 */
export function continuationDelaySeconds(step: number, options: DelayOptions): number {
  const max = Math.min(options.maxSeconds, maxSqsDelaySeconds);
  const jittered = Math.ceil(backoff(step, { base: 1, max, jitter: "equal", random: options.random }));
  return Math.min(Math.max(jittered, Math.ceil(options.minSeconds ?? 0), 1), maxSqsDelaySeconds);
}
