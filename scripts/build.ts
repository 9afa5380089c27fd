/**
 * Bundles each Lambda entry point in functions/ the way SST does for deploys (ESM, Node 22, minified),
 * into the git-ignored dist/, and prints each bundle's size. The AWS SDK is left external: the nodejs22.x
 * runtime ships it.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const entries = readdirSync("functions").filter((f) => f.endsWith(".ts"));
const rows: { function: string; bytes: number; gzip: number }[] = [];
for (const file of entries) {
  const name = basename(file, ".ts");
  const outfile = join("dist", "functions", name, "index.mjs");
  await build({
    entryPoints: [join("functions", file)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    minify: true,
    sourcemap: "linked",
    external: ["@aws-sdk/*"],
    // ESM bundles of CommonJS dependencies need a real `require`.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "warning",
  });
  rows.push({ function: name, bytes: statSync(outfile).size, gzip: gzipSync(readFileSync(outfile)).length });
}
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log("function".padEnd(16), "bundle".padStart(12), "gzip".padStart(12));
for (const row of rows) console.log(row.function.padEnd(16), kib(row.bytes).padStart(12), kib(row.gzip).padStart(12));
