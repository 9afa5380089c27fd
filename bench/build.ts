/**
 * Cold start: each function's bundle size and its own module-load time — the median over fresh Node
 * processes of importing the bundle, minus the median of importing only the AWS SDK modules that bundle
 * leaves external (Lambda's runtime provides them, and they cost the same whatever the handler). Goal:
 * every bundle ≤ 250 KiB and its own load ≤ 60 ms. Standalone: `npx tsx bench/build.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildFunctions } from "../scripts/build";
import { markdownTable } from "./table";

const processes = 9;
const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Milliseconds to import `specifiers` in a fresh process, median of `processes` runs. */
function importTime(specifiers: string[]): number {
  const script = `const t = performance.now(); for (const s of ${JSON.stringify(specifiers)}) await import(s); console.log(performance.now() - t);`;
  const times = Array.from({ length: processes }, () =>
    Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: process.cwd() }).trim()),
  );
  return median(times);
}

export async function run(): Promise<void> {
  // Under dist/ so the bundles resolve the AWS SDK from node_modules, as Lambda's runtime provides it.
  mkdirSync("dist", { recursive: true });
  const outdir = mkdtempSync(resolve("dist", "bench-build-"));
  try {
    const bundles = await buildFunctions(outdir);
    console.log(`Function bundles (esbuild, minified, AWS SDK external), Node ${process.version}; load times are medians of ${processes} fresh processes`);
    const rows = bundles.toSorted((a, b) => a.name.localeCompare(b.name)).map((bundle) => {
      const whole = importTime([pathToFileURL(bundle.file).href]);
      const sdk = bundle.external.length ? importTime(bundle.external) : 0;
      const own = whole - sdk;
      return [
        bundle.name,
        `${(bundle.bytes / 1024).toFixed(0)} KiB`,
        `${(bundle.gzipBytes / 1024).toFixed(0)} KiB`,
        `${whole.toFixed(0)} ms`,
        `${sdk.toFixed(0)} ms`,
        `${own.toFixed(0)} ms`,
        bundle.bytes <= 250 * 1024 && own <= 60 ? "yes" : "no",
      ];
    });
    console.log(markdownTable(["function", "bundle", "gzip", "load", "SDK modules alone", "own load", "≤ 250 KiB and ≤ 60 ms"], rows));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run();
}
