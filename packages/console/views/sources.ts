/** Sources: each one's health (last successful snapshot, failures in a row, last error) and a chart of its recent runs. */
import { get } from "../api";
import { h, table } from "../dom";
import { count, duration } from "../format";
import { runsChart } from "../chart";
import type { ImageCounts, Page, Source, SyncRun } from "../types";
import { heading, type ViewContext } from "../view";
import { badge, problem, when, whenAgo } from "../widgets";
import { href } from "../router";

const runsShown = 100;

const where = (source: Source) =>
  source.provider === "triton" ? `${source.account ?? ""} @ ${source.datacenter ?? ""}` : `${source.service ?? ""}/${source.environment ?? ""}`;

function health(source: Source): HTMLElement {
  const run = source.latestRun;
  if (!run) return badge("never synced");
  const failures = run.consecutiveFailures ?? 0;
  return badge(failures > 0 ? "failing" : run.status === "ok" ? "healthy" : run.status);
}

/** Moves to a source's runs (an in-page `#id` link would be taken for a route). */
function showRuns(sourceId: string): void {
  const title = document.getElementById(`runs-${sourceId}-title`);
  title?.scrollIntoView();
  title?.focus();
}

function healthTable(sources: Source[], counts: ImageCounts | undefined): HTMLElement {
  const imagesOf = (id: string) => counts?.items.find((item) => item.source === id);
  return table(
    "Sources and their health",
    ["Source", "Where", "Health", "Last run", "Last successful snapshot", "Failures in a row", "Last error", "Images"],
    sources.map((source) => {
      const run = source.latestRun;
      const images = imagesOf(source.id);
      return [
        h("button", { type: "button", class: "link", onclick: () => showRuns(source.id) }, source.id),
        where(source),
        health(source),
        run ? [badge(run.status), " ", when(run.finishedAt)] : "—",
        whenAgo(run?.lastOkSnapshotAt),
        String(run?.consecutiveFailures ?? 0),
        run?.error ? h("span", { class: "error-text" }, run.error) : "—",
        images ? h("a", { href: href(["inventory"], { source: source.id }) }, `${count(images.present)} present`, h("br"), `${count(images.removed)} removed`) : "—",
      ];
    }),
  );
}

const comparedWith: Record<NonNullable<SyncRun["compared"]>, string> = {
  listing: "nothing (the known listing)",
  digest: "state digest",
  items: "every image item",
};

function runsTable(source: Source, runs: SyncRun[]): HTMLElement {
  return h(
    "details",
    {},
    h("summary", {}, `The ${runs.length} runs as a table`),
    table(
      `Sync runs of ${source.id}, newest first`,
      ["Started", "Status", "Trigger", "Duration", "Seen", "Added", "Changed", "Removed", "Compared with", "Error"],
      runs.map((run) => [
        when(run.startedAt),
        badge(run.status),
        run.trigger,
        duration(run.durationMs),
        count(run.counts.seen),
        count(run.counts.added + run.counts.revived),
        count(run.counts.changed),
        count(run.counts.removed),
        run.compared ? comparedWith[run.compared] : "—",
        run.error ?? "",
      ]),
    ),
  );
}

/** One source's chart section; the chart is drawn once the section is in the page (it needs its width). */
async function runsSection(source: Source, signal: AbortSignal): Promise<{ element: HTMLElement; draw: () => void }> {
  const id = `runs-${source.id}`;
  const element = h("section", { id, class: "runs", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title`, tabindex: -1 }, source.id));
  try {
    const runs = (await get<Page<SyncRun>>(`/sources/${encodeURIComponent(source.id)}/runs`, { limit: String(runsShown) }, signal)).items;
    if (runs.length === 0) {
      element.append(h("p", {}, "No sync runs yet."));
      return { element, draw: () => undefined };
    }
    const first = runs.at(-1) as SyncRun;
    const label = `Chart of the last ${runs.length} sync runs of ${source.id}, from ${first.startedAt} to ${runs[0]?.startedAt}: images added, changed and removed per run, and each run's duration.`;
    const canvas = h("div", { class: "chart", role: "img", "aria-label": label });
    element.append(canvas, runsTable(source, runs));
    return {
      element,
      draw: () => {
        const remove = runsChart(canvas, runs, `Recent sync runs of ${source.id}`);
        signal.addEventListener("abort", remove, { once: true });
      },
    };
  } catch (error) {
    element.append(problem(error));
    return { element, draw: () => undefined };
  }
}

export async function sourcesView({ main, signal }: ViewContext): Promise<void> {
  const [sources, counts] = await Promise.all([
    get<{ items: Source[] }>("/sources", undefined, signal),
    get<ImageCounts>("/images/counts", undefined, signal).catch(() => undefined),
  ]);
  const sections = await Promise.all(sources.items.map((source) => runsSection(source, signal)));
  main.append(
    heading("Sources"),
    sources.items.length ? healthTable(sources.items, counts) : h("p", {}, "No source has synced yet: sources appear once their provider's sync has run."),
    ...sections.map((section) => section.element),
  );
  for (const section of sections) section.draw();
}
