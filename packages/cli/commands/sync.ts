/**
 * `imagesync sync`: syncs catalogs now, against the running local runtime when there is one, else against
 * what the environment configures (IMAGESYNC_* and the AWS SDK's own variables). Where the providers' sync
 * queues are known (the local runtime's, or IMAGESYNC_<PROVIDER>_SYNC_QUEUE_URL for a deployed stack) it
 * takes the scheduled path: one message per source, run by the sync workers, then waits for their runs;
 * otherwise it runs them in this process. Prints progress per source and a summary table; exits 1 when a
 * run failed. Runs take the same per-source lease as the schedule, so they never overlap with it.
 */
import { providers, syncHandlerTimeoutSeconds, type Provider } from "../../core/resources";
import type { ConfigLoader } from "../../core/config";
import { readRuntimeInfo, useRunningLocalRuntime } from "../../local/runtime-info";
import type { SyncRun } from "../../store/runs";
import type { SyncProgress } from "../../sync/engine";
import { defineCommand, type OptionSpecs } from "../command";
import { print, printJson, table } from "../output";

export const sync = defineCommand({
  name: "sync",
  summary: "Syncs the configured sources now (the local runtime's when it runs) and prints a summary.",
  options: {
    provider: { type: "string", help: "only this provider's sources", choices: providers },
    source: { type: "string", value: "ID", help: "only this source" },
    verbose: { type: "boolean", help: "print the structured logs too" },
  } satisfies OptionSpecs,
  notes: `Without a running local runtime it uses the environment: IMAGESYNC_TABLE_NAME, IMAGESYNC_TRITON_SOURCES
and/or IMAGESYNC_COXEDGE_SOURCES, plus AWS credentials; with IMAGESYNC_TRITON_SYNC_QUEUE_URL and/or
IMAGESYNC_COXEDGE_SYNC_QUEUE_URL it queues the syncs for the deployed workers instead of running them here.`,
  async run({ options, json }) {
    const local = useRunningLocalRuntime();
    // The table and progress are the output; logs only on request, metrics (EMF on stdout) never.
    process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? "INFO" : "SILENT";
    process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
    // Loaded after the variables above are set: the logger reads them when its module loads.
    const { ConfigLoader } = await import("../../core/config");
    const { syncProvider } = await import("../../sync/engine");
    const config = new ConfigLoader();
    const wanted = options.provider ? [options.provider as Provider] : [...providers];
    const plan = await planSync(config, wanted, options.source);
    if ("nothing" in plan) {
      console.error(plan.nothing);
      return 2;
    }
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? `AWS DynamoDB (${process.env.AWS_REGION ?? "default region"})`;
    const runtime = local ? readRuntimeInfo() : undefined;
    const say = json ? () => undefined : print;
    say(runtime ? `Local runtime (pid ${runtime.pid}): table ${plan.tableName} at ${endpoint}` : `Table ${plan.tableName} at ${endpoint}`);
    for (const problem of plan.problems) say(`  skipped ${problem}`);
    const deadline = Date.now() + syncHandlerTimeoutSeconds * 1000;
    const onProgress = json ? undefined : progressPrinter(plan.sourceIds);
    const runs = queuesKnown(config, plan.providers)
      ? await viaSyncQueues(config, plan.providers, { sourceId: options.source, deadline, onProgress })
      : (await Promise.all(plan.providers.map((provider) => syncProvider(provider, { sourceId: options.source, deadline, trigger: "manual", onProgress }, config)))).flat();
    if (json) printJson({ runs });
    else printSummary(runs);
    return runs.some((run) => run.status === "failed") ? 1 : 0;
  },
});

/** Whether every provider's sync queue is configured (the local runtime's, or the environment's). */
function queuesKnown(config: ConfigLoader, wanted: Provider[]): boolean {
  try {
    for (const provider of wanted) config.syncQueueUrl(provider);
    return true;
  } catch {
    return false;
  }
}

/** The scheduled path: one message per source on its provider's queue, then the runs the workers record. */
async function viaSyncQueues(
  config: ConfigLoader,
  wanted: Provider[],
  request: { sourceId?: string; deadline: number; onProgress?: (event: SyncProgress) => void },
): Promise<SyncRun[]> {
  const [{ sqsClient }, { enqueueSourceSyncs, waitForQueuedRuns }, { configuredTable }] = await Promise.all([
    import("../../core/aws"),
    import("../../sync/fanout"),
    import("../../store/table"),
  ]);
  const queued = (await Promise.all(wanted.map((provider) => enqueueSourceSyncs(provider, { sourceId: request.sourceId, trigger: "manual" }, config, sqsClient())))).flat();
  for (const message of queued) request.onProgress?.({ phase: "queued", provider: message.provider, sourceId: message.sourceId });
  return waitForQueuedRuns(configuredTable(config), queued, { deadline: request.deadline, onRun: (run) => request.onProgress?.({ phase: "finished", run }) });
}

type SyncPlan = { providers: Provider[]; sourceIds: string[]; tableName: string; problems: string[] } | { nothing: string };

/** Which providers have sources to sync (and which could not be read), or why there is nothing to do. */
async function planSync(config: ConfigLoader, wanted: Provider[], sourceId: string | undefined): Promise<SyncPlan> {
  const { ConfigError } = await import("../../core/config");
  const planned: { provider: Provider; ids: string[] }[] = [];
  const problems: string[] = [];
  const attempt = <T>(read: () => T, onError: (message: string) => void): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      onError(error.message);
      return undefined;
    }
  };
  for (const provider of wanted) {
    const ids = attempt(() => (provider === "triton" ? config.tritonSources() : config.coxedgeSources()).map((source) => source.id), (m) => problems.push(`${provider}: ${m}`));
    const chosen = ids?.filter((id) => sourceId === undefined || id === sourceId) ?? [];
    if (chosen.length > 0) planned.push({ provider, ids: chosen });
  }
  const tableName = attempt(() => config.tableName(), (m) => problems.push(m));
  if (planned.length > 0 && tableName !== undefined) {
    return { providers: planned.map((p) => p.provider), sourceIds: planned.flatMap((p) => p.ids), tableName, problems };
  }
  const what = sourceId ? `no configured source has the id "${sourceId}"` : "no sources are configured";
  return {
    nothing: `Nothing to sync: ${tableName === undefined ? "no table is configured" : what}.
  Start the local runtime (npm start) in another terminal and run this again, or configure
  IMAGESYNC_TABLE_NAME and IMAGESYNC_TRITON_SOURCES and/or IMAGESYNC_COXEDGE_SOURCES (docs/sync.md).
${problems.map((problem) => `  - ${problem}`).join("\n")}`,
  };
}

function progressPrinter(sourceIds: string[]): (event: SyncProgress) => void {
  const width = Math.max(...sourceIds.map((id) => id.length));
  const say = (sourceId: string, text: string) => print(`  ${sourceId.padEnd(width)}  ${text}`);
  return (event) => {
    if (event.phase === "queued") say(event.sourceId, "queued for the sync worker ...");
    else if (event.phase === "started") say(event.sourceId, "listing ...");
    else if (event.phase === "listed") say(event.sourceId, `listed ${event.seen} images in ${event.upstreamMs} ms, ${event.changes} to write`);
    else say(event.run.sourceId, `${event.run.status} in ${event.run.durationMs} ms`);
  };
}

function printSummary(runs: SyncRun[]): void {
  const header = ["source", "provider", "status", "seen", "added", "changed", "removed", "revived", "unchanged", "writes", "compared", "upstream", "total"];
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
    run.compared,
    run.upstreamMs === undefined ? undefined : `${run.upstreamMs} ms`,
    `${run.durationMs} ms`,
  ]);
  // Names left-aligned, numbers right-aligned.
  print(`\n${table(header, rows, new Set([...header.keys()].filter((column) => column >= 3)))}`);
  for (const run of runs.filter((r) => r.error)) print(`\n${run.sourceId} ${run.status}: ${run.error}`);
}
