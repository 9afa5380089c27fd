/** The alarms and dashboard infra/monitoring.ts deploys, checked as data. */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alarmSpecs, dashboardBody, functionNames, type MetricRef, type ResourceRef } from "../../packages/core/monitoring";
import { alarmSettings, metricsNamespace, syncIntervalSeconds } from "../../packages/core/resources";

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
/** Every string literal that names a metric in product code (Powertools addMetric, publishDimensioned). */
const productCode = ["functions", "packages/core", "packages/sync", "packages/jobs", "packages/changes", "packages/api"]
  .flatMap(sourceFiles)
  .filter((path) => !path.endsWith("monitoring.ts"))
  .map((path) => readFileSync(path, "utf8"))
  .join("\n");

const metricRefs = (query: ReturnType<typeof alarmSpecs>[number]["query"]): MetricRef[] => ("expression" in query ? Object.values(query.metrics) : [query]);

describe("alarms", () => {
  const specs = alarmSpecs({});

  it("have unique names, a description and what to do, and are all listed in the README", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(new Set(specs.map((spec) => spec.name)).size).toBe(specs.length);
    for (const spec of specs) {
      expect(spec.description.length, spec.name).toBeGreaterThan(20);
      expect(spec.action.length, spec.name).toBeGreaterThan(20);
      expect(readme, `README lists ${spec.name}`).toContain(`\`${spec.name}\``);
    }
  });

  it("cover what an operator needs: dead letters, sync failures and staleness, job failures, API 5xx, every function's errors and throttles, stream lag", () => {
    const names = specs.map((spec) => spec.name);
    expect(names).toEqual(expect.arrayContaining(["JobDeadLetters", "JobFailureShare", "Api5xx", "ChangesIteratorAge", "ChangesFailures"]));
    for (const sync of ["TritonSync", "CoxEdgeSync"]) expect(names).toEqual(expect.arrayContaining([`${sync}Failing`, `${sync}Stale`, `${sync}NotRunning`, `${sync}DeadLetters`]));
    for (const name of functionNames) expect(names).toEqual(expect.arrayContaining([`${name}Errors`, `${name}Throttles`]));
    expect(functionNames.toSorted()).toEqual(["Api", "Changes", "CoxEdgeSync", "CoxEdgeSyncWorker", "JobWorker", "TritonSync", "TritonSyncWorker"]);
  });

  it("read only imagesync metrics the code publishes, with the service dimension Powertools adds", () => {
    for (const metric of specs.flatMap((spec) => metricRefs(spec.query)).filter((ref) => ref.namespace === metricsNamespace)) {
      expect(productCode, `some code publishes ${metric.metric}`).toContain(`"${metric.metric}"`);
      expect(metric.dimensions.service).toBe("imagesync");
    }
  });

  it("follow the sync schedule and the deploy settings", () => {
    const hourly = alarmSpecs({ IMAGESYNC_TRITON_SCHEDULE: "rate(1 hour)", IMAGESYNC_ALARM_SYNC_FAILURES: "5", IMAGESYNC_ALARM_ITERATOR_AGE_SECONDS: "60" });
    const byName = new Map(hourly.map((spec) => [spec.name, spec]));
    expect(byName.get("TritonSyncStale")).toMatchObject({ periodSeconds: 3600, threshold: 9000 });
    expect(byName.get("TritonSyncFailing")).toMatchObject({ threshold: 5 });
    expect(byName.get("TritonSyncNotRunning")).toMatchObject({ periodSeconds: 3600, evaluationPeriods: 3, missingData: "breaching" });
    expect(byName.get("CoxEdgeSyncStale")).toMatchObject({ periodSeconds: 900, threshold: 2250 });
    expect(byName.get("ChangesIteratorAge")).toMatchObject({ threshold: 60_000 });
  });

  it("reject bad settings naming the variable", () => {
    expect(() => syncIntervalSeconds("triton", { IMAGESYNC_TRITON_SCHEDULE: "cron(0 * * * ? *)" })).toThrow(/IMAGESYNC_SYNC_INTERVAL_SECONDS/);
    expect(syncIntervalSeconds("triton", { IMAGESYNC_TRITON_SCHEDULE: "cron(0 * * * ? *)", IMAGESYNC_SYNC_INTERVAL_SECONDS: "3600" })).toBe(3600);
    expect(syncIntervalSeconds("coxedge", { IMAGESYNC_COXEDGE_SCHEDULE: "rate(2 days)" })).toBe(172_800);
    expect(() => alarmSettings({ IMAGESYNC_ALARM_SYNC_FAILURES: "0" })).toThrow(/IMAGESYNC_ALARM_SYNC_FAILURES must be an integer of at least 1/);
    expect(() => alarmSettings({ IMAGESYNC_ALARM_JOB_FAILURE_SHARE: "2" })).toThrow(/IMAGESYNC_ALARM_JOB_FAILURE_SHARE/);
    expect(() => alarmSettings({ IMAGESYNC_ALARM_EMAIL: "ops" })).toThrow(/IMAGESYNC_ALARM_EMAIL must be an email address/);
    expect(alarmSettings({ IMAGESYNC_ALARM_EMAIL: "ops@example.com" }).email).toBe("ops@example.com");
  });
});

describe("dashboard", () => {
  it("is CloudWatch dashboard JSON whose metrics name resolved resources and published metrics", () => {
    const refs: ResourceRef[] = [];
    const body = JSON.parse(dashboardBody((ref) => (refs.push(ref), `deployed-${ref.name}`), "eu-west-1")) as { widgets: { properties: { region: string; metrics: unknown[] } }[] };
    expect(body.widgets.length).toBeGreaterThanOrEqual(6);
    for (const widget of body.widgets) expect(widget.properties.region).toBe("eu-west-1");
    const lines = body.widgets.flatMap((widget) => widget.properties.metrics);
    for (const line of lines) {
      if (Array.isArray(line)) {
        expect(line.filter((part) => typeof part === "object" && part !== null)).toHaveLength(1);
        if (line[0] === metricsNamespace) expect(productCode).toContain(`"${line[1] as string}"`);
      } else {
        expect((line as { expression: string }).expression).toMatch(/^SEARCH\('\{imagesync,service,source\} MetricName="(SyncDuration|ImagesChanged)"'/);
      }
    }
    expect(new Set(refs.map((ref) => `${ref.kind}:${ref.name}`))).toEqual(new Set(["queue:JobQueue", "queue:JobDeadLetterQueue", "api:Api", "function:Changes"]));
  });
});
