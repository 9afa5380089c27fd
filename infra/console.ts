import { execFileSync } from "node:child_process";
import { consoleBuildDir, consoleFunction, consoleRoutes } from "../packages/core/resources";
import { api } from "./api";

// Built at every deploy (esbuild, about a second), so the function never ships a stale console.
execFileSync("npm", ["run", "--silent", "build:console"], { stdio: "inherit" });

// The console's files on the API's own routes, from a function of their own: one origin for the page and
// the API (no CORS, `connect-src 'self'`), and the API function's bundle carries none of it (docs/console.md).
export const consoleHandler = new sst.aws.Function(consoleFunction.name, {
  handler: consoleFunction.handler,
  runtime: "nodejs22.x",
  timeout: `${consoleFunction.timeoutSeconds} seconds`,
  memory: "256 MB",
  copyFiles: [{ from: consoleBuildDir }],
});

for (const route of consoleRoutes) api.route(route, consoleHandler.arn);
