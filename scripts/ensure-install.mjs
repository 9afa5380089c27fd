// `npm start`/`npm test` on a fresh clone: install dependencies when they are missing or older than the lockfile
// (this also brings Node.js 22, see ensure-node.mjs), check that npm scripts run on it, and make sure a JDK is there
// for DynamoDB Local; with --chromium (`npm test`), Chromium for the console's browser tests too. Uses only Node
// built-ins (nothing is installed yet).
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const installed = "node_modules/.package-lock.json";
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync("package-lock.json").mtimeMs) {
  console.log("Installing dependencies (npm ci) ...");
  if (spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" }).status !== 0) process.exit(1);
}
const setUp = ["scripts/ensure-node.mjs", "scripts/ensure-java.mjs", ...(process.argv.includes("--chromium") ? ["scripts/ensure-chromium.mjs"] : [])];
for (const script of setUp) {
  const result = spawnSync(process.execPath, [script], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
