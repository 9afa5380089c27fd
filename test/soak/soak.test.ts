/**
 * The soak, short: about 25 s of faults of every kind, syncs and jobs, one SIGKILL of the job worker,
 * then every invariant must hold (bench/soak.ts, docs/soak.md).
 */
import { expect, it } from "vitest";
import { runSoak } from "../../bench/soak";
import { formatReport } from "../../bench/soak/report";
import { faultKinds } from "../../bench/soak/faults";
import { timings } from "../../bench/soak/settings";

it("a short soak loses nothing: every invariant holds under faults of every kind and a worker kill", async () => {
  const report = await runSoak({
    minutes: 0.4,
    jobsPerSecond: 3,
    syncEveryMs: 1000,
    workerKills: 1,
    // Long enough for a job to reach its deadline: a copy whose timed-out import was refused polls until
    // then and fails Timeout (docs/soak.md), and that is a terminal job, not a lost one.
    settleTimeoutMs: timings.jobPollTimeoutSeconds * 1000 + 10_000,
    useRunningServers: true,
  });
  const printed = formatReport(report);
  for (const invariant of report.invariants) expect(invariant.passed, `${invariant.name}\n${printed}`).toBe(true);
  expect(report.errors, printed).toEqual([]);
  for (const kind of faultKinds) expect(report.faults[kind], `faults of kind ${kind}\n${printed}`).toBeGreaterThan(0);
  expect(report.workerKills).toBeGreaterThanOrEqual(1);
}, 150_000);
