/**
 * The one backoff: exponential (base, 2·base, 4·base, ... up to `max`) with a choice of jitter.
 * - `full`: a uniform pick in [0, cap) — retries of one client spread widest (AWS's "full jitter");
 * - `equal`: a uniform pick in [cap/2, cap] — spread out, but never sooner than half the step;
 * - `none`: the cap itself.
 */
export interface BackoffOptions {
  /** The first step's cap. */
  base: number;
  /** No step waits longer. */
  max: number;
  jitter: "full" | "equal" | "none";
  /** Returns a number in [0, 1). */
  random?: () => number;
}

/** The wait before retry number `retry` (1 for the first retry), in the unit of `base` and `max`. */
export function backoff(retry: number, options: BackoffOptions): number {
  const cap = Math.min(options.max, options.base * 2 ** Math.min(Math.max(retry - 1, 0), 40));
  const random = options.random ?? Math.random;
  if (options.jitter === "full") return random() * cap;
  if (options.jitter === "equal") return cap / 2 + (random() * cap) / 2;
  return cap;
}
