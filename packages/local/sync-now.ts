/**
 * `npm run sync [-- --provider triton|coxedge] [--source ID] [--verbose]`: syncs catalogs now, against the
 * running `npm start` runtime when there is one, else against what the environment configures
 * (IMAGESYNC_* and the AWS SDK's own variables). Prints progress per source and a summary table; exits 1
 * when a run failed. Runs take the same per-source lease as the schedule, so they never overlap with it.
 */
import { parseArgs } from "node:util";
import { providers, syncHandlerTimeoutSeconds, type Provider } from "../core/resources";
import type { SyncRun } from "../store/runs";
import type { SyncProgress } from "../sync/engine";
import { table } from "../cli/format";
import { runCommand } from "./command";
import { readRuntimeInfo, useRunningLocalRuntime } from "./runtime-info";

const usage = `Usage: npm run sync -- [--provider triton|coxedge] [--source ID] [--verbose]
  --provider P   sync only this provider's sources
  --source ID    sync only this source
  --verbose      print the structured logs too
Targets the running local runtime (npm start) if there is one, else the configured environment:
IMAGESYNC_TABLE_NAME, IMAGESYNC_TRITON_SOURCES and/or IMAGESYNC_COXEDGE_SOURCES, plus AWS credentials.`;

function parseOptions(): { providers: Provider[]; source?: string; verbose: boolean } {
  const { values } = parseArgs({
    options: {
      provider: { type: "string" },
      source: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const chosen = values.provider;
  if (chosen !== undefined && !providers.includes(chosen as Provider)) {
    throw new Error(`--provider must be one of ${providers.join(", ")}, got "${chosen}"`);
  }
  return { providers: chosen ? [chosen as Provider] : [...providers], source: values.source, verbose: values.verbose };
}

async function main(options: ReturnType<typeof parseOptions>): Promise<number> {
  const local = useRunningLocalRuntime();
  // The table and progress below are the output; logs only on request, metrics (EMF on stdout) never.
  process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? "INFO" : "SILENT";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  // Loaded after the variables above are set: the logger reads them when its module loads.
  const { ConfigLoader, ConfigError } = await import("../core/config");
  const { syncProvider } = await import("../sync/engine");

  const config = new ConfigLoader();
  const planned: { provider: Provider; ids: string[] }[] = [];
  const problems: string[] = [];
  for (const provider of options.providers) {
    try {
      const ids = (provider === "triton" ? config.tritonSources() : config.coxedgeSources()).map((source) => source.id);
      const wanted = options.source === undefined ? ids : ids.filter((id) => id === options.source);
      if (wanted.length > 0) planned.push({ provider, ids: wanted });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(`${provider}: ${error.message}`);
    }
  }
  let tableName: string | undefined;
  try {
    tableName = config.tableName();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(error.message);
  }
  if (planned.length === 0 || tableName === undefined) {
    const what = options.source ? `no configured source has the id "${options.source}"` : "no sources are configured";
    console.error(`Nothing to sync: ${tableName === undefined ? "no table is configured" : what}.
  Start the local runtime (npm start) in another terminal and run this again, or configure
  IMAGESYNC_TABLE_NAME and IMAGESYNC_TRITON_SOURCES and/or IMAGESYNC_COXEDGE_SOURCES (docs/sync.md).
${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    return 2;
  }
  const ids = planned.flatMap((p) => p.ids);

  const runtime = local ? readRuntimeInfo() : undefined;
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? `AWS DynamoDB (${process.env.AWS_REGION ?? "default region"})`;
  console.log(runtime ? `Local runtime (pid ${runtime.pid}): table ${tableName} at ${endpoint}` : `Table ${tableName} at ${endpoint}`);
  for (const problem of problems) console.log(`  skipped ${problem}`);

  const width = Math.max(...ids.map((id) => id.length));
  const say = (sourceId: string, text: string) => console.log(`  ${sourceId.padEnd(width)}  ${text}`);
  const onProgress = (event: SyncProgress) => {
    if (event.phase === "started") say(event.sourceId, "listing ...");
    else if (event.phase === "listed") say(event.sourceId, `listed ${event.seen} images in ${event.upstreamMs} ms, ${event.changes} to write`);
    else say(event.run.sourceId, `${event.run.status} in ${event.run.durationMs} ms`);
  };
  const deadline = Date.now() + syncHandlerTimeoutSeconds * 1000;
  const runs = (
    await Promise.all(planned.map(({ provider }) => syncProvider(provider, { sourceId: options.source, deadline, trigger: "manual", onProgress }, config)))
  ).flat();
  printSummary(runs);
  return runs.some((run) => run.status === "failed") ? 1 : 0;
}

function printSummary(runs: SyncRun[]): void {
  const header = ["source", "provider", "status", "seen", "added", "changed", "removed", "revived", "unchanged", "writes", "upstream", "total"];
  const rows = runs.map((run) => [
    run.sourceId,
    run.provider,
    run.status,
    run.counts.seen,
    run.counts.added,
    run.counts.changed,
    run.counts.removed,
    run.counts.revived,
    run.counts.unchanged,
    run.writes,
    run.upstreamMs === undefined ? undefined : `${run.upstreamMs} ms`,
    `${run.durationMs} ms`,
  ]);
  // Names left-aligned, numbers right-aligned.
  console.log(`\n${table(header, rows, new Set([...header.keys()].filter((column) => column >= 3)))}`);
  for (const run of runs.filter((r) => r.error)) console.log(`\n${run.sourceId} ${run.status}: ${run.error}`);
}

runCommand("sync", usage, parseOptions, main);
