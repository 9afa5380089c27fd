/**
 * Triton datacenters: for each account, its private images (its own and those shared with it) and which of
 * its configured datacenters hold each one, with a "copy" action into a datacenter that lacks it. The copy
 * is an ordinary job (ImportImageFromDatacenter, docs/jobs.md), followed in place until it finishes.
 */
import { ApiError, get, pageQuery, request } from "../api";
import { append, h, replace, table, type Child } from "../dom";
import { isFinished, type ImageSummary, type Job, type Page, type Source } from "../types";
import { canSubmitJobs, heading, pause, type ViewContext } from "../view";
import { badge, imageLink, jobLink } from "../widgets";

/** Pages of 1000 read per source before the table says it is incomplete. */
const maxPages = 10;
const pollMs = 1000;

interface Account {
  name: string;
  sources: Source[];
}

/** Triton sources grouped by account, datacenters in name order. */
function accounts(sources: Source[]): Account[] {
  const byAccount = new Map<string, Source[]>();
  for (const source of sources.filter((s) => s.provider === "triton")) byAccount.set(source.account ?? "?", [...(byAccount.get(source.account ?? "?") ?? []), source]);
  return [...byAccount].map(([name, list]) => ({ name, sources: list.toSorted((a, b) => (a.datacenter ?? a.id).localeCompare(b.datacenter ?? b.id)) }));
}

/** A source's private images (up to `maxPages` pages); `complete` is false when more remain. */
async function privateImages(source: Source, signal: AbortSignal): Promise<{ images: ImageSummary[]; complete: boolean }> {
  const images: ImageSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await get<Page<ImageSummary>>("/images", pageQuery({ source: source.id, public: "false", limit: "1000" }, cursor), signal);
    images.push(...result.items);
    cursor = result.nextCursor;
    if (!cursor) return { images, complete: true };
  }
  return { images, complete: false };
}

/** Submits the copy and follows the job in the cell until it finishes. */
async function copy(cell: HTMLElement, image: ImageSummary, from: Source, to: Source, signal: AbortSignal): Promise<void> {
  const status = h("span", { role: "status" }, "submitting…");
  replace(cell, status);
  try {
    const body = { provider: "triton", source: from.id, action: "copy", params: { imageId: image.id, targetSource: to.id } };
    let job = await request<Job>("POST", "/jobs", { body });
    const path = `/jobs/${encodeURIComponent(job.jobId)}`;
    replace(cell, status, " ", jobLink(job.jobId));
    for (;;) {
      replace(status, badge(job.state));
      if (isFinished(job.state)) break;
      await pause(pollMs, signal);
      job = await get<Job>(path, undefined, signal);
    }
    if (job.state === "failed") cell.append(h("span", { class: "error-text" }, ` ${job.error?.upstreamMessage ?? job.error?.message ?? ""}`));
  } catch (error) {
    if (!signal.aborted) replace(status, h("span", { class: "error-text" }, error instanceof ApiError ? `refused: ${error.detail}` : String(error)));
  }
}

function matrix(account: Account, held: Map<string, { image: ImageSummary; in: Set<string> }>, canCopy: boolean, signal: AbortSignal): HTMLElement {
  const cell = (entry: { image: ImageSummary; in: Set<string> }, target: Source): Child => {
    if (entry.in.has(target.id)) return h("span", { class: "held" }, "✓ held");
    const from = account.sources.find((s) => entry.in.has(s.id)) as Source;
    if (!canCopy) return "missing";
    const label = `Copy ${entry.image.name} ${entry.image.version} to ${target.id}`;
    const button = h("button", { type: "button", "aria-label": label }, "Copy here");
    button.addEventListener("click", () => void copy(button.parentElement as HTMLElement, entry.image, from, target, signal));
    return h("span", {}, button);
  };
  // Columns are named by datacenter, or by source id where one account has two sources in a datacenter.
  const datacenters = account.sources.map((s) => s.datacenter ?? s.id);
  const column = (s: Source, i: number) => (datacenters.indexOf(datacenters[i] as string) === datacenters.lastIndexOf(datacenters[i] as string) ? (datacenters[i] as string) : s.id);
  const rows = [...held.values()].toSorted((a, b) => a.image.name.localeCompare(b.image.name) || a.image.version.localeCompare(b.image.version));
  return table(
    `Private images of ${account.name} by datacenter`,
    ["Image", "Version", "Owner", ...account.sources.map(column)],
    rows.map((entry) => [imageLink("triton", entry.image.id, entry.image.name), entry.image.version, h("code", {}, entry.image.owner ?? ""), ...account.sources.map((s) => cell(entry, s))]),
  );
}

async function accountSection(account: Account, canCopy: boolean, signal: AbortSignal): Promise<HTMLElement> {
  const listings = await Promise.all(account.sources.map((source) => privateImages(source, signal)));
  const held = new Map<string, { image: ImageSummary; in: Set<string> }>();
  listings.forEach((listing, index) => {
    for (const image of listing.images) {
      const entry = held.get(image.id) ?? { image, in: new Set<string>() };
      entry.in.add((account.sources[index] as Source).id);
      held.set(image.id, entry);
    }
  });
  const incomplete = listings.some((listing) => !listing.complete);
  return h(
    "section",
    { "aria-labelledby": `account-${account.name}` },
    h("h2", { id: `account-${account.name}` }, `Account ${account.name}`),
    incomplete && h("p", { class: "notice" }, `Only the first ${maxPages * 1000} private images of each datacenter are shown.`),
    held.size ? matrix(account, held, canCopy, signal) : h("p", {}, "No private images in these datacenters."),
  );
}

export async function datacentersView({ main, me, signal }: ViewContext): Promise<void> {
  const sources = await get<{ items: Source[] }>("/sources", undefined, signal);
  const list = accounts(sources.items);
  const sections = await Promise.all(list.map((account) => accountSection(account, canSubmitJobs(me), signal)));
  append(
    main,
    heading("Triton datacenters"),
    h("p", {}, "Each account's private images (its own and those shared with it) and the configured datacenters that hold them."),
    !canSubmitJobs(me) && h("p", { class: "notice" }, `This token (${me.name}) cannot submit jobs, so images cannot be copied from here.`),
    sections.length ? sections : h("p", {}, "No Triton source has synced yet."),
  );
}
