/**
 * Inventory: every image across providers and sources with the API's filters (Triton tags as
 * `tag.KEY=VALUE`), cursor pages, and counts per source and state. Filters live in the address; cursors
 * do not (they are bound to the token).
 */
import { get, pageQuery } from "../api";
import { field, h, replace, select, table } from "../dom";
import { count } from "../format";
import { href, navigate } from "../router";
import type { ImageCounts, ImageSummary, Page, Source } from "../types";
import { heading, type ViewContext } from "../view";
import { badge, cursorPager, imageLink, problem, providerFilter, when } from "../widgets";

const states = ["active", "creating", "failed", "disabled", "unactivated", "unknown"] as const;
const stateFilters = ["present", "removed", "all", ...states];
const textFilters = [
  ["name", "Name", "Exact, or ~text for names containing text"],
  ["os", "OS", "Triton os; Cox Edge family"],
  ["version", "Version", "Triton version; Cox Edge tag"],
  ["type", "Type", "e.g. zone-dataset, zvol; Cox Edge default or custom"],
] as const;
const pageSizes = ["25", "50", "100", "200"];
const tagPrefix = "tag.";

/** The `tag.KEY=VALUE` parameters as the text area shows them: one `KEY=VALUE` a line. */
const tagLines = (params: URLSearchParams) =>
  [...params].filter(([name]) => name.startsWith(tagPrefix)).map(([name, value]) => `${name.slice(tagPrefix.length)}=${value}`).join("\n");

/** The form's values as the address's (and the API's) query: empty ones left out, tag lines as `tag.KEY=VALUE`. */
function queryOf(form: HTMLFormElement): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    const text = String(value).trim();
    if (name === "tags") {
      for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const at = line.indexOf("=");
        params.append(`${tagPrefix}${at < 0 ? line : line.slice(0, at)}`, at < 0 ? "" : line.slice(at + 1));
      }
    } else if (text) params.set(name, text);
  }
  return params;
}

function filterForm(params: URLSearchParams, sources: Source[]): HTMLFormElement {
  const form = h("form", { class: "filters", "aria-label": "Filters" });
  const value = (name: string) => params.get(name);
  form.append(
    providerFilter(value("provider")),
    field("Source", select("source", [["", "any"], ...sources.map((s) => [s.id, s.id] as const)], value("source"))),
    ...textFilters.map(([name, label, hint]) => field(label, h("input", { name, value: value(name) ?? "", autocomplete: "off" }), hint)),
    field("State", select("state", stateFilters.map((s) => [s, s] as const), value("state") ?? "present")),
    field("Public", select("public", [["", "any"], ["true", "public"], ["false", "private"]], value("public"))),
    field("Triton tags", h("textarea", { name: "tags", rows: 2, autocomplete: "off" }, tagLines(params)), "One KEY=VALUE a line; all must match"),
    field("Page size", select("limit", pageSizes.map((n) => [n, n] as const), value("limit") ?? "50")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply filters"), h("a", { href: href(["inventory"]) }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(["inventory"], queryOf(form));
  });
  return form;
}

function countsTable(counts: ImageCounts): HTMLElement {
  const shown = states.filter((state) => (counts.total.states[state] ?? 0) > 0);
  const cell = (n: number | undefined, query: Record<string, string>) => (n ? h("a", { href: href(["inventory"], query) }, count(n)) : "0");
  const row = (label: HTMLElement | string, source: string | undefined, c: { states: Record<string, number>; present: number; removed: number }) => [
    label,
    ...shown.map((state) => cell(c.states[state], { source: source ?? "", state })),
    cell(c.removed, { source: source ?? "", state: "removed" }),
    cell(c.present, { source: source ?? "" }),
  ];
  return table(
    "Images per source and state, as of each source's last listing",
    ["Source", ...shown, "removed", "present"],
    [...counts.items.map((item) => row(h("span", {}, item.source, " ", h("small", {}, when(item.at))), item.source, item)), row(h("strong", {}, "All sources"), undefined, counts.total)],
  );
}

function imageRows(items: ImageSummary[]): HTMLElement {
  return table(
    "Images",
    ["Name", "Version", "Provider", "Source", "OS", "Type", "State", "Public", "Last seen"],
    items.map((image) => [
      imageLink(image.provider, image.id, image.name, image.source),
      image.version,
      image.provider,
      image.source,
      image.os ?? "",
      image.type ?? "",
      badge(image.removedAt ? "removed" : image.state),
      image.public === undefined ? "" : image.public ? "yes" : "no",
      when(image.removedAt ?? image.lastSeenAt),
    ]),
  );
}

export async function inventoryView({ main, route, signal }: ViewContext): Promise<void> {
  const results = h("div", { "data-results": true, tabindex: -1 });
  const countsArea = h("section", { "aria-label": "Counts" });
  const query = new URLSearchParams(route.params);
  query.set("limit", route.params.get("limit") ?? "50");
  const pager = cursorPager<ImageSummary>(
    "images",
    (cursor) => get<Page<ImageSummary>>("/images", pageQuery(query, cursor), signal),
    (items) => {
      replace(results, items.length ? imageRows(items) : h("p", {}, "No images on this page."));
      performance.mark("inventory-rendered");
    },
  );
  const [sources] = await Promise.all([
    get<{ items: Source[] }>("/sources", undefined, signal),
    get<ImageCounts>("/images/counts", undefined, signal).then(
      (counts) => replace(countsArea, counts.items.length ? countsTable(counts) : h("p", {}, "No source has been counted yet: counts appear after each source's next sync.")),
      (error: unknown) => replace(countsArea, problem(error)),
    ),
    pager.first(),
  ]);
  main.append(heading("Inventory"), countsArea, filterForm(route.params, sources.items), results, pager.element);
}
