/**
 * `npm run fuzz`: the property tests (every `*-fuzz*` test file) with FUZZ_SCALE (default 20) times the cases
 * they run in `npm test`, then one line of figures per target: cases run, failures (a counterexample found,
 * shrunk and printed above with its seed), seconds. FUZZ_SEED replays another seed. Not a benchmark: it
 * exports no `run()`, so `npm run bench` leaves it alone.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { fuzzSeed, type FuzzFigures } from "../test/support/fuzz";

function table(figures: FuzzFigures[]): string {
  const rows = figures.map((f) => [f.target, String(f.cases), String(f.failures), f.seconds.toFixed(1)]);
  const total = figures.reduce((sum, f) => ({ cases: sum.cases + f.cases, failures: sum.failures + f.failures }), { cases: 0, failures: 0 });
  rows.push(["total", String(total.cases), String(total.failures), ""]);
  const header = ["target", "cases", "failures", "seconds"];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function main(): number {
  const scale = process.env.FUZZ_SCALE ?? "20";
  const directory = mkdtempSync(join(tmpdir(), "imagesync-fuzz-"));
  const figuresFile = join(directory, "figures.jsonl");
  const started = performance.now();
  // `--reporter=default` replaces the configured JSON report, so .vitest.json keeps describing `npm test`.
  const vitest = spawnSync("vitest", ["run", "--reporter=default", "--silent=passed-only", "fuzz"], {
    stdio: "inherit",
    env: { ...process.env, FUZZ_SCALE: scale, FUZZ_FIGURES: figuresFile },
  });
  const figures = existsSync(figuresFile)
    ? readFileSync(figuresFile, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as FuzzFigures)
    : [];
  rmSync(directory, { recursive: true, force: true });
  console.log(`\nProperty tests at FUZZ_SCALE=${scale}, seed ${fuzzSeed}, ${((performance.now() - started) / 1000).toFixed(0)} s in all:\n`);
  console.log(table(figures.toSorted((a, b) => a.target.localeCompare(b.target))));
  return vitest.status ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exit(main());
