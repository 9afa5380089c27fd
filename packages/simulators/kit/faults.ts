/** What an injected fault does to a matching request. */
export type FaultAction =
  /** Reads the request, delays it, then lets it (and any other matching fault) proceed: it is acted on even if the caller gave up. */
  | { kind: "latency"; ms: number }
  /** Answers with this status and the provider's error body for it, instead of handling the request. */
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Answers 429 with the provider's throttle body and, when given, Retry-After (seconds or an HTTP date). */
  | { kind: "throttle"; retryAfter?: number | string }
  /** Destroys the socket without answering. */
  | { kind: "reset" }
  /** Handles the request, sends headers with the full Content-Length, half the body, then drops the socket. */
  | { kind: "truncate" }
  /** Handles the request but answers with a body that is not valid JSON (with consistent length headers). */
  | { kind: "malformed" };

export interface FaultMatch {
  /** Only requests with this method (any when omitted). */
  method?: string;
  /** Only requests whose path starts with this (any when omitted). */
  pathPrefix?: string;
  /** Only the next N matching requests; unlimited when omitted. */
  times?: number;
  /** Chance in [0, 1] that a matching request is affected. Default 1. */
  probability?: number;
  /** Name it is counted under in `firedByLabel`; its kind when omitted. */
  label?: string;
}

export type Fault = FaultAction & FaultMatch;

/** Faults to apply to one request, split by when the server applies them. */
export interface MatchedFaults {
  latencyMs: number;
  /** The first non-latency fault, if any. */
  action: Exclude<FaultAction, { kind: "latency" }> | undefined;
}

/**
 * Fault injection shared by the simulators. Tests add faults, the server consults `match` for each
 * request. Faults are checked in the order added; latency faults add up, and the first other
 * matching fault decides what happens.
 */
export class FaultController {
  private faults: { fault: Fault; remaining: number }[] = [];
  /** How many times a fault was applied, for assertions. */
  fired = 0;
  /** How many times faults were applied, per label (or kind). */
  readonly firedByLabel = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Adds a fault; returns a function that removes it. */
  inject(fault: Fault): () => void {
    const entry = { fault, remaining: fault.times ?? Number.POSITIVE_INFINITY };
    this.faults.push(entry);
    return () => {
      this.faults = this.faults.filter((candidate) => candidate !== entry);
    };
  }

  latency(ms: number, match: FaultMatch = {}): () => void {
    return this.inject({ kind: "latency", ms, ...match });
  }

  status(status: number, match: FaultMatch = {}): () => void {
    return this.inject({ kind: "status", status, ...match });
  }

  throttle(retryAfter?: number | string, match: FaultMatch = {}): () => void {
    return this.inject({ kind: "throttle", retryAfter, ...match });
  }

  reset(match: FaultMatch = {}): () => void {
    return this.inject({ kind: "reset", ...match });
  }

  truncate(match: FaultMatch = {}): () => void {
    return this.inject({ kind: "truncate", ...match });
  }

  malformed(match: FaultMatch = {}): () => void {
    return this.inject({ kind: "malformed", ...match });
  }

  clear(): void {
    this.faults = [];
    this.fired = 0;
    this.firedByLabel.clear();
  }

  /** Picks (and uses up) the faults for a request. */
  match(method: string, path: string): MatchedFaults {
    const matched: MatchedFaults = { latencyMs: 0, action: undefined };
    for (const entry of this.faults) {
      const { fault } = entry;
      if (entry.remaining <= 0) continue;
      if (fault.method && fault.method.toUpperCase() !== method.toUpperCase()) continue;
      if (fault.pathPrefix && !path.startsWith(fault.pathPrefix)) continue;
      if (fault.kind !== "latency" && matched.action) continue;
      if (fault.probability !== undefined && this.random() >= fault.probability) continue;
      entry.remaining -= 1;
      this.fired += 1;
      const label = fault.label ?? fault.kind;
      this.firedByLabel.set(label, (this.firedByLabel.get(label) ?? 0) + 1);
      if (fault.kind === "latency") matched.latencyMs += fault.ms;
      else matched.action = fault;
    }
    this.faults = this.faults.filter((entry) => entry.remaining > 0);
    return matched;
  }
}
