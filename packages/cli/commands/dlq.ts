/**
 * `imagesync dlq redrive`: moves dead-lettered job messages back to the job queue after a fix, against the
 * running local runtime when there is one, else the configured queues (IMAGESYNC_JOB_QUEUE_URL and
 * IMAGESYNC_DEAD_LETTER_QUEUE_URL, or the SST links). Exits 1 when a message could not be moved.
 */
import { useRunningLocalRuntime } from "../../local/runtime-info";
import { defineCommand, UsageError, type OptionSpecs } from "../command";
import { print, printJson } from "../output";

export const dlqRedrive = defineCommand({
  name: "dlq redrive",
  summary: "Moves dead-lettered job messages back to the job queue (or, with --dry-run, lists them).",
  options: {
    "dry-run": { type: "boolean", help: "list and count the dead letters without moving them" },
    limit: { type: "number", integer: true, min: 1, max: 1_000_000, help: "move at most N messages" },
  } satisfies OptionSpecs,
  notes: "Without a running local runtime it uses IMAGESYNC_JOB_QUEUE_URL, IMAGESYNC_DEAD_LETTER_QUEUE_URL and AWS credentials.",
  async run({ options, json }) {
    const local = useRunningLocalRuntime();
    const [{ sqsClient }, { ConfigError, ConfigLoader }, { redriveDeadLetters }] = await Promise.all([
      import("../../core/aws"),
      import("../../core/config"),
      import("../../jobs/redrive"),
    ]);
    const config = new ConfigLoader();
    let queues: { deadLetterQueueUrl: string; jobQueueUrl: string };
    try {
      queues = { deadLetterQueueUrl: config.deadLetterQueueUrl(), jobQueueUrl: config.jobQueueUrl() };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new UsageError(`${error.message}; start the local runtime (npm start) or configure the queues`);
    }
    const dryRun = options["dry-run"];
    const say = json ? () => undefined : print;
    say(`${dryRun ? "Dry run: " : ""}${queues.deadLetterQueueUrl} -> ${queues.jobQueueUrl}${local ? " (local runtime)" : ""}`);
    const report = await redriveDeadLetters({
      sqs: sqsClient(),
      ...queues,
      dryRun,
      limit: options.limit,
      onMessage: (message) => say(`  ${message.MessageId}  job ${jobIdOf(message.Body)}`),
    });
    for (const failure of report.failed) console.error(`  not moved: ${failure.messageId}: ${failure.reason}`);
    if (json) printJson(report);
    else if (dryRun) print(`${report.found} message(s) in the dead-letter queue would be moved`);
    else print(`moved ${report.moved} of ${report.found} message(s) to the job queue${report.failed.length ? `, ${report.failed.length} failed` : ""}`);
    return report.failed.length ? 1 : 0;
  },
});

/** The job id a message body names, for the listing; the body itself may be anything. */
function jobIdOf(body: string | undefined): string {
  try {
    const { jobId } = JSON.parse(body ?? "") as { jobId?: unknown };
    return typeof jobId === "string" ? jobId : "(no job id)";
  } catch {
    return "(not JSON)";
  }
}
