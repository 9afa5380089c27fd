/** What a soak found, and how it is printed: the invariants as a table, then the figures behind them. */
import { table } from "../../packages/cli/output";
import { faultKinds, type FaultKind } from "./faults";

export interface InvariantResult {
  name: string;
  passed: boolean;
  /** The figures behind the verdict. */
  figures: string;
  /** What broke it, one line each. */
  violations: string[];
}

/** Where jobs ended: succeeded, failed, in DLQ (unfinished, dead-lettered), or an unfinished state. */
export type JobEnd = "succeeded" | "failed" | "in DLQ" | "unfinished";

export interface SoakReport {
  /** Every invariant held and nothing crashed. */
  passed: boolean;
  seed: number;
  invariants: InvariantResult[];
  /** Faults that actually happened, per kind. */
  faults: Record<FaultKind, number>;
  /** Jobs per action (`triton create`, ...) and where they ended. */
  jobs: Record<string, Record<JobEnd, number>>;
  /** Failed jobs per error code, with one job's message. */
  failures: Record<string, { count: number; example: string }>;
  duplicatesSent: number;
  /** Sync runs per provider and status. */
  syncs: Record<string, Record<string, number>>;
  workerKills: number;
  /** Problems outside the invariants: steps of the soak that threw, worker crashes, submissions refused. */
  errors: string[];
  durations: { totalMs: number; faultsMs: number; settleMs: number };
  workerLog: string;
}

const shownViolations = 5;
const jobEnds: JobEnd[] = ["succeeded", "failed", "in DLQ", "unfinished"];

export function formatReport(report: SoakReport): string {
  const { durations } = report;
  const invariants = table(
    ["invariant", "result", "figures"],
    report.invariants.map((invariant) => [invariant.name, invariant.passed ? "PASS" : "FAIL", invariant.figures]),
  );
  const violations = report.invariants.flatMap((invariant) =>
    invariant.violations.slice(0, shownViolations).map((line) => `  ${invariant.name.slice(0, 2)} ${line}`),
  );
  const counts = (rows: [string, number][]) => table(["", "count"], rows, new Set([1]));
  const jobRows = Object.entries(report.jobs).map(([action, ends]) => [action, ...jobEnds.map((end) => ends[end]), sum(Object.values(ends))]);
  const statuses = ["ok", "failed", "skipped-locked"];
  const syncRows = Object.entries(report.syncs).map(([provider, runs]) => [provider, ...statuses.map((status) => runs[status] ?? 0)]);
  return [
    `imagesync soak: seed ${report.seed}, ${duration(durations.faultsMs)} of faults, then ${duration(durations.settleMs)} to settle; ${duration(durations.totalMs)} in all`,
    "",
    invariants,
    ...(violations.length ? ["", "violations (first of each):", ...violations] : []),
    ...(report.errors.length ? ["", "errors:", ...report.errors.map((error) => `  ${error}`)] : []),
    "",
    "faults that happened, per kind",
    counts(faultKinds.map((kind) => [kind, report.faults[kind]])),
    "",
    `jobs, per action and where they ended (plus ${report.duplicatesSent} duplicate deliveries sent)`,
    table(["action", ...jobEnds, "total"], jobRows, new Set([1, 2, 3, 4, 5])),
    "",
    "failed jobs, per reason",
    table(
      ["reason", "count", "example"],
      Object.entries(report.failures).toSorted(([, a], [, b]) => b.count - a.count).map(([code, { count, example }]) => [code, count, example]),
      new Set([1]),
    ),
    "",
    "sync runs, per status",
    table(["provider", ...statuses], syncRows, new Set([1, 2, 3])),
    "",
    `worker kills (SIGKILL, then restart): ${report.workerKills}; worker log: ${report.workerLog}`,
    `result: ${report.passed ? "PASS" : "FAIL"}`,
  ].join("\n");
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
}
