/**
 * Bundles each Lambda entry point in functions/ the way SST does for deploys (ESM, Node 22, minified),
 * into the git-ignored dist/, and prints each bundle's size. The AWS SDK is left external: the nodejs22.x
 * runtime ships it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

export interface Bundle {
  name: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  /** The external modules the bundle imports (the AWS SDK packages Lambda provides). */
  external: string[];
}

export async function buildFunctions(outdir = "dist/functions"): Promise<Bundle[]> {
  const entries = readdirSync("functions").filter((f) => f.endsWith(".ts"));
  return Promise.all(
    entries.map(async (entry) => {
      const name = basename(entry, ".ts");
      const file = join(outdir, name, "index.mjs");
      const result = await build({
        entryPoints: [join("functions", entry)],
        outfile: file,
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
        metafile: true,
      });
      const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((imported) => imported.external).map((imported) => imported.path));
      const external = [...new Set(imports.filter((path) => path.startsWith("@aws-sdk/")))].toSorted();
      return { name, file, bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length, external };
    }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log("function".padEnd(16), "bundle".padStart(12), "gzip".padStart(12));
  for (const bundle of await buildFunctions()) {
    console.log(bundle.name.padEnd(16), kib(bundle.bytes).padStart(12), kib(bundle.gzipBytes).padStart(12));
  }
}
