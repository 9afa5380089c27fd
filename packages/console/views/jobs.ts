/** Jobs: recent jobs, newest first, filtered by state and provider; the way to the submit form. */
import { get, pageQuery } from "../api";
import { field, h, replace, select, table } from "../dom";
import { href, navigate } from "../router";
import { jobStates, type Job, type Page } from "../types";
import { canSubmitJobs, heading, type ViewContext } from "../view";
import { badge, cursorPager, imageLink, jobLink, providerFilter, when } from "../widgets";
import { refusal } from "./job-form";

function filters(params: URLSearchParams): HTMLFormElement {
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filters" },
    field("State", select("state", [["", "any"], ...jobStates.map((s) => [s, s] as const)], params.get("state"))),
    providerFilter(params.get("provider")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    navigate(["jobs"], { state: String(data.get("state") ?? ""), provider: String(data.get("provider") ?? "") });
  });
  return form;
}

const rows = (jobs: Job[]) =>
  table(
    "Jobs, newest first",
    ["Job", "State", "Action", "Source", "Created", "Updated", "Result"],
    jobs.map((job) => [
      jobLink(job.jobId),
      badge(job.state),
      job.request ? `${job.request.provider} ${job.request.action}` : "—",
      job.request?.source ?? "—",
      when(job.createdAt),
      when(job.updatedAt),
      job.result && job.request ? imageLink(job.request.provider, job.result.imageId, job.result.imageId) : (job.error?.message ?? ""),
    ]),
  );

export async function jobsView({ main, route, me, signal }: ViewContext): Promise<void> {
  const results = h("div", { "data-results": true, tabindex: -1 });
  const query = { state: route.params.get("state") ?? undefined, provider: route.params.get("provider") ?? undefined, limit: "25" };
  const pager = cursorPager<Job>("jobs", (cursor) => get<Page<Job>>("/jobs", pageQuery(query, cursor), signal), (jobs) =>
    replace(results, jobs.length ? rows(jobs) : h("p", {}, "No jobs match.")),
  );
  await pager.first();
  main.append(
    heading("Jobs"),
    canSubmitJobs(me) ? h("p", {}, h("a", { href: href(["jobs", "new"]), class: "button" }, "Submit a job")) : refusal(me),
    filters(route.params),
    results,
    pager.element,
  );
}
