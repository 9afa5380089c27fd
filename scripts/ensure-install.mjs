// `npm start` on a fresh clone: install dependencies when they are missing or older than the lockfile,
// and make sure a JDK is there for DynamoDB Local. Uses only Node built-ins (nothing is installed yet).
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const installed = "node_modules/.package-lock.json";
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync("package-lock.json").mtimeMs) {
  console.log("Installing dependencies (npm ci) ...");
  if (spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" }).status !== 0) process.exit(1);
}
const java = spawnSync(process.execPath, ["scripts/ensure-java.mjs"], { stdio: "inherit" });
process.exit(java.status ?? 1);
