import { alarmSettings, syncFunctions, syncQueues, syncWorkerFunctions } from "../packages/core/resources";
import { alarmSpecs, dashboardBody, type AlarmSpec, type MetricRef, type ResourceRef } from "../packages/core/monitoring";
import { api, apiHandler } from "./api";
import { changesFailureQueue, changesSubscriber } from "./changes";
import { syncPipelines } from "./cron";
import { deadLetterQueue, jobQueue, jobWorker } from "./queues";

/** Alarms go to this topic; IMAGESYNC_ALARM_EMAIL at deploy subscribes an address (it must confirm). */
export const alarmTopic = new sst.aws.SnsTopic("Alarms");
const { email } = alarmSettings();
export const alarmEmail = email ? new aws.sns.TopicSubscription("AlarmEmail", { topic: alarmTopic.arn, protocol: "email", endpoint: email }) : undefined;

/** Deployed names of the resources the alarm and dashboard descriptions refer to. */
const deployed: Record<string, $util.Output<string>> = {
  "function:Api": apiHandler.name,
  "function:JobWorker": jobWorker.nodes.function.name,
  "function:Changes": changesSubscriber.nodes.function.name,
  ...Object.fromEntries(
    syncPipelines.flatMap(({ provider, schedule, worker, deadLetters }) => [
      [`function:${syncFunctions[provider].name}`, schedule.nodes.function.name],
      [`function:${syncWorkerFunctions[provider].name}`, worker.nodes.function.name],
      [`queue:${syncQueues[provider].deadLetterName}`, deadLetters.nodes.queue.name],
    ]),
  ),
  "queue:JobQueue": jobQueue.nodes.queue.name,
  "queue:JobDeadLetterQueue": deadLetterQueue.nodes.queue.name,
  "queue:ChangesFailures": changesFailureQueue.nodes.queue.name,
  "api:Api": api.nodes.api.id,
};

function resolved(ref: ResourceRef): $util.Output<string> {
  const name = deployed[`${ref.kind}:${ref.name}`];
  if (!name) throw new Error(`monitoring refers to ${ref.kind} ${ref.name}, which infra does not deploy`);
  return name;
}

function metricQuery(ref: MetricRef, periodSeconds: number) {
  const dimensions = Object.fromEntries(Object.entries(ref.dimensions).map(([name, value]) => [name, typeof value === "string" ? $util.output(value) : resolved(value)]));
  return { metricName: ref.metric, namespace: ref.namespace, period: periodSeconds, stat: ref.stat, dimensions };
}

function alarm(spec: AlarmSpec): aws.cloudwatch.MetricAlarm {
  const query =
    "expression" in spec.query
      ? [
          { id: "result", expression: spec.query.expression, label: spec.name, returnData: true },
          ...Object.entries(spec.query.metrics).map(([id, ref]) => ({ id, metric: metricQuery(ref, spec.periodSeconds), returnData: false })),
        ]
      : [{ id: "result", metric: metricQuery(spec.query, spec.periodSeconds), returnData: true }];
  return new aws.cloudwatch.MetricAlarm(`Alarm${spec.name}`, {
    name: `${$app.name}-${$app.stage}-${spec.name}`,
    alarmDescription: `${spec.description} What to do: ${spec.action}`,
    metricQueries: query,
    evaluationPeriods: spec.evaluationPeriods,
    datapointsToAlarm: spec.datapointsToAlarm,
    threshold: spec.threshold,
    comparisonOperator: spec.comparison,
    treatMissingData: spec.missingData,
    alarmActions: [alarmTopic.arn],
    okActions: [alarmTopic.arn],
  });
}

export const alarms = alarmSpecs().map(alarm);

const names = Object.keys(deployed);
export const dashboard = new aws.cloudwatch.Dashboard("Dashboard", {
  dashboardName: `${$app.name}-${$app.stage}`,
  dashboardBody: $util.all([aws.getRegionOutput().region, ...names.map((key) => deployed[key]!)]).apply(([region, ...values]) => {
    const lookup = Object.fromEntries(names.map((key, index) => [key, values[index]]));
    return dashboardBody((ref) => lookup[`${ref.kind}:${ref.name}`] ?? ref.name, region);
  }),
});
