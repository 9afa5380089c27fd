/**
 * `npm run dlq:redrive [-- --dry-run] [--limit N]`: moves dead-lettered job messages back to the job
 * queue after a fix, against the running `npm start` runtime when there is one, else the configured
 * queues (IMAGESYNC_JOB_QUEUE_URL and IMAGESYNC_DEAD_LETTER_QUEUE_URL, or the SST links). Prints each
 * message's job id and the counts; exits 1 when a message could not be moved.
 */
import { parseArgs } from "node:util";
import { sqsClient } from "../core/aws";
import { ConfigError, ConfigLoader } from "../core/config";
import { redriveDeadLetters } from "../jobs/redrive";
import { runCommand } from "./command";
import { useRunningLocalRuntime } from "./runtime-info";

const usage = `Usage: npm run dlq:redrive -- [--dry-run] [--limit N]
  --dry-run   list and count the dead letters without moving them
  --limit N   move at most N messages
Targets the running local runtime (npm start) if there is one, else the configured environment:
IMAGESYNC_JOB_QUEUE_URL and IMAGESYNC_DEAD_LETTER_QUEUE_URL, plus AWS credentials.`;

function parseOptions(): { dryRun: boolean; limit?: number } {
  const { values } = parseArgs({
    options: {
      "dry-run": { type: "boolean", default: false },
      limit: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new Error(`--limit must be a positive integer, got "${values.limit}"`);
  return { dryRun: values["dry-run"], limit };
}

/** The job id a message body names, for the listing; the body itself may be anything. */
function jobIdOf(body: string | undefined): string {
  try {
    const { jobId } = JSON.parse(body ?? "") as { jobId?: unknown };
    return typeof jobId === "string" ? jobId : "(no job id)";
  } catch {
    return "(not JSON)";
  }
}

async function main(options: ReturnType<typeof parseOptions>): Promise<number> {
  const local = useRunningLocalRuntime();
  const config = new ConfigLoader();
  let queues: { deadLetterQueueUrl: string; jobQueueUrl: string };
  try {
    queues = { deadLetterQueueUrl: config.deadLetterQueueUrl(), jobQueueUrl: config.jobQueueUrl() };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${error.message}\nStart the local runtime (npm start) or configure the queues.\n\n${usage}`);
    return 2;
  }
  console.log(`${options.dryRun ? "Dry run: " : ""}${queues.deadLetterQueueUrl} -> ${queues.jobQueueUrl}${local ? " (local runtime)" : ""}`);

  const report = await redriveDeadLetters({
    sqs: sqsClient(),
    ...queues,
    ...options,
    onMessage: (message) => console.log(`  ${message.MessageId}  job ${jobIdOf(message.Body)}`),
  });
  for (const failure of report.failed) console.error(`  not moved: ${failure.messageId}: ${failure.reason}`);
  console.log(
    options.dryRun
      ? `${report.found} message(s) in the dead-letter queue would be moved`
      : `moved ${report.moved} of ${report.found} message(s) to the job queue${report.failed.length ? `, ${report.failed.length} failed` : ""}`,
  );
  return report.failed.length ? 1 : 0;
}

runCommand("dlq:redrive", usage, parseOptions, main);
