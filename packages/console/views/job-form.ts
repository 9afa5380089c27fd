/**
 * Submit a job: the form is made from the API's own description of POST /jobs (job-schema.ts), and a
 * refusal shows the API's messages at the fields it names, so the form says exactly what the API says.
 * Only a token with the `jobs` scope gets the form.
 */
import { ApiError, get, request, type InvalidParam } from "../api";
import { field, h, replace, select, uniqueId } from "../dom";
import { jobActions, jobBody, type JobAction } from "../job-schema";
import { href, navigate } from "../router";
import type { Me, Source } from "../types";
import { canSubmitJobs, heading, type ViewContext } from "../view";
import { problem } from "../widgets";

/** The refusal a token without the `jobs` scope sees instead of the form. */
export const refusal = (me: Me) =>
  h("p", { class: "notice", role: "note" }, `This token (${me.name}) has the scopes ${me.scopes.join(", ")}: submitting jobs needs the "jobs" scope.`);

interface FormState {
  actions: JobAction[];
  sources: Source[];
  /** Values typed so far, by field path, kept when the action changes. */
  values: Map<string, string>;
}

function controlFor(path: string, kind: "text" | "json", state: FormState): HTMLInputElement | HTMLTextAreaElement {
  const props = { name: path, autocomplete: "off", spellcheck: "false", oninput: (event: Event) => state.values.set(path, (event.target as HTMLInputElement).value) };
  const value = state.values.get(path) ?? "";
  return kind === "json" ? h("textarea", { ...props, rows: 2 }, value) : h("input", { ...props, value });
}

/** The parameter fields of one action, each with a slot for the API's message about it. */
function paramFields(action: JobAction, state: FormState): HTMLElement {
  return h(
    "fieldset",
    {},
    h("legend", {}, `Parameters of ${action.provider} ${action.action}`),
    action.fields.map((f) => {
      const control = controlFor(f.path, f.kind, state);
      const label = `${f.path.replace(/^params\./, "")}${f.required ? " (required)" : ""}`;
      return field(label, control, f.hint);
    }),
  );
}

/** Shows each problem at the control it names (with aria-invalid), and all of them in one alert. */
function showProblems(form: HTMLFormElement, errors: HTMLElement, error: unknown): void {
  for (const old of form.querySelectorAll(".field-error")) old.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  replace(errors, problem(error));
  if (!(error instanceof ApiError)) return;
  for (const param of error.invalidParams) markField(form, param);
}

function markField(form: HTMLFormElement, param: InvalidParam): void {
  const control = form.elements.namedItem(param.name);
  if (!(control instanceof HTMLElement)) return;
  const message = h("small", { id: uniqueId("error"), class: "field-error" }, param.reason);
  control.after(message);
  control.setAttribute("aria-invalid", "true");
  control.setAttribute("aria-describedby", `${control.getAttribute("aria-describedby") ?? ""} ${message.id}`.trim());
}

function jobForm(state: FormState, initial: URLSearchParams): HTMLFormElement {
  const providers = [...new Set(state.actions.map((a) => a.provider))];
  const provider = select("provider", providers.map((p) => [p, p] as const), initial.get("provider") ?? providers[0] ?? "");
  const action = h("select", { name: "action" });
  const source = h("select", { name: "source" });
  const jobId = h("input", { name: "jobId", autocomplete: "off", value: initial.get("jobId") ?? "" });
  const params = h("div");
  const errors = h("div");
  const chosen = () => state.actions.find((a) => a.provider === provider.value && a.action === action.value) as JobAction;
  const refill = (wantedAction?: string | null) => {
    const actions = state.actions.filter((a) => a.provider === provider.value);
    replace(action, actions.map((a) => h("option", { value: a.action, selected: a.action === wantedAction }, a.action)));
    const sources = state.sources.filter((s) => s.provider === provider.value);
    replace(source, sources.map((s) => h("option", { value: s.id, selected: s.id === initial.get("source") }, s.id)));
    replace(params, paramFields(chosen(), state));
  };
  provider.addEventListener("change", () => refill());
  action.addEventListener("change", () => replace(params, paramFields(chosen(), state)));
  const form = h("form", { class: "job-form", novalidate: true }, field("Provider", provider), field("Action", action), field("Source", source, "Where the job runs"), field("Job id (optional)", jobId, "Makes a resubmission idempotent; generated when empty"), params, h("button", { type: "submit" }, "Submit job"), errors);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submit(form, errors, jobBody(chosen(), source.value, state.values, jobId.value.trim() || undefined));
  });
  refill(initial.get("action"));
  return form;
}

async function submit(form: HTMLFormElement, errors: HTMLElement, job: Record<string, unknown>): Promise<void> {
  const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
  button.disabled = true;
  try {
    const accepted = await request<{ jobId: string }>("POST", "/jobs", { body: job });
    navigate(["jobs", accepted.jobId]);
  } catch (error) {
    showProblems(form, errors, error);
  } finally {
    button.disabled = false;
  }
}

export async function jobFormView({ main, route, me, signal }: ViewContext): Promise<void> {
  main.append(heading("Submit a job"));
  if (!canSubmitJobs(me)) {
    main.append(refusal(me), h("p", {}, h("a", { href: href(["jobs"]) }, "Back to the jobs")));
    return;
  }
  const [openapi, sources] = await Promise.all([get<unknown>("/openapi.json", undefined, signal), get<{ items: Source[] }>("/sources", undefined, signal)]);
  const values = new Map([...route.params].filter(([name]) => name.startsWith("params.")));
  main.append(jobForm({ actions: jobActions(openapi), sources: sources.items, values }, route.params));
}
