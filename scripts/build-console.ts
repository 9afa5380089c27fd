/**
 * `npm run build:console`: builds the operator console into dist/console (packages/local/console-build.ts)
 * and prints each file's size. `npm start`, the tests and deploys build it too when it is missing or stale.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { consoleBuildDir } from "../packages/core/resources";
import { buildConsole } from "../packages/local/console-build";

await buildConsole();
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const files = ["index.html", ...readdirSync(join(consoleBuildDir, "assets")).map((name) => join("assets", name))];
console.log("file".padEnd(32), "size".padStart(10), "gzip".padStart(10));
for (const file of files) {
  const path = join(consoleBuildDir, file);
  console.log(file.padEnd(32), kib(statSync(path).size).padStart(10), kib(gzipSync(readFileSync(path), { level: 9 }).length).padStart(10));
}
