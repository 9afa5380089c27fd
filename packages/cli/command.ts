/**
 * The one argument parser of `imagesync`: each command declares its arguments and options (with their
 * types and bounds), and gets them parsed, checked and typed. A usage mistake is a UsageError: the
 * message, a pointer to --help, exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A usage mistake: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type OptionSpec =
  | { type: "boolean"; help: string }
  | { type: "string"; help: string; value?: string; choices?: readonly string[]; /** May be given more than once: a list. */ repeatable?: true }
  | { type: "number"; help: string; value?: string; min: number; max: number; integer?: boolean; unit?: string };

export type OptionSpecs = Record<string, OptionSpec>;

/** Parsed options: booleans are false when absent, repeatable ones empty lists, the rest undefined. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: O[K] extends { type: "boolean" }
    ? boolean
    : O[K] extends { type: "number" }
      ? number | undefined
      : O[K] extends { repeatable: true }
        ? string[]
        : string | undefined;
};

export interface CommandContext<O extends OptionSpecs> {
  args: string[];
  options: OptionValues<O>;
  /** --json: machine-readable output on stdout. */
  json: boolean;
  global: { url?: string; token?: string };
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  /** The command words, e.g. "images list". */
  name: string;
  summary: string;
  /** Positional arguments, e.g. `<provider> <id>`. */
  args?: { usage: string; min: number; max: number };
  options?: O;
  /** More lines of help after the options. */
  notes?: string;
  /** Resolves with the exit code: 0 done, 1 failed. Long-running commands resolve when stopped. */
  run(context: CommandContext<O>): Promise<number>;
}

/** Keeps each command's option types while listing commands of different option shapes together. */
export function defineCommand<O extends OptionSpecs>(command: Command<O>): Command {
  return command as unknown as Command;
}

export const globalOptions = {
  url: { type: "string", value: "URL", help: "the HTTP API (else IMAGESYNC_API_URL, else the running local runtime)" },
  token: { type: "string", value: "TOKEN", help: "its bearer token (else IMAGESYNC_API_TOKEN, else the local runtime's)" },
  json: { type: "boolean", help: "print JSON" },
  help: { type: "boolean", help: "show help" },
} as const satisfies OptionSpecs;

/** Parses `argv` (already without the command words) against the command's specification. */
export function parseCommandLine(command: Command, argv: string[]): CommandContext<OptionSpecs> & { help: boolean } {
  const specs: OptionSpecs = { ...globalOptions, ...command.options };
  const config: NonNullable<ParseArgsConfig["options"]> = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, { type: spec.type === "boolean" ? "boolean" : "string", multiple: spec.type === "string" && spec.repeatable === true }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  const options = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, checked(name, spec, values[name])]));
  const help = Boolean(options.help);
  const { min = 0, max = 0, usage = "" } = command.args ?? {};
  if (!help && (parsed.positionals.length < min || parsed.positionals.length > max)) {
    const got = parsed.positionals.length ? `, got: ${parsed.positionals.join(" ")}` : "";
    throw new UsageError(`${command.name} takes ${usage || "no arguments"}${got}`);
  }
  return {
    args: parsed.positionals,
    options: options as OptionValues<OptionSpecs>,
    json: Boolean(options.json),
    global: { url: options.url as string | undefined, token: options.token as string | undefined },
    help,
  };
}

function checked(name: string, spec: OptionSpec, value: string | boolean | (string | boolean)[] | undefined): string | string[] | number | boolean | undefined {
  if (spec.type === "boolean") return value === true;
  if (spec.type === "string" && spec.repeatable) return ((value ?? []) as string[]).map((each) => checkedChoice(name, spec, each));
  if (value === undefined) return undefined;
  const text = String(value);
  if (spec.type === "string") return checkedChoice(name, spec, text);
  const number = Number(text);
  const kind = `${spec.integer ? "an integer" : "a number"}${spec.unit ? ` of ${spec.unit}` : ""}`;
  if (text.trim() === "" || !Number.isFinite(number) || (spec.integer && !Number.isInteger(number)) || number < spec.min || number > spec.max) {
    throw new UsageError(`--${name} must be ${kind} from ${spec.min} to ${spec.max}, got "${text}"`);
  }
  return number;
}

function checkedChoice(name: string, spec: Extract<OptionSpec, { type: "string" }>, text: string): string {
  if (spec.choices && !spec.choices.includes(text)) throw new UsageError(`--${name} must be one of ${spec.choices.join(", ")}, got "${text}"`);
  return text;
}

/** `imagesync <command> --help`. */
export function commandHelp(command: Command): string {
  const specs = { ...command.options, ...globalOptions } as OptionSpecs;
  const lines = Object.entries(specs).map(([name, spec]) => {
    const value = spec.type === "boolean" ? "" : ` ${spec.value ?? (spec.type === "number" ? "N" : "VALUE")}`;
    const choices = spec.type === "string" && spec.choices ? ` (${spec.choices.join("|")})` : "";
    const repeat = spec.type === "string" && spec.repeatable ? " (repeatable)" : "";
    return [`  --${name}${value}`, `${spec.help}${choices}${repeat}`] as const;
  });
  const width = Math.max(...lines.map(([flag]) => flag.length));
  const args = command.args ? ` ${command.args.usage}` : "";
  return [
    `Usage: imagesync ${command.name}${args} [options]`,
    "",
    command.summary,
    "",
    "Options:",
    ...lines.map(([flag, help]) => `${flag.padEnd(width)}  ${help}`),
    ...(command.notes ? ["", command.notes] : []),
  ].join("\n");
}
