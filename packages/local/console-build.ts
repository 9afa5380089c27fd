/**
 * Builds the operator console (packages/console, docs/console.md) into `dist/console` with esbuild: one ES
 * module, one stylesheet (uPlot's included) and the icon, each named by its content hash under `assets/`,
 * and `index.html` naming them. `ensureConsoleBuilt` rebuilds only when the sources changed (their hash is
 * kept in `build.json`), so `npm start`, the tests and the bench call it every time; a build takes about
 * a second.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { handler as consoleHandler } from "../../functions/console";
import { consoleBuildDir, consoleFunction, consoleRoutes } from "../core/resources";
import { assetPath } from "../static/site";
import type { HttpFunction } from "./adapters/http";

const sourceDir = "packages/console";
/** What decides the output besides the sources: this builder and the one bundled dependency's version. */
const builderInputs = [fileURLToPath(import.meta.url), "node_modules/uplot/package.json"];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function sourceHash(): string {
  const hash = createHash("sha256");
  for (const file of [...filesUnder(sourceDir).toSorted(), ...builderInputs]) hash.update(relative(".", file)).update("\0").update(readFileSync(file));
  return hash.digest("base64url");
}

/** A copy of `file` in `dir` named by its content hash; returns the new name. */
function copyHashed(file: string, dir: string): string {
  const hash = createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 8).toUpperCase();
  const name = `${basename(file, extname(file))}-${hash}${extname(file)}`;
  copyFileSync(file, join(dir, name));
  return name;
}

/**
 * Builds into `outdir` (replacing it whole, so a reader never sees half a build). `hash` is of the sources as
 * they were when the build began, so a file edited meanwhile makes the build stale, not falsely current.
 */
export async function buildConsole(outdir = consoleBuildDir, hash = sourceHash()): Promise<void> {
  const staging = `${outdir}.${randomBytes(4).toString("hex")}.tmp`;
  const assets = join(staging, "assets");
  try {
    const result = await build({
      entryPoints: { app: join(sourceDir, "main.ts") },
      outdir: assets,
      entryNames: "[name]-[hash]",
      bundle: true,
      format: "esm",
      target: ["chrome120", "firefox121", "safari17"],
      minify: true,
      metafile: true,
      tsconfig: join(sourceDir, "tsconfig.json"),
      logLevel: "warning",
    });
    const script = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint !== undefined);
    if (!script?.[1].cssBundle) throw new Error("the console build produced no script or no stylesheet");
    const names = { SCRIPT: basename(script[0]), STYLE: basename(script[1].cssBundle), ICON: copyHashed(join(sourceDir, "icon.svg"), assets) };
    const html = readFileSync(join(sourceDir, "index.html"), "utf8").replace(/%(SCRIPT|STYLE|ICON)%/g, (_, name: keyof typeof names) => assetPath(names[name]));
    writeFileSync(join(staging, "index.html"), html);
    writeFileSync(join(staging, "build.json"), JSON.stringify({ sourceHash: hash, assets: readdirSync(assets) }));
    rmSync(outdir, { recursive: true, force: true });
    try {
      renameSync(staging, outdir);
    } catch (error) {
      // Another process installed its build between the two steps: it is of the same sources.
      if (!existsSync(join(outdir, "build.json"))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Builds the console when `outdir` has no build of the current sources; says whether it built. */
export async function ensureConsoleBuilt(outdir = consoleBuildDir): Promise<boolean> {
  const manifest = join(outdir, "build.json");
  const hash = sourceHash();
  if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { sourceHash?: string }).sourceHash === hash) return false;
  mkdirSync(join(outdir, ".."), { recursive: true });
  await buildConsole(outdir, hash);
  return true;
}

/** The console's function and routes for the local HTTP adapter (its `also`), built first when missing or stale. */
export async function localConsoleFunction(): Promise<HttpFunction> {
  await ensureConsoleBuilt();
  return { routes: consoleRoutes, handler: consoleHandler, settings: { functionName: consoleFunction.name, timeoutSeconds: consoleFunction.timeoutSeconds } };
}
