/**
 * One job, followed live: its state timeline (queued, submitted, polls, finished) from the job record, the
 * states seen while watching, and on failure the upstream's reason. Polls until the job is finished.
 */
import { get } from "../api";
import { h, replace, type Child } from "../dom";
import { localTime } from "../format";
import { isFinished, type Job, type JobError } from "../types";
import { heading, pause, type ViewContext } from "../view";
import { badge, imageLink, problem, when } from "../widgets";

const pollMs = 1000;
const finished = (job: Job) => isFinished(job.state);

function step(done: boolean, title: string, ...detail: Child[]): HTMLElement {
  return h("li", { class: done ? "done" : "pending" }, h("strong", {}, title), done ? " " : " (not yet)", done && detail);
}

function timeline(job: Job): HTMLElement {
  const polled = job.polls > 0 || job.state === "polling";
  return h(
    "ol",
    { class: "timeline", "aria-label": "Timeline" },
    step(true, "Queued", when(job.createdAt)),
    step(job.submittedAt !== undefined, "Submitted upstream", when(job.submittedAt), ` (attempt ${job.attempts})`),
    step(polled, "Polled", `${job.polls} status check${job.polls === 1 ? "" : "s"}`, job.nextCheckAt && !finished(job) ? [", next at ", when(job.nextCheckAt)] : ""),
    step(finished(job), job.state === "failed" ? "Failed" : "Succeeded", when(job.finishedAt)),
  );
}

function errorDetails(title: string, error: JobError): HTMLElement {
  const rows: [string, Child][] = [
    ["Code", error.code],
    ["Message", error.message],
    ["Upstream status", error.status],
    ["Upstream code", error.upstreamCode],
    ["Upstream reason", error.upstreamMessage],
    ["Request id", error.requestId],
  ];
  return h("section", { class: "alert", "aria-label": title }, h("h2", {}, title), h("dl", { class: "facts" }, rows.filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
}

function jobDetails(job: Job): Child[] {
  const request = job.request;
  return [
    h("p", {}, "State: ", badge(job.state), ` · updated ${localTime(job.updatedAt)}`),
    timeline(job),
    job.result && request && h("p", {}, "Result: image ", imageLink(request.provider, job.result.imageId, job.result.imageId, request.action === "copy" ? String(request.params.targetSource) : request.source)),
    job.error && errorDetails("Why it failed", job.error),
    !finished(job) && job.lastError && errorDetails("Last retryable failure", job.lastError),
    request && h("section", {}, h("h2", {}, "Request"), h("pre", { class: "request" }, JSON.stringify(request, null, 2))),
  ];
}

/** Polls until the job is finished (or the view ends), redrawing on each change and logging each new state. */
async function follow(path: string, initial: Job, details: HTMLElement, seen: HTMLElement, signal: AbortSignal): Promise<void> {
  let job = initial;
  while (!finished(job)) {
    await pause(pollMs, signal);
    let next: Job;
    try {
      next = await get<Job>(path, undefined, signal);
    } catch (error) {
      if (signal.aborted) return;
      replace(details, jobDetails(job), problem(error));
      continue;
    }
    if (next.state !== job.state) seen.append(h("li", {}, `${localTime(new Date().toISOString())}: ${next.state}`));
    if (next.updatedAt !== job.updatedAt) replace(details, jobDetails(next));
    job = next;
  }
}

export async function jobView({ main, route, signal }: ViewContext): Promise<void> {
  const jobId = route.path.slice(1).join("/");
  const path = `/jobs/${encodeURIComponent(jobId)}`;
  const job = await get<Job>(path, undefined, signal);
  const details = h("div", {}, jobDetails(job));
  const seen = h("ol", { class: "seen", role: "log", "aria-label": "States seen while watching" }, h("li", {}, `${localTime(new Date().toISOString())}: ${job.state}`));
  main.append(heading(`Job ${jobId}`), details, h("section", {}, h("h2", {}, "States seen while watching"), seen));
  // Not awaited: the view is shown at once and keeps following; the signal ends it with the view.
  follow(path, job, details, seen, signal).catch(() => undefined);
}
