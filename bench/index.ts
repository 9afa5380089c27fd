/**
 * `npm run bench [-- NAME ...]`: runs every `bench/*.ts` module that exports `run()`, in name order (or only
 * the named ones). A benchmark adds itself by exporting `run(): Promise<void>` from its own file here; each
 * starts the servers it needs and prints its own table.
 */
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// Set before any benchmark module loads: Powertools reads them when its logger and metrics are created.
process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((file) => file.endsWith(".ts") && file !== "index.ts" && !file.endsWith(".d.ts"))
  .map((file) => basename(file, ".ts"))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .toSorted();

let ran = 0;
for (const name of modules) {
  const module = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run?: () => Promise<void> };
  if (typeof module.run !== "function") continue;
  console.log(`\n=== bench/${name}.ts`);
  await module.run();
  ran++;
}
if (ran === 0) {
  console.error(wanted.length ? `No benchmark named ${wanted.join(", ")} exports run().` : "No bench/*.ts module exports run().");
  process.exit(1);
}
process.exit(0);
