/**
 * GET /images/counts: each source's images by lifecycle state and its tombstones, summed. Each sync run
 * records its source's counts on the source's LATEST item (sync/inventory-counts.ts), so this reads one
 * item per source however large the inventory.
 */
import type { CommonState } from "../store/normalise";
import { listLatestRuns } from "../store/runs";
import { configuredTable } from "../store/table";
import { defineRoute } from "./route";
import { ImageCountsSchema, type ImageCounts } from "./schemas";

type StateCounts = Partial<Record<CommonState, number>>;

const sum = (counts: StateCounts) => Object.values(counts).reduce((total, count) => total + count, 0);

export const imageCountsRoute = defineRoute({
  tag: "images",
  summary: "Image counts per source and lifecycle state",
  description:
    "Counts as of each source's last listing (a job's image appears in them after the next sync). Sources that have not " +
    "listed their images since counting began are absent.",
  cacheable: true,
  responses: { 200: { description: "Counts per source, and their sums.", schema: ImageCountsSchema } },
  async handle(_input, { config }) {
    const runs = await listLatestRuns(configuredTable(config));
    const items = runs.flatMap((run) =>
      run.inventory ? [{ provider: run.provider, source: run.sourceId, ...run.inventory, present: sum(run.inventory.states) }] : [],
    );
    const states: StateCounts = {};
    for (const item of items) {
      for (const [state, count] of Object.entries(item.states) as [CommonState, number][]) states[state] = (states[state] ?? 0) + count;
    }
    const total = { states, present: sum(states), removed: items.reduce((count, item) => count + item.removed, 0) };
    return { status: 200, body: { items, total } satisfies ImageCounts };
  },
});
