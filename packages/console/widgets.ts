/** Small pieces several views share: times, state badges, links, pagers and API problems. */
import { ApiError } from "./api";
import { alertBox, field, h, liveStatus, select, type Child } from "./dom";
import type { Change, Page } from "./types";
import { ago, brief, localTime } from "./format";
import { href } from "./router";

/** A time as local text, with the exact ISO time in `datetime` and as a tooltip. */
export const when = (iso: string | undefined): Child => iso && h("time", { datetime: iso, title: iso }, localTime(iso));

/** A time with how long ago it was. */
export const whenAgo = (iso: string | undefined): Child => (iso ? [when(iso), ` (${ago(iso)})`] : "never");

/** A state word with a colour class; the word itself carries the meaning. */
export const badge = (state: string) => h("span", { class: `badge badge-${state.replace(/[^a-z-]/g, "")}` }, state);

export const imageLink = (provider: string, id: string, text: string, source?: string) =>
  h("a", { href: href(["images", provider, ...id.split("/")], { source }) }, text);

/** The provider filter every list offers: any, Triton or Cox Edge. */
export const providerFilter = (value: string | null) =>
  field("Provider", select("provider", [["", "any"], ["triton", "Triton"], ["coxedge", "Cox Edge"]], value));

export const jobLink = (jobId: string) => h("a", { href: href(["jobs", jobId]) }, jobId);

/** `sync:<runId>` names a run; `job:<jobId>` links the job. */
export const causeText = (cause: string | undefined): Child =>
  cause?.startsWith("job:") ? ["job ", jobLink(cause.slice(4))] : (cause ?? "");

/** What a change record changed: each field path with its old and new value, folded. */
export const fieldChanges = (change: Change): Child =>
  change.fields.length === 0
    ? "—"
    : h(
        "details",
        {},
        h("summary", {}, `${change.fields.length}${change.fieldsTruncated ? "+" : ""} field${change.fields.length === 1 ? "" : "s"}`),
        h("ul", {}, change.fields.map((f) => h("li", {}, h("code", {}, f.path), `: ${brief(f.old)} → ${brief(f.new)}`))),
      );

/** An API failure as an alert: the detail and each offending parameter with the API's own reason. */
export function problem(error: unknown): HTMLElement {
  if (!(error instanceof ApiError)) return alertBox(`Something went wrong: ${String(error)}`);
  return alertBox(
    h("p", {}, `The API answered ${error.status}: ${error.detail}`),
    error.invalidParams.length > 0 && h("ul", {}, error.invalidParams.map((param) => h("li", {}, h("code", {}, param.name), `: ${param.reason}`))),
  );
}

/**
 * Previous/next buttons over cursor pages. The API gives only a next cursor, so the cursors of earlier
 * pages are kept here (never in the address: they are bound to the token). `first()` loads page one.
 */
export function cursorPager<T>(what: string, fetchPage: (cursor: string | undefined) => Promise<Page<T>>, show: (items: T[]) => void) {
  const cursors: (string | undefined)[] = [undefined];
  let index = 0;
  const status = liveStatus();
  const failure = h("div");
  const previous = h("button", { type: "button", disabled: true }, "Previous page");
  const next = h("button", { type: "button", disabled: true }, "Next page");
  async function load(to: number): Promise<void> {
    previous.disabled = next.disabled = true;
    status.textContent = "Loading…";
    try {
      const page = await fetchPage(cursors[to]);
      index = to;
      cursors.length = to + 1;
      if (page.nextCursor) cursors.push(page.nextCursor);
      show(page.items);
      failure.replaceChildren();
      status.textContent = `Page ${to + 1}: ${page.items.length} ${what}${page.nextCursor ? "; more follow" : ""}.`;
    } catch (error) {
      failure.replaceChildren(problem(error));
      status.textContent = "";
    }
    previous.disabled = index === 0;
    next.disabled = cursors.length <= index + 1;
  }
  previous.addEventListener("click", () => void load(index - 1));
  next.addEventListener("click", () => void load(index + 1));
  return { element: h("div", { class: "pager" }, previous, next, status, failure), first: () => load(0) };
}
