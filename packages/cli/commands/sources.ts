/** `imagesync sources`: the configured sources and how their latest sync went. */
import type { SourceList } from "../../api/schemas";
import { request, resolveTarget } from "../api-client";
import { defineCommand } from "../command";
import { print, printJson, table } from "../output";

export const sources = defineCommand({
  name: "sources",
  summary: "Lists the configured sources with their latest sync run.",
  async run({ json, global }) {
    const { body } = await request<SourceList>(resolveTarget(global), "GET", "/sources");
    if (json) {
      printJson(body);
      return 0;
    }
    print(table(
      ["SOURCE", "PROVIDER", "WHERE", "LAST RUN", "STATUS", "SEEN", "ADDED", "CHANGED", "REMOVED", "ERROR"],
      body.items.map((s) => {
        const run = s.latestRun;
        const where = s.provider === "triton" ? `${s.datacenter}/${s.account}` : `${s.service}/${s.environment}`;
        return [s.id, s.provider, where, run?.finishedAt, run?.status ?? "never synced", run?.counts.seen, run?.counts.added, run?.counts.changed, run?.counts.removed, run?.error];
      }),
    ));
    return 0;
  },
});
