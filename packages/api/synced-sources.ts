/** The sources that have synced, read once a second for every route that needs them. */
import { listLatestRuns, type LatestRun } from "../store/runs";
import type { Table } from "../store/table";
import { TtlCache } from "./cache";

/** Every source that has synced, by id: its last good snapshot also proves its live images were seen then. */
export type Sources = Map<string, LatestRun>;

/**
 * Reused for a second like other inventory reads (sources change when a sync finishes, every few minutes);
 * the shared promise also makes concurrent requests wait for one read instead of each making their own.
 */
const sourcesCache = new TtlCache<Promise<Sources>>(1000, 100);

export function syncedSources(table: Table): Promise<Sources> {
  let sources = sourcesCache.get(table.name);
  if (!sources) {
    sources = listLatestRuns(table).then((runs) => new Map(runs.map((run) => [run.sourceId, run])));
    sourcesCache.set(table.name, sources);
    sources.catch(() => sourcesCache.delete(table.name));
  }
  return sources;
}
