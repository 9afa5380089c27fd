/**
 * Invokes a handler on an EventBridge schedule expression, as EventBridge Scheduler does for SST CronV2:
 * the function receives the schedule's static input. Locally only `rate()` expressions are supported (a
 * `cron()` expression would need a calendar evaluator; set the rate form for local runs instead).
 */
import { invoke, type FunctionSettings, type LambdaHandler } from "./lambda";

const rateExpression = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const unitMs = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export function rateToMs(expression: string): number {
  const match = rateExpression.exec(expression.trim());
  if (!match) {
    throw new Error(`local schedules support rate(N minutes|hours|days) only, got "${expression}"`);
  }
  const value = Number(match[1]);
  const unit = (match[2] as string).replace(/s$/, "") as keyof typeof unitMs;
  if (value < 1 || (value !== 1) !== match[2]?.endsWith("s")) {
    throw new Error(`invalid rate expression "${expression}": use "rate(1 minute)" or "rate(N minutes)"`);
  }
  return value * unitMs[unit];
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
