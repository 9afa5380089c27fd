/**
 * `npm run bench [-- NAME ...]`: runs every `bench/*.ts` module that exports `run()`, in name order (or only
 * the named ones). A benchmark adds itself by exporting `run(): Promise<void>` from its own file here; each
 * starts the servers it needs and prints its own table. Each runs in a fresh process of its own, so no SDK
 * client, environment variable or heap left by one can skew or break the next — except the benchmarks that
 * share the 100k-image first sync (bench/first-sync.ts), which run together in one process.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const sharingFirstSync = ["api", "console", "partitions"];
const inProcess = process.argv[2] === "--in-process";
const wanted = process.argv.slice(inProcess ? 3 : 2);

if (inProcess) await runHere(wanted);
else runEach(wanted);

/** Runs the named modules one after another in this process. */
async function runHere(names: string[]): Promise<void> {
  // Set before any benchmark module loads: Powertools reads them when its logger and metrics are created.
  process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  for (const name of names) {
    const module = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run?: () => Promise<void> };
    if (typeof module.run !== "function") throw new Error(`bench/${name}.ts does not export run()`);
    console.log(`\n=== bench/${name}.ts`);
    await module.run();
  }
  process.exit(0);
}

/** Runs each wanted benchmark (or group sharing the first sync) in a child process; exits 1 if any failed. */
function runEach(names: string[]): void {
  const modules = readdirSync(here)
    .filter((file) => file.endsWith(".ts") && file !== "index.ts" && !file.endsWith(".d.ts"))
    .map((file) => basename(file, ".ts"))
    .filter((name) => (names.length === 0 ? exportsRun(name) : names.includes(name)))
    .toSorted();
  const unknown = names.filter((name) => !modules.includes(name) || !exportsRun(name));
  if (unknown.length || modules.length === 0) {
    console.error(unknown.length ? `No benchmark named ${unknown.join(", ")} exports run().` : "No bench/*.ts module exports run().");
    process.exit(1);
  }
  const groups: string[][] = [];
  for (const name of modules) {
    const shared = sharingFirstSync.includes(name) ? groups.find((group) => sharingFirstSync.includes(group[0] as string)) : undefined;
    if (shared) shared.push(name);
    else groups.push([name]);
  }
  const failed = groups.filter((group) => spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--in-process", ...group], { stdio: "inherit" }).status !== 0);
  if (failed.length) console.error(`\nFailed: ${failed.map((group) => group.join(", ")).join("; ")}`);
  process.exit(failed.length ? 1 : 0);
}

/** Whether bench/<name>.ts exports run(), read from its text (importing it would load what it needs). */
function exportsRun(name: string): boolean {
  const text = readFileSync(join(here, `${name}.ts`), "utf8");
  return /^export (async )?function run\(/m.test(text);
}
