/**
 * The property tests' budget, in one place. `npm test` runs each property `defaultRuns` times with a fixed
 * seed; `npm run fuzz` (bench/fuzz.ts) sets FUZZ_SCALE to multiply every count and FUZZ_FIGURES to collect
 * each target's figures. FUZZ_SEED replays another seed (fast-check prints seed and path with a counterexample).
 */
import { appendFileSync } from "node:fs";
import fc from "fast-check";
import { scanForSecrets } from "./secrets";

const scale = Number(process.env.FUZZ_SCALE ?? "1");
export const fuzzSeed = process.env.FUZZ_SEED === undefined ? 20_261_129 : Number(process.env.FUZZ_SEED);

/** The number of cases to run: `defaultRuns` in `npm test`, scaled up under `npm run fuzz`. */
export function fuzzRuns(defaultRuns: number): number {
  return Math.max(1, Math.round(defaultRuns * scale));
}

/** A test timeout that grows with the number of cases. */
export function fuzzTimeout(defaultMs: number): number {
  return Math.round(defaultMs * Math.max(1, scale));
}

/** One target's figures, as bench/fuzz.ts prints them. */
export interface FuzzFigures {
  target: string;
  cases: number;
  failures: number;
  seconds: number;
}

/**
 * Runs a property with the shared seed and budget and fails the test with fast-check's report (seed, path,
 * shrunk counterexample). `parameters` may add a per-case `timeout` (a case that hangs fails).
 */
export async function checkProperty<Ts>(
  target: string,
  property: fc.IRawProperty<Ts>,
  defaultRuns: number,
  parameters: fc.Parameters<Ts> = {},
): Promise<void> {
  const started = performance.now();
  const details = await fc.check(property, { seed: fuzzSeed, numRuns: fuzzRuns(defaultRuns), includeErrorInReport: true, ...parameters });
  const figures: FuzzFigures = {
    target,
    cases: details.numRuns,
    failures: details.failed ? 1 : 0,
    seconds: (performance.now() - started) / 1000,
  };
  if (process.env.FUZZ_FIGURES) appendFileSync(process.env.FUZZ_FIGURES, `${JSON.stringify(figures)}\n`);
  if (details.failed) throw new Error(fc.defaultReportMessage(details));
}

/** Text mixing printable ASCII, any code point, and the characters parsers and stores trip on. */
export function awkwardText(maxLength = 40): fc.Arbitrary<string> {
  const special = fc.constantFrom("\u0000", "\uFFFF", "\uFFFE", "\uD800", "\uDC00", "%", "%2F", "%00", "/", ".", "é", "😀", "\u202E", " ", "\n");
  return fc.string({ unit: fc.oneof(fc.string({ unit: "grapheme-ascii", maxLength: 1, minLength: 1 }), fc.string({ unit: "binary", maxLength: 1, minLength: 1 }), special), maxLength });
}

/**
 * Drops the structured log lines (Powertools, pretty-printed in tests) of the many requests and messages a
 * property sends, after the leak guard's own scan (test/support/secrets.ts), so a leak still fails the file.
 * FUZZ_LOGS=1 shows them. Returns the function that restores the console.
 */
export function quietLogs(): () => void {
  if (process.env.FUZZ_LOGS) return () => undefined;
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const previous = methods.map((method) => [method, console[method]] as const);
  for (const [method, print] of previous) {
    console[method] = (...args: unknown[]) => {
      const text = args.map((arg) => (typeof arg === "string" ? arg : String(arg))).join(" ");
      if (/^\s*\{\s*"(level|logLevel)"/.test(text)) scanForSecrets(text, `console.${method}`);
      else print(...args);
    };
  }
  return () => {
    for (const [method, print] of previous) console[method] = print;
  };
}
