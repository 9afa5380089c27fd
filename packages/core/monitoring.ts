/**
 * The alarms and dashboard an operator gets on AWS, as data: `infra/monitoring.ts` creates them, the README
 * lists them (a test keeps the two in step), and every imagesync metric they read is one the code emits.
 * Resources named here (functions, queues, the API) are resolved to their deployed names by infra.
 */
import {
  alarmSettings,
  apiFunction,
  changesFunction,
  jobQueue,
  jobWorkerFunction,
  metricsNamespace,
  providers,
  serviceName,
  syncFunctions,
  syncIntervalSeconds,
  syncQueues,
  syncWorkerFunctions,
  type Provider,
} from "./resources";

/** A deployed resource a dimension names; infra resolves it. */
export interface ResourceRef {
  kind: "function" | "queue" | "api";
  name: string;
}
export interface MetricRef {
  namespace: string;
  metric: string;
  stat: "Sum" | "Maximum" | "Average" | "p99";
  dimensions: Record<string, string | ResourceRef>;
}
export interface AlarmSpec {
  name: string;
  /** What it means, in the alarm's own description. */
  description: string;
  /** What to do when it fires (README "Alarms"). */
  action: string;
  /** One metric, or an expression over several (ids are the keys). */
  query: MetricRef | { expression: string; metrics: Record<string, MetricRef> };
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  threshold: number;
  comparison: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold" | "LessThanThreshold";
  missingData: "breaching" | "notBreaching" | "ignore";
}

const fn = (name: string): ResourceRef => ({ kind: "function", name });
const queue = (name: string): ResourceRef => ({ kind: "queue", name });
const own = (metric: string, stat: MetricRef["stat"], dimensions: Record<string, string> = {}): MetricRef => ({
  namespace: metricsNamespace,
  metric,
  stat,
  dimensions: { service: serviceName, ...dimensions },
});
const lambda = (metric: string, stat: MetricRef["stat"], name: string): MetricRef => ({ namespace: "AWS/Lambda", metric, stat, dimensions: { FunctionName: fn(name) } });
/** The HTTP API's metrics (API Gateway publishes them per ApiId). */
const apiMetric = (metric: string, stat: MetricRef["stat"]): MetricRef => ({ namespace: "AWS/ApiGateway", metric, stat, dimensions: { ApiId: { kind: "api", name: apiFunction.name } } });
const visibleMessages = (name: string): MetricRef => ({ namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible", stat: "Maximum", dimensions: { QueueName: queue(name) } });

/** Every function the stack deploys, by its resource name. */
export const functionNames = [
  apiFunction.name,
  jobWorkerFunction.name,
  changesFunction.name,
  ...providers.flatMap((provider) => [syncFunctions[provider].name, syncWorkerFunctions[provider].name]),
];

export function alarmSpecs(env: Record<string, string | undefined> = process.env): AlarmSpec[] {
  const settings = alarmSettings(env);
  return [
    ...providers.flatMap((provider) => syncAlarms(provider, syncIntervalSeconds(provider, env), settings.syncFailures)),
    {
      name: "JobDeadLetters",
      description: "Job messages failed every delivery and wait in the job dead-letter queue.",
      action: "npx imagesync dlq redrive --dry-run lists them; the job worker's logs say why each failed; fix the cause, then npx imagesync dlq redrive.",
      query: visibleMessages(jobQueue.deadLetterName),
      ...everyFiveMinutes(1),
    },
    {
      name: "JobFailureShare",
      description: `More than ${settings.jobFailureShare * 100}% of at least 5 jobs finished in an hour failed.`,
      action: "npx imagesync jobs list --state failed names the errors; an upstream outage or bad credentials fail every job alike.",
      query: {
        expression: "IF(succeeded + failed >= 5, failed / (succeeded + failed), 0)",
        metrics: { succeeded: own("JobsSucceeded", "Sum"), failed: own("JobsFailed", "Sum") },
      },
      periodSeconds: 3600,
      evaluationPeriods: 1,
      threshold: settings.jobFailureShare,
      comparison: "GreaterThanThreshold",
      missingData: "notBreaching",
    },
    {
      name: "Api5xx",
      description: "The inventory API answered 5 or more requests with a 5xx in five minutes.",
      action: "Search the Api function's logs for level ERROR; a 503 names the table or queue it could not reach.",
      query: { namespace: "AWS/ApiGateway", metric: "5xx", stat: "Sum", dimensions: { ApiId: { kind: "api", name: apiFunction.name } } },
      ...everyFiveMinutes(5),
    },
    ...functionNames.flatMap((name) => functionAlarms(name)),
    {
      name: "ChangesIteratorAge",
      description: `The change history is more than ${settings.iteratorAgeSeconds} s behind the table's writes for 3 minutes.`,
      action: "Look for ChangesErrors or ChangesThrottles; a large first sync catches up on its own (records/s are on the dashboard).",
      query: lambda("IteratorAge", "Maximum", changesFunction.name),
      periodSeconds: 60,
      evaluationPeriods: 3,
      threshold: settings.iteratorAgeSeconds * 1000,
      comparison: "GreaterThanThreshold",
      missingData: "notBreaching",
    },
    {
      name: "ChangesFailures",
      description: "Stream records the Changes function gave up on after its retries: their changes are not in the history.",
      action: "The inventory is unaffected; the history lacks those changes. Each message is Lambda's failure record (shard, sequence numbers): find their error in the Changes logs, fix it, then purge the queue.",
      query: visibleMessages(changesFunction.failureQueueName),
      ...everyFiveMinutes(1),
    },
    {
      name: "ChangesSkippedRecords",
      description: "The Changes function skipped stream records it could not read (logged with their event id).",
      action: "Search the Changes function's logs for 'stream record skipped': the reason names the missing or invalid field.",
      query: own("StreamRecordsSkipped", "Sum"),
      ...everyFiveMinutes(1),
    },
  ];
}

/** A sum over five minutes at or above `threshold`, once. */
function everyFiveMinutes(threshold: number) {
  return { periodSeconds: 300, evaluationPeriods: 1, threshold, comparison: "GreaterThanOrEqualToThreshold", missingData: "notBreaching" } as const;
}

function functionAlarms(name: string): AlarmSpec[] {
  return [
    {
      name: `${name}Errors`,
      description: `The ${name} function failed invocations (an uncaught error, a timeout or running out of memory).`,
      action: `Search the ${name} function's logs for level ERROR or "Task timed out".`,
      query: lambda("Errors", "Sum", name),
      ...everyFiveMinutes(1),
    },
    {
      name: `${name}Throttles`,
      description: `Lambda refused to run the ${name} function: the account's or function's concurrency is used up.`,
      action: "Raise the account's concurrency quota, or lower the API throttle (IMAGESYNC_API_THROTTLE_*) and the job queue batch size.",
      query: lambda("Throttles", "Sum", name),
      ...everyFiveMinutes(1),
    },
  ];
}

/**
 * The sync functions publish, per run, the failures in a row and the seconds since the last successful
 * snapshot of each source under the provider dimension: the Maximum is the least healthy source.
 */
function syncAlarms(provider: Provider, intervalSeconds: number, failures: number): AlarmSpec[] {
  const { name } = syncFunctions[provider];
  // A period of one interval holds one run; CloudWatch periods are whole minutes, at most a day.
  const periodSeconds = Math.min(86_400, Math.max(60, Math.round(intervalSeconds / 60) * 60));
  return [
    {
      name: `${name}Failing`,
      description: `A ${provider} source's sync failed ${failures} times in a row.`,
      action: `npx imagesync sources names the source and its last error; npx imagesync sync --provider ${provider} --source <id> retries it now.`,
      query: own("ConsecutiveSyncFailures", "Maximum", { provider }),
      periodSeconds,
      evaluationPeriods: 1,
      threshold: failures,
      comparison: "GreaterThanOrEqualToThreshold",
      missingData: "ignore",
    },
    {
      name: `${name}Stale`,
      description: `A ${provider} source has had no successful snapshot for 3 schedule intervals (${(3 * intervalSeconds) / 60} minutes).`,
      action: `npx imagesync sources shows each source's lastOkAt and error; the inventory of that source is as old as its lastOkAt.`,
      query: own("SecondsSinceLastSuccess", "Maximum", { provider }),
      periodSeconds,
      evaluationPeriods: 1,
      // Runs start a little after their scheduled time, so 2.5 intervals is the third missed success.
      threshold: 2.5 * intervalSeconds,
      comparison: "GreaterThanThreshold",
      missingData: "ignore",
    },
    {
      name: `${name}DeadLetters`,
      description: `A ${provider} source's sync message failed every delivery (the worker crashed or timed out each time) and waits in its dead-letter queue.`,
      action: `The ${syncWorkerFunctions[provider].name} logs name the source and the error; the next schedule queues the source again, so the dead letter only needs deleting once fixed.`,
      query: visibleMessages(syncQueues[provider].deadLetterName),
      ...everyFiveMinutes(1),
    },
    {
      name: `${name}NotRunning`,
      description: `The ${name} function has not run for 3 schedule intervals: the schedule is disabled or failing.`,
      action: `Check the ${name} schedule in EventBridge Scheduler and the function's Errors and Throttles.`,
      query: lambda("Invocations", "Sum", name),
      periodSeconds,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      threshold: 1,
      comparison: "LessThanThreshold",
      missingData: "breaching",
    },
  ];
}

type Widget = { type: "metric"; width: number; height: number; properties: Record<string, unknown> };
/** One dashboard line: a metric of `MetricRef` with its dimensions resolved, or a SEARCH expression. */
type Line = unknown[] | { expression: string; label: string; id: string };

/**
 * The CloudWatch dashboard body: sync duration and changes per run per source, sync health per provider,
 * job outcomes and lag, API latency, and the change history's throughput and lag.
 */
export function dashboardBody(resolve: (ref: ResourceRef) => string, region: string): string {
  const line = (ref: MetricRef, label: string): Line => [
    ref.namespace,
    ref.metric,
    ...Object.entries(ref.dimensions).flatMap(([name, value]) => [name, typeof value === "string" ? value : resolve(value)]),
    { stat: ref.stat, label },
  ];
  const perSource = (metric: string, stat: string, id: string): Line => ({
    expression: `SEARCH('{${metricsNamespace},service,source} MetricName="${metric}"', '${stat}', 900)`,
    label: "",
    id,
  });
  const widget = (title: string, lines: Line[], period = 300): Widget => ({ type: "metric", width: 12, height: 6, properties: { title, region, metrics: lines, period, view: "timeSeries", stacked: false } });
  const widgets = [
    widget("Sync duration per source (ms)", [perSource("SyncDuration", "Average", "duration")], 900),
    widget("Images changed per run per source", [perSource("ImagesChanged", "Sum", "changed")], 900),
    widget(
      "Sync health per provider (least healthy source)",
      providers.flatMap((provider) => [
        line(own("ConsecutiveSyncFailures", "Maximum", { provider }), `${provider} failures in a row`),
        line(own("SecondsSinceLastSuccess", "Maximum", { provider }), `${provider} seconds since a successful snapshot`),
      ]),
      900,
    ),
    widget("Job outcomes", [line(own("JobsSucceeded", "Sum"), "succeeded"), line(own("JobsFailed", "Sum"), "failed"), line(visibleMessages(jobQueue.deadLetterName), "dead letters")]),
    widget("Job lag (s)", [
      line({ namespace: "AWS/SQS", metric: "ApproximateAgeOfOldestMessage", stat: "Maximum", dimensions: { QueueName: queue(jobQueue.name) } }, "oldest queued message"),
      line(own("JobDuration", "Average"), "submission to outcome, average"),
      line(own("JobDuration", "p99"), "submission to outcome, p99"),
    ]),
    widget("API latency (ms) and errors", [
      line(apiMetric("Latency", "Average"), "latency, average"),
      line(apiMetric("Latency", "p99"), "latency, p99"),
      line(apiMetric("4xx", "Sum"), "4xx"),
      line(apiMetric("5xx", "Sum"), "5xx"),
    ]),
    widget("Change history", [
      line(own("StreamRecordsRead", "Sum"), "stream records read"),
      line(own("ChangeRecordsWritten", "Sum"), "change records written"),
      line(own("EventsPublished", "Sum"), "events published"),
      line(own("StreamRecordsSkipped", "Sum"), "stream records skipped"),
      line(lambda("IteratorAge", "Maximum", changesFunction.name), "iterator age (ms)"),
    ]),
  ];
  return JSON.stringify({ widgets });
}
