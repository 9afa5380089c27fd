import { setTimeout as delay } from "node:timers/promises";
import { backoff } from "../../core/backoff";

export interface RetryOptions {
  /** Total attempts including the first. Default 4. */
  maxAttempts?: number;
  /** Backoff cap for the first retry; doubles on each further retry. Default 200 ms. */
  baseDelayMs?: number;
  /** Upper bound for the computed backoff. Default 10 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails at once. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Injected in tests to keep them fast and deterministic. */
  sleep?: (ms: number) => Promise<void>;
  /** Returns a number in [0, 1). Injected in tests. */
  random?: () => number;
}

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    maxAttempts: Math.max(1, options.maxAttempts ?? 4),
    baseDelayMs: options.baseDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    sleep: options.sleep ?? ((ms) => delay(ms)),
    random: options.random ?? Math.random,
  };
}

/**
 * Exponential backoff with full jitter (a uniform pick in [0, cap)), never shorter than what the
 * upstream asked for with Retry-After. `retryNumber` is 1 for the first retry.
 */
export function backoffMs(policy: RetryPolicy, retryNumber: number, retryAfterMs: number | undefined): number {
  const jittered = Math.floor(backoff(retryNumber, { base: policy.baseDelayMs, max: policy.maxDelayMs, jitter: "full", random: policy.random }));
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Parses Retry-After, which is either delta-seconds or an HTTP date, into ms from `now`. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
