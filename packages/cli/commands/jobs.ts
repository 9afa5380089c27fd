/** `imagesync jobs submit|get|list|watch`: image jobs, through the HTTP API. */
import type { Job, JobAccepted, JobList, SourceList } from "../../api/schemas";
import { request, resolveTarget, type ApiTarget } from "../api-client";
import { defineCommand, UsageError, type OptionSpecs } from "../command";
import { keyValues, print, printJson, table } from "../output";

const interval = { type: "number", value: "SECONDS", unit: "seconds", min: 0.1, max: 300, help: "seconds between checks (default 1)" } as const;
const jobPath = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}`;

export const jobsSubmit = defineCommand({
  name: "jobs submit",
  summary: "Submits an image job; key=value pairs build its params.",
  args: { usage: "<provider> <action> [key=value ...]", min: 2, max: Infinity },
  options: {
    source: { type: "string", help: "the source (required when the provider has several)" },
    id: { type: "string", value: "JOB_ID", help: "the job id, an idempotency key" },
    watch: { type: "boolean", help: "follow the job until it finishes" },
    interval,
  } satisfies OptionSpecs,
  notes: "Dotted keys nest (fields.name=x); values starting with { or [ (or null) are JSON.",
  async run({ args: [provider = "", action = "", ...pairs], options, json, global }) {
    const target = resolveTarget(global);
    const params = paramsFrom(pairs);
    const source = options.source ?? (await onlySource(target, provider));
    const job = { ...(options.id === undefined ? {} : { jobId: options.id }), provider, source, action, params };
    const { status, body } = await request<JobAccepted>(target, "POST", "/jobs", { body: job });
    if (json && !options.watch) printJson(body);
    else if (!json) print(`${status === 202 ? "queued" : "already submitted"}: job ${body.jobId} (${body.state})`);
    return options.watch ? watch(target, body.jobId, (options.interval ?? 1) * 1000, json) : 0;
  },
});

export const jobsGet = defineCommand({
  name: "jobs get",
  summary: "Shows a job.",
  args: { usage: "<id>", min: 1, max: 1 },
  async run({ args: [id = ""], json, global }) {
    const { body } = await request<Job>(resolveTarget(global), "GET", jobPath(id));
    if (json) printJson(body);
    else print(describeJob(body));
    return 0;
  },
});

export const jobsList = defineCommand({
  name: "jobs list",
  summary: "Lists recent jobs, newest first.",
  options: {
    state: { type: "string", help: "only jobs in this state", choices: ["queued", "submitting", "submitted", "polling", "succeeded", "failed"] },
    provider: { type: "string", help: "only this provider's jobs", choices: ["triton", "coxedge"] },
    limit: { type: "number", integer: true, min: 1, max: 100, help: "jobs per page" },
  } satisfies OptionSpecs,
  async run({ options, json, global }) {
    const query = new URLSearchParams();
    for (const name of ["state", "provider", "limit"] as const) if (options[name] !== undefined) query.set(name, String(options[name]));
    const { body } = await request<JobList>(resolveTarget(global), "GET", `/jobs?${query}`);
    if (json) printJson(body);
    else {
      print(table(
        ["JOB", "PROVIDER", "SOURCE", "ACTION", "STATE", "CREATED", "RESULT"],
        body.items.map((j) => [j.jobId, j.request?.provider, j.request?.source, j.request?.action, j.state, j.createdAt, j.result?.imageId ?? j.error?.message]),
      ));
    }
    return 0;
  },
});

export const jobsWatch = defineCommand({
  name: "jobs watch",
  summary: "Follows a job until it finishes; exits 0 only when it succeeded.",
  args: { usage: "<id>", min: 1, max: 1 },
  options: { interval } satisfies OptionSpecs,
  run: ({ args: [id = ""], options, json, global }) => watch(resolveTarget(global), id, (options.interval ?? 1) * 1000, json),
});

/** key=value pairs as the job's params: dotted keys nest, values that look like JSON objects/arrays are parsed. */
function paramsFrom(pairs: string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) throw new UsageError(`expected key=value, got "${pair}"`);
    const keys = pair.slice(0, at).split(".");
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    if (/^[[{]/.test(raw) || raw === "null") {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new UsageError(`${pair.slice(0, at)}: not valid JSON: ${raw}`);
      }
    }
    let target = result;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys.at(-1) as string] = value;
  }
  return result;
}

/** The provider's source when exactly one is configured; otherwise --source is needed. */
async function onlySource(target: ApiTarget, provider: string): Promise<string> {
  const { body } = await request<SourceList>(target, "GET", "/sources");
  const ids = body.items.filter((s) => s.provider === provider).map((s) => s.id);
  if (ids.length === 1) return ids[0] as string;
  throw new UsageError(`--source is required${ids.length ? ` (${provider} sources: ${ids.join(", ")})` : ` (no ${provider} source is configured)`}`);
}

function describeJob(job: Job): string {
  const { request: what, error, result, ...rest } = job;
  return keyValues([
    ...Object.entries(rest),
    ["request", what && `${what.provider} ${what.action} in ${what.source} ${JSON.stringify(what.params)}`],
    ["result", result],
    ["error", error && `${error.code}: ${error.message}`],
  ]);
}

/** Polls the job (conditional GETs) and prints each change until it finishes; exit 0 only on success. */
async function watch(target: ApiTarget, jobId: string, intervalMs: number, asJson: boolean): Promise<number> {
  let etag: string | undefined;
  let job: Job | undefined;
  let shown = "";
  while (!job || (job.state !== "succeeded" && job.state !== "failed")) {
    if (job) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const reply = await request<Job>(target, "GET", jobPath(jobId), { etag });
    if (reply.status === 304) continue;
    job = reply.body;
    etag = reply.etag;
    const line = `${job.state}${job.upstream?.taskId ? ` task ${job.upstream.taskId}` : ""} (attempts ${job.attempts}, polls ${job.polls})${job.lastError ? ` last error: ${job.lastError.message}` : ""}`;
    if (line !== shown && !asJson) print(`${new Date().toISOString().slice(11, 19)}  ${line}`);
    shown = line;
  }
  if (asJson) printJson(job);
  else if (job.state === "succeeded") print(`succeeded: image ${job.result?.imageId}${job.result?.export ? ` exported to ${job.result.export.manta_url}` : ""}`);
  else print(`failed: ${job.error?.code}: ${job.error?.message}`);
  return job.state === "succeeded" ? 0 : 1;
}
