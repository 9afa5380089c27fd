/** `npm run build`: every function bundles, and each bundle loads in plain Node and exports a handler. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { apiFunction, changesFunction, consoleFunction, jobWorkerFunction, syncFunctions, syncWorkerFunctions } from "../../packages/core/resources";
import { buildFunctions } from "../../scripts/build";

describe("function bundles", () => {
  it("builds one ESM bundle per entry point that Node imports as Lambda would", async () => {
    // Under dist/ (git-ignored) so the bundles find the AWS SDK in node_modules, as Lambda's runtime provides it.
    mkdirSync("dist", { recursive: true });
    const outdir = mkdtempSync(resolve("dist", "test-build-"));
    const bundles = await buildFunctions(outdir);
    // One bundle per handler the resource description deploys.
    const handlers = [apiFunction, jobWorkerFunction, changesFunction, consoleFunction, ...Object.values(syncFunctions), ...Object.values(syncWorkerFunctions)].map(
      (fn) => /^functions\/(.+)\.handler$/.exec(fn.handler)?.[1],
    );
    expect(bundles.map((b) => b.name).toSorted()).toEqual(handlers.toSorted());
    expect(handlers.toSorted()).toEqual(["api", "changes", "console", "jobs", "sync-coxedge", "sync-coxedge-worker", "sync-triton", "sync-triton-worker"]);
    const probe = `const files = ${JSON.stringify(bundles.map((b) => pathToFileURL(b.file).href))};
      for (const file of files) { const m = await import(file); console.log(typeof m.handler); }`;
    const output = execFileSync(process.execPath, ["--input-type=module", "-e", probe], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    rmSync(outdir, { recursive: true, force: true });
    expect(output.trim().split("\n")).toEqual(bundles.map(() => "function"));
  }, 60_000);
});
