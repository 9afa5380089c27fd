/**
 * Invokes a handler on an EventBridge schedule expression, as EventBridge Scheduler does for SST CronV2:
 * the function receives the schedule's static input. Locally only `rate()` expressions are supported (a
 * `cron()` expression would need a calendar evaluator; set the rate form for local runs instead).
 */
import { rateSeconds } from "../../core/resources";
import { invoke, type FunctionSettings, type LambdaHandler } from "./lambda";

export function rateToMs(expression: string): number {
  const seconds = rateSeconds(expression);
  if (seconds === undefined) throw new Error(`local schedules support rate(N minutes|hours|days) only, got "${expression}"`);
  return seconds * 1000;
}

export interface Schedule {
  stop(): Promise<void>;
  /** Runs the scheduled invocation now (what `npm run sync` does); resolves when it has finished. */
  runNow(): Promise<unknown>;
}

export function startSchedule<E>(options: {
  expression: string;
  /** Overrides the interval the expression implies (tests, `--sync-every`). */
  intervalMs?: number;
  event: E;
  handler: LambdaHandler<E, unknown>;
  settings: FunctionSettings;
  onResult?: (result: { ok: boolean; value?: unknown; error?: unknown }) => void;
}): Schedule {
  const intervalMs = options.intervalMs ?? rateToMs(options.expression);
  const running = new Set<Promise<unknown>>();
  const fire = () => {
    const run = invoke(options.handler, structuredClone(options.event), options.settings).then(
      (value) => (options.onResult?.({ ok: true, value }), value),
      (error: unknown) => (options.onResult?.({ ok: false, error }), undefined),
    );
    running.add(run);
    void run.finally(() => running.delete(run));
    return run;
  };
  const timer = setInterval(fire, intervalMs);
  return {
    runNow: fire,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled(running);
    },
  };
}
