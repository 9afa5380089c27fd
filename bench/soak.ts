/**
 * `npm run soak [-- --minutes N] [--seed N]`: a bounded soak that proves nothing is lost. For N minutes
 * (default 5) both simulators inject faults at random (seeded; the seed is printed) while every source
 * syncs every few seconds, a steady stream of jobs of every action runs (some delivered twice), and the job
 * worker process is SIGKILLed and restarted a few times. Then faults stop, jobs settle, one clean sync
 * runs, and four invariants are checked and printed as a table with the figures behind them; the exit code
 * is 1 when any fails. docs/soak.md explains the invariants and shows one run.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { SoakReport } from "./soak/report";
import type { SoakOptions } from "./soak/settings";

export type { SoakOptions, SoakReport };

export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  // Powertools reads these when its logger and metrics are created: set before any product module loads.
  process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  const { soak } = await import("./soak/run");
  return soak(options);
}

const usage = `Usage: npm run soak [-- --minutes N] [--seed N]
  --minutes N  how long faults are injected and jobs submitted (default 5; fractions allowed)
  --seed N     seeds every random choice (default: random; printed either way)`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: "string" }, seed: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return console.log(usage);
  const minutes = optionalNumber(values.minutes, "--minutes", (value) => value > 0);
  const seed = optionalNumber(values.seed, "--seed", (value) => Number.isInteger(value) && value >= 0);
  const report = await runSoak({ minutes, seed, log: (line) => console.log(line) });
  const { formatReport } = await import("./soak/report");
  console.log(`\n${formatReport(report)}`);
  process.exit(report.passed ? 0 : 1);
}

function optionalNumber(text: string | undefined, name: string, valid: (value: number) => boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || !valid(value)) {
    console.error(`${name} ${text} is not valid.\n${usage}`);
    process.exit(2);
  }
  return value;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
