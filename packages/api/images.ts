/** GET /images and GET /images/{provider}/{id+}: the cross-provider inventory. */
import * as z from "../core/zod";
import type { Provider } from "../core/resources";
import { effectiveLastSeenAt, type ImageItem } from "../store/inventory";
import { getImages, listImages, type ImageFilter, type ImageSummaryItem } from "../store/inventory-queries";
import { configuredTable } from "../store/table";
import { historyResponse } from "./changes";
import { syncedSources, type Sources } from "./synced-sources";
import { ApiProblem, invalidParam } from "./problem";
import { defineRoute } from "./route";
import {
  ImageGetQuerySchema,
  ImageListQuerySchema,
  ImageListSchema,
  ImagePathSchema,
  ImageDetailSchema,
  HistoryQuerySchema,
  tagFilterPrefix,
  tagFiltersOf,
  type ImageDetail,
  type ImageListQuery as ListQuery,
  type ImageSummary,
} from "./schemas";

/** Where a listing continues: the last sort key read, from the store, signed into the cursor. */
const PositionSchema = z.strictObject({ after: z.string().check(z.minLength(1)) });

/** Cox Edge's own filter names are aliases of the common view, restricted to Cox Edge images. */
function toFilter(query: ListQuery): ImageFilter {
  const coxedgeOnly = (param: "imageType" | "family" | "tag", target: "type" | "os" | "version") => {
    const value = query[param];
    if (value === undefined) return undefined;
    if (query.provider === "triton") throw invalidParam("query", param, "applies to Cox Edge images only, but provider is triton");
    if (query[target] !== undefined && query[target] !== value) {
      throw invalidParam("query", param, `conflicts with ${target}=${query[target]} (${param} is the Cox Edge name of ${target})`);
    }
    return value;
  };
  const type = coxedgeOnly("imageType", "type") ?? query.type;
  const os = coxedgeOnly("family", "os") ?? query.os;
  const version = coxedgeOnly("tag", "version") ?? query.version;
  const coxedge = query.imageType !== undefined || query.family !== undefined || query.tag !== undefined;
  const contains = query.name?.startsWith("~");
  if (contains && query.name === "~") throw invalidParam("query", "name", "~ must be followed by the text to look for");
  const state = query.state;
  const tags = tagFiltersOf(query);
  const tagKeys = Object.keys(tags);
  // Only Triton images have tags, so tag filters narrow the listing to Triton's.
  if (tagKeys.length && (coxedge || query.provider === "coxedge")) {
    throw invalidParam("query", `${tagFilterPrefix}${tagKeys[0]}`, "applies to Triton images only, but the query asks for Cox Edge images");
  }
  return {
    provider: coxedge ? "coxedge" : tagKeys.length ? "triton" : query.provider,
    source: query.source,
    ...(contains ? { nameContains: query.name?.slice(1) } : { name: query.name }),
    os,
    version,
    type,
    owner: query.owner,
    public: query.public,
    presence: state === "removed" || state === "all" ? state : "present",
    state: state === "present" || state === "removed" || state === "all" ? undefined : state,
    ...(tagKeys.length ? { tags } : {}),
  };
}

/** Picks the summary fields (items also carry their keys); undefined ones vanish from the JSON. */
function summary(item: ImageSummaryItem, sources: Sources): ImageSummary {
  return {
    provider: item.provider,
    source: item.sourceId,
    id: item.upstreamId,
    name: item.name,
    version: item.version,
    os: item.os,
    type: item.type,
    state: item.state,
    status: item.status,
    public: item.public,
    owner: item.owner,
    createdAt: item.createdAt,
    publishedAt: item.publishedAt,
    firstSeenAt: item.firstSeenAt,
    lastSeenAt: effectiveLastSeenAt(item, sources.get(item.sourceId)?.lastOkSnapshotAt),
    lastChangedAt: item.lastChangedAt,
    removedAt: item.removedAt,
  };
}

export const listImagesRoute = defineRoute({
  tag: "images",
  summary: "List images across providers and sources",
  description:
    "Images in a stable order (provider, source, id). Filters combine with AND; `tag.KEY=VALUE` (repeatable) keeps Triton " +
    "images whose tag KEY has that value, compared as text. Pages hold at most `limit` images and " +
    "may hold fewer while `nextCursor` is present: keep following it until it is absent.",
  cacheable: true,
  query: ImageListQuerySchema,
  responses: { 200: { description: "A page of images.", schema: ImageListSchema } },
  async handle({ query }, { config, cursors }) {
    const filter = toFilter(query);
    const scope = `GET /images ${JSON.stringify(filter)}`;
    const after = query.cursor === undefined ? undefined : cursors.decode(query.cursor, scope, PositionSchema);
    const table = configuredTable(config);
    // The listing covers the sources that have synced (or the one named), like a look-up by id.
    const sources = await syncedSources(table);
    const page = await listImages(table, filter, [...sources.values()], { limit: query.limit, after });
    return {
      status: 200,
      body: {
        items: page.items.map((item) => summary(item, sources)),
        ...(page.next ? { nextCursor: cursors.encode(page.next, scope) } : {}),
      } satisfies z.output<typeof ImageListSchema>,
    };
  },
});

export const getImageRoute = defineRoute({
  tag: "images",
  summary: "One image with its sightings and tombstone",
  description:
    "Looks the id up in every source of the provider that has synced (or in `source`). The record shown is the first " +
    "(by source id) where the image is present, else the first tombstone; `seenIn` lists them all.",
  cacheable: true,
  path: ImagePathSchema,
  query: ImageGetQuerySchema,
  responses: {
    200: { description: "The image.", schema: ImageDetailSchema },
    404: { description: "No source holds a record of this image." },
  },
  async handle({ path, query }, context) {
    const provider: Provider = path.provider;
    // A Cox Edge id is stackId/family/tag, so a fourth segment `history` can only ask for its history.
    const segments = path.id.split("/");
    if (provider === "coxedge" && segments.length === 4 && segments[3] === "history") {
      return historyResponse(provider, segments.slice(0, 3).join("/"), HistoryQuerySchema.parse({ ...query }), context);
    }
    const table = configuredTable(context.config);
    const sources = await syncedSources(table);
    const sourceIds = query.source ? [query.source] : [...sources.values()].filter((run) => run.provider === provider).map((run) => run.sourceId);
    const records = await getImages(table, sourceIds.map((sourceId) => ({ provider, sourceId, upstreamId: path.id })));
    const ordered = records.toSorted((a, b) => Number(!!a.removedAt) - Number(!!b.removedAt) || a.sourceId.localeCompare(b.sourceId));
    const shown = ordered[0];
    if (!shown) {
      throw new ApiProblem(404, `No ${provider} image ${path.id}${query.source ? ` in source ${query.source}` : " in any source"}`);
    }
    return { status: 200, body: detail(shown, ordered, sources) };
  },
});

function detail(item: ImageItem, all: ImageItem[], sources: Sources): ImageDetail {
  const { description, requirements, tags, files, contentHash, expiresAt, raw } = item;
  return {
    ...summary(item, sources),
    description,
    requirements,
    tags,
    files,
    contentHash,
    expiresAt,
    raw,
    seenIn: all.map((record) => ({ source: record.sourceId, ...(record.removedAt ? { removedAt: record.removedAt } : {}) })),
  };
}
