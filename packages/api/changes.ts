/** GET /changes and GET /images/{provider}/{id}/history: what changed, when and why (packages/changes). */
import * as z from "../core/zod";
import type { ChangeRecord } from "../store/changes";
import type { Provider } from "../core/resources";
import { imageHistory, listChanges, type ChangePosition } from "../store/changes";
import { configuredTable } from "../store/table";
import type { ApiContext } from "./route";
import { defineRoute } from "./route";
import { syncedSources } from "./synced-sources";
import { ChangeListQuerySchema, ChangeListSchema, changeView, HistoryPathSchema, HistoryQuerySchema, type ChangeList } from "./schemas";

const ChangePositionSchema = z.strictObject({ before: z.string().check(z.minLength(1)) });

export const listChangesRoute = defineRoute({
  tag: "changes",
  summary: "The change feed: images added, changed, removed or revived, newest first",
  description: "Every change the syncs and jobs made, from the table's own stream. Filters combine; `kind` is added, changed, removed or revived.",
  query: ChangeListQuerySchema,
  responses: { 200: { description: "A page of changes.", schema: ChangeListSchema } },
  async handle({ query }, { config, cursors }) {
    // Not the times: `until` defaults to now, which moves between pages; the cursor's position bounds them.
    const scope = `GET /changes ${query.provider ?? ""} ${query.source ?? ""} ${query.kind ?? ""}`;
    const cursor = query.cursor === undefined ? undefined : cursors.decode(query.cursor, scope, ChangePositionSchema);
    const page = await listChanges(configuredTable(config), query, { limit: query.limit, cursor });
    return { status: 200, body: pageBody(page, (position) => cursors.encode(position, scope)) };
  },
});

export const imageHistoryRoute = defineRoute({
  tag: "changes",
  summary: "One image's change history, newest first",
  path: HistoryPathSchema,
  query: HistoryQuerySchema,
  responses: { 200: { description: "A page of the image's changes (empty for an image never seen).", schema: ChangeListSchema } },
  handle: ({ path, query }, context) => historyResponse(path.provider, path.id, query, context),
});

/** The history of an image in the given source, or in every source of its provider, merged newest first. */
export async function historyResponse(
  provider: Provider,
  upstreamId: string,
  query: z.output<typeof HistoryQuerySchema>,
  { config, cursors }: ApiContext,
): Promise<{ status: 200; body: ChangeList }> {
  const table = configuredTable(config);
  const scope = `GET /images/${provider}/${upstreamId}/history ${query.source ?? ""}`;
  const cursor = query.cursor === undefined ? undefined : cursors.decode(query.cursor, scope, ChangePositionSchema);
  const sourceIds = query.source ? [query.source] : [...(await syncedSources(table)).values()].filter((run) => run.provider === provider).map((run) => run.sourceId);
  const pages = await Promise.all(sourceIds.map((sourceId) => imageHistory(table, { provider, sourceId, upstreamId }, { limit: query.limit, cursor })));
  const merged = pages.flatMap((page) => page.changes).toSorted((a, b) => sortKey(b).localeCompare(sortKey(a))).slice(0, query.limit);
  const more = pages.some((page) => page.cursor) || pages.reduce((count, page) => count + page.changes.length, 0) > merged.length;
  const last = merged.at(-1);
  const page = { changes: merged, ...(more && last ? { cursor: { before: sortKey(last) } } : {}) };
  return { status: 200, body: pageBody(page, (position) => cursors.encode(position, scope)) };
}

function pageBody(page: { changes: ChangeRecord[]; cursor?: ChangePosition }, encode: (position: ChangePosition) => string): ChangeList {
  return { items: page.changes.map(changeView), ...(page.cursor ? { nextCursor: encode(page.cursor) } : {}) };
}

const sortKey = (record: ChangeRecord) => `${record.at}#${record.id}`;
