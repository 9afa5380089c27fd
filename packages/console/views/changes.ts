/** Changes: the change feed, newest first, filtered by time, provider, source and kind. */
import { get, pageQuery } from "../api";
import { field, h, replace, select, table } from "../dom";
import { navigate } from "../router";
import type { Change, Page } from "../types";
import { heading, type ViewContext } from "../view";
import { badge, causeText, cursorPager, fieldChanges, imageLink, providerFilter, when } from "../widgets";

const kinds = ["added", "changed", "removed", "revived"] as const;

/** `datetime-local` values are local times; the API takes ISO times. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : "");
const toLocalInput = (iso: string | null) => {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

function filters(params: URLSearchParams): HTMLFormElement {
  const input = (name: string) => h("input", { type: "datetime-local", name, value: toLocalInput(params.get(name)) });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filters" },
    field("Since", input("since"), "Default: 7 days before until"),
    field("Until", input("until"), "Default: now"),
    providerFilter(params.get("provider")),
    field("Source", h("input", { name: "source", value: params.get("source") ?? "", autocomplete: "off" })),
    field("Kind", select("kind", [["", "any"], ...kinds.map((k) => [k, k] as const)], params.get("kind"))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    navigate(["changes"], { since: toIso(text("since")), until: toIso(text("until")), provider: text("provider"), source: text("source"), kind: text("kind") });
  });
  return form;
}

const rows = (changes: Change[]) =>
  table(
    "Changes, newest first",
    ["When", "Change", "Image", "Source", "Fields", "Cause"],
    changes.map((c) => [
      when(c.at),
      badge(c.kind),
      imageLink(c.provider, c.imageId, `${c.name} ${c.version}`, c.source),
      c.source,
      fieldChanges(c),
      causeText(c.cause),
    ]),
  );

export async function changesView({ main, route, signal }: ViewContext): Promise<void> {
  const results = h("div", { "data-results": true, tabindex: -1 });
  const query = Object.fromEntries(["since", "until", "provider", "source", "kind"].map((name) => [name, route.params.get(name) ?? undefined]));
  const pager = cursorPager<Change>("changes", (cursor) => get<Page<Change>>("/changes", pageQuery({ ...query, limit: "50" }, cursor), signal), (changes) =>
    replace(results, changes.length ? rows(changes) : h("p", {}, "No changes match.")),
  );
  await pager.first();
  main.append(heading("Changes"), filters(route.params), results, pager.element);
}
