/**
 * The CLI's argument parser: options typed and checked against their declaration, positional arguments
 * counted, and every usage mistake a UsageError that names what was wrong.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commandHelp, defineCommand, parseCommandLine, UsageError, type Command } from "../../packages/cli/command";

const copy = defineCommand({
  name: "images copy",
  summary: "Copies an image.",
  args: { usage: "<provider> <id> [name]", min: 2, max: 3 },
  options: {
    limit: { type: "number", help: "at most this many", min: 1, max: 100, integer: true },
    retries: { type: "number", help: "retries after the first try", min: 0, max: 10, integer: true },
    wait: { type: "number", help: "how long to wait", min: 0.5, max: 60, unit: "seconds" },
    state: { type: "string", help: "only in this state", choices: ["active", "failed"] },
    label: { type: "string", value: "TEXT", help: "a label" },
    tag: { type: "string", help: "a tag", repeatable: true, choices: ["a=1", "b=2", "c"] },
    force: { type: "boolean", help: "even when it exists" },
  },
  run: async () => 0,
});
const bare: Command = defineCommand({ name: "sources", summary: "Lists sources.", run: async () => 0 });

const parse = (...argv: string[]) => parseCommandLine(copy, argv);

/** The UsageError thrown for `argv`, or a failure when it parsed. */
function usageError(argv: string[], command: Command = copy): UsageError {
  try {
    parseCommandLine(command, argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`${argv.join(" ")} parsed`);
}

describe("parseCommandLine: options", () => {
  it("types each option by its declaration", () => {
    const { options, args } = parse("triton", "img-1", "--limit", "5", "--wait=1.5", "--state", "active", "--label", "nightly", "--force");
    expect(args).toEqual(["triton", "img-1"]);
    expect(options).toMatchObject({ limit: 5, wait: 1.5, state: "active", label: "nightly", force: true });
  });

  it("leaves absent options undefined, and absent booleans false", () => {
    const { options, json, help, global } = parse("triton", "img-1");
    expect(options).toMatchObject({ limit: undefined, retries: undefined, wait: undefined, state: undefined, label: undefined, force: false });
    expect({ json, help, global }).toEqual({ json: false, help: false, global: { url: undefined, token: undefined } });
  });

  it("collects a repeatable option into a list, each value checked, and an absent one as none", () => {
    expect(parse("a", "b", "--tag", "a=1", "--tag=c").options.tag).toEqual(["a=1", "c"]);
    expect(parse("a", "b").options.tag).toEqual([]);
    expect(usageError(["a", "b", "--tag", "a=1", "--tag", "d"]).message).toBe('--tag must be one of a=1, b=2, c, got "d"');
    expect(commandHelp(copy)).toMatch(/--tag VALUE\s+a tag \(a=1\|b=2\|c\) \(repeatable\)/);
  });

  it("takes the global options in every command", () => {
    const { json, global } = parseCommandLine(bare, ["--json", "--url", "http://127.0.0.1:1", "--token", "secret-token"]);
    expect(json).toBe(true);
    expect(global).toEqual({ url: "http://127.0.0.1:1", token: "secret-token" });
  });

  it("accepts a number option's bounds themselves", () => {
    expect(parse("a", "b", "--limit", "1").options.limit).toBe(1);
    expect(parse("a", "b", "--limit", "100").options.limit).toBe(100);
    expect(parse("a", "b", "--wait", "0.5").options.wait).toBe(0.5);
  });

  it("refuses a number out of bounds, not a number, or not whole where an integer is due, naming the option", () => {
    for (const value of ["0", "101", "-1", "2.5", "ten", "", " ", "Infinity", "NaN"]) {
      const { message } = usageError(["a", "b", `--limit=${value}`]);
      expect(message).toContain("--limit");
      expect(message).toContain("an integer from 1 to 100");
      expect(message).toContain(`"${value}"`);
    }
  });

  it("names the unit of a number option in its error", () => {
    const { message } = usageError(["a", "b", "--wait", "0.4"]);
    expect(message).toMatch(/--wait .*a number of seconds from 0\.5 to 60.*"0\.4"/);
  });

  it("refuses text that is no number even where fractions and zero are allowed", () => {
    // Number("") and Number(" ") are 0, and NaN is neither below nor above a bound.
    for (const value of ["", " "]) expect(usageError(["a", "b", `--retries=${value}`]).message).toContain("--retries");
    for (const value of ["NaN", "ten", "Infinity"]) expect(usageError(["a", "b", `--wait=${value}`]).message).toContain("--wait");
    expect(parse("a", "b", "--retries", "0").options.retries).toBe(0);
  });

  it("for any integer, accepts --limit exactly when it is within 1..100", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000, max: 1_000 }), (value) => {
        const accepted = () => parse("a", "b", `--limit=${value}`).options.limit;
        if (value >= 1 && value <= 100) expect(accepted()).toBe(value);
        else expect(accepted).toThrow(UsageError);
      }),
    );
  });

});

describe("parseCommandLine: choices, malformed options, arguments and help", () => {
  it("refuses a value outside a string option's choices, listing them", () => {
    const { message } = usageError(["a", "b", "--state", "paused"]);
    expect(message).toContain("--state");
    expect(message).toContain("active, failed");
    expect(message).toContain('"paused"');
  });

  it("refuses unknown options and malformed ones as usage mistakes", () => {
    expect(usageError(["a", "b", "--colour", "red"]).message).toContain("--colour");
    // A value-taking option at the end, a value given to a boolean, a value that looks like an option.
    for (const argv of [["a", "b", "--label"], ["a", "b", "--force=yes"], ["a", "b", "--limit", "-5"]]) {
      expect(usageError(argv)).toBeInstanceOf(UsageError);
    }
  });

  it("counts positional arguments against the command's usage", () => {
    expect(parse("a", "b", "c").args).toEqual(["a", "b", "c"]);
    expect(usageError(["a"]).message).toBe("images copy takes <provider> <id> [name], got: a");
    expect(usageError(["a", "b", "c", "d"]).message).toContain("got: a b c d");
    expect(usageError([]).message).toBe("images copy takes <provider> <id> [name]");
    expect(usageError(["extra"], bare).message).toBe("sources takes no arguments, got: extra");
  });

  it("with --help, asks for help without requiring the arguments", () => {
    expect(parse("--help")).toMatchObject({ help: true, args: [] });
    expect(parseCommandLine(bare, ["--help"]).help).toBe(true);
  });
});

describe("commandHelp", () => {
  it("shows the usage line and every option with its value and choices", () => {
    const help = commandHelp(copy);
    expect(help).toContain("Usage: imagesync images copy <provider> <id> [name] [options]");
    for (const line of ["--limit N", "--wait N", "--state VALUE", "(active|failed)", "--label TEXT", "--force", "--json", "--help"]) {
      expect(help).toContain(line);
    }
  });
});
