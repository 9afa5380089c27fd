/** GET /sources and GET /sources/{id}/runs: what is mirrored from where, and how its syncs went. */
import { itemKeys } from "../store/keys";
import * as z from "../core/zod";
import type { ConfigLoader } from "../core/config";
import { providers } from "../core/resources";
import { readSourceDirectory, type SourceDescription } from "../store/directory";
import { listLatestRuns, listRuns } from "../store/runs";
import { configuredTable } from "../store/table";
import { ApiProblem } from "./problem";
import { defineRoute } from "./route";
import { RunListSchema, RunListQuerySchema, SourceListSchema, SourcePathSchema } from "./schemas";

/** The configured sources as the sync functions last wrote them: ids and endpoints, no credentials. */
function configuredSources(config: ConfigLoader): Promise<SourceDescription[]> {
  return readSourceDirectory(configuredTable(config), providers);
}

export const listSourcesRoute = defineRoute({
  tag: "sources",
  summary: "Configured sources with their latest sync run",
  responses: { 200: { description: "Every configured source, by id.", schema: SourceListSchema } },
  async handle(_input, { config }) {
    const [directory, runs] = await Promise.all([configuredSources(config), listLatestRuns(configuredTable(config))]);
    const latest = new Map(runs.map((run) => [run.sourceId, run]));
    return { status: 200, body: { items: directory.map((source) => ({ ...source, latestRun: latest.get(source.id) ?? null })) } };
  },
});

/** A position in a source's run history: the last run item's key, signed into the cursor. */
const RunPositionSchema = z.strictObject({ pk: z.string(), sk: z.string().check(z.startsWith(itemKeys.runPrefix)) });

export const listRunsRoute = defineRoute({
  tag: "sources",
  summary: "A source's sync runs, newest first",
  path: SourcePathSchema,
  query: RunListQuerySchema,
  responses: {
    200: { description: "A page of runs.", schema: RunListSchema },
    404: { description: "The source is not configured and has no runs." },
  },
  async handle({ path, query }, { config, cursors }) {
    const scope = `GET /sources/${path.id}/runs`;
    const cursor = query.cursor === undefined ? undefined : cursors.decode(query.cursor, scope, RunPositionSchema);
    const page = await listRuns(configuredTable(config), path.id, { limit: query.limit, cursor });
    if (!page.runs.length && !cursor && !(await configuredSources(config)).some((s) => s.id === path.id)) {
      throw new ApiProblem(404, `No source ${path.id}: it is not configured and has never synced`);
    }
    return {
      status: 200,
      body: { items: page.runs, ...(page.nextCursor ? { nextCursor: cursors.encode(page.nextCursor, scope) } : {}) },
    };
  },
});
