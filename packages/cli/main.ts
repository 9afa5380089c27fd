/**
 * `imagesync` (`npx imagesync`): the one operator CLI. API commands talk to the HTTP API (URL and token
 * from --url/--token, IMAGESYNC_API_URL/IMAGESYNC_API_TOKEN, or the running local runtime); `sync`,
 * `dlq redrive` and `migrate index-keys` work on the table and queues directly; `start` and `sim` run local servers. One argument
 * parser (command.ts), one file per command group (commands/). Exit codes: 0 done, 1 failed (the API
 * refused, a job or sync run failed), 2 bad usage.
 */
import { ApiError } from "./api-client";
import { commandHelp, parseCommandLine, UsageError, type Command } from "./command";
import { changes, events, imagesHistory } from "./commands/changes";
import { dlqRedrive } from "./commands/dlq";
import { imagesGet, imagesList } from "./commands/images";
import { jobsGet, jobsList, jobsSubmit, jobsWatch } from "./commands/jobs";
import { sim, start } from "./commands/local";
import { migrateIndexKeys } from "./commands/migrate";
import { sources } from "./commands/sources";
import { sync } from "./commands/sync";

const commands: readonly Command[] = [
  imagesList,
  imagesGet,
  imagesHistory,
  changes,
  events,
  sources,
  sync,
  jobsSubmit,
  jobsGet,
  jobsList,
  jobsWatch,
  dlqRedrive,
  migrateIndexKeys,
  start,
  sim,
];

function overview(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    "Usage: imagesync <command> [options]     (imagesync <command> --help for its options)",
    "",
    "Commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    "",
    "Global options: --url URL, --token TOKEN (else IMAGESYNC_API_URL/IMAGESYNC_API_TOKEN, else the running local",
    "runtime), --json, --help. Exit codes: 0 done, 1 failed, 2 bad usage.",
  ].join("\n");
}

/** The command words: the first positionals, skipping options and the values of --url and --token. */
function commandWords(argv: string[]): { word: string; index: number }[] {
  const words: { word: string; index: number }[] = [];
  for (let index = 0; index < argv.length && words.length < 2; index++) {
    const arg = argv[index] as string;
    if (arg === "--url" || arg === "--token") index++;
    else if (!arg.startsWith("-")) words.push({ word: arg, index });
  }
  return words;
}

/** The command named by the first one or two words of `argv` (the longest match), and the rest of `argv`. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const words = commandWords(argv);
  for (const length of [2, 1]) {
    const named = words.slice(0, length);
    const command = named.length === length ? commands.find((candidate) => candidate.name === named.map((w) => w.word).join(" ")) : undefined;
    if (command) return { command, rest: argv.filter((_, index) => !named.some((w) => w.index === index)) };
  }
  return undefined;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    const found = findCommand(argv);
    if (!found) {
      if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
        console.log(overview());
        return argv.length === 0 ? 2 : 0;
      }
      throw new UsageError(`unknown command "${commandWords(argv).map((w) => w.word).join(" ")}"`);
    }
    const context = parseCommandLine(found.command, found.rest);
    if (context.help) {
      console.log(commandHelp(found.command));
      return 0;
    }
    return await found.command.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`imagesync: ${error.message}\nRun imagesync --help for usage.`);
      return 2;
    }
    if (error instanceof ApiError) {
      console.error(`imagesync: ${error.status ? `HTTP ${error.status}: ` : ""}${error.message}`);
      return 1;
    }
    console.error(`imagesync: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await runCli(process.argv.slice(2));
