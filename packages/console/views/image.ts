/** One image: the common fields, where it is seen, the raw upstream document, and its change history. */
import { get, imagePath, pageQuery } from "../api";
import { h, replace, table, type Child } from "../dom";
import type { Change, ImageDetail, Page } from "../types";
import { heading, type ViewContext } from "../view";
import { badge, causeText, cursorPager, fieldChanges, imageLink, when } from "../widgets";
import { jsonTree } from "./json-tree";

function facts(image: ImageDetail): HTMLElement {
  const rows: [string, Child][] = [
    ["Provider", image.provider],
    ["Source", image.source],
    ["Id", h("code", {}, image.id)],
    ["State", [badge(image.removedAt ? "removed" : image.state), image.status ? ` (upstream: ${image.status})` : ""]],
    ["OS", image.os],
    ["Type", image.type],
    ["Public", image.public === undefined ? undefined : image.public ? "yes" : "no"],
    ["Owner", image.owner && h("code", {}, image.owner)],
    ["Description", image.description],
    ["Created", when(image.createdAt)],
    ["Published", when(image.publishedAt)],
    ["First seen", when(image.firstSeenAt)],
    ["Last seen", when(image.lastSeenAt)],
    ["Last changed", when(image.lastChangedAt)],
    ["Removed", when(image.removedAt)],
    ["Content hash", h("code", {}, image.contentHash)],
  ];
  return h("dl", { class: "facts" }, rows.filter(([, value]) => value !== undefined && value !== "").map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}

function seenIn(image: ImageDetail): HTMLElement {
  const sighting = (entry: ImageDetail["seenIn"][number]) =>
    h(
      "li",
      {},
      entry.source === image.source ? h("strong", {}, entry.source, " (shown)") : imageLink(image.provider, image.id, entry.source, entry.source),
      entry.removedAt ? [" — removed ", when(entry.removedAt)] : " — present",
    );
  return h("section", { "aria-labelledby": "seen-in" }, h("h2", { id: "seen-in" }, "Seen in"), h("ul", {}, image.seenIn.map(sighting)));
}

function historySection(image: ImageDetail, signal: AbortSignal) {
  const rows = h("div");
  const path = `${imagePath(image.provider, image.id)}/history`;
  const pager = cursorPager<Change>(
    "changes",
    (cursor) => get<Page<Change>>(path, pageQuery({}, cursor), signal),
    (items) =>
      replace(
        rows,
        items.length
          ? table("Change history, newest first", ["When", "Change", "Source", "Version", "Fields", "Cause"], items.map((c) => [when(c.at), badge(c.kind), c.source, c.version, fieldChanges(c), causeText(c.cause)]))
          : h("p", {}, "No recorded changes."),
      ),
  );
  return { element: h("section", { "aria-labelledby": "history" }, h("h2", { id: "history" }, "History"), rows, pager.element), load: pager.first };
}

export async function imageView({ main, route, signal }: ViewContext): Promise<void> {
  const [provider = "", ...idParts] = route.path.slice(1);
  const id = idParts.join("/");
  const source = route.params.get("source") ?? undefined;
  const image = await get<ImageDetail>(imagePath(provider, id), { source }, signal);
  const history = historySection(image, signal);
  await history.load();
  main.append(
    heading(`${image.name} ${image.version}`),
    facts(image),
    seenIn(image),
    h("section", { "aria-labelledby": "raw" }, h("h2", { id: "raw" }, "Upstream document"), jsonTree("raw", image.raw)),
    history.element,
  );
}
