/**
 * The operator console in headless Chromium against 100k images (bench/first-sync.ts, with each source's
 * counts recorded as a sync records them): page weight — the gzipped bytes of every file the page loads,
 * as transferred (goal ≤ 150 KiB) — and the first render of the inventory, from navigation start to its
 * table drawn, with an empty cache and with the assets cached (goal ≤ 1 s). The API and the console's
 * function run behind the local adapter in their own process, as `npm start` serves them, with the read
 * cache off so every render reads DynamoDB Local. Standalone: `npx tsx bench/console.ts`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { apiFunction, apiRoutes } from "../packages/core/resources";
import { chromiumMissing, launchChromium } from "../packages/local/chromium";
import { normaliseImage } from "../packages/store/normalise";
import { emptyCounts, recordRun } from "../packages/store/runs";
import { inventoryCounts } from "../packages/sync/inventory-counts";
import { firstSyncInventory, type FirstSync } from "./first-sync";
import { markdownTable } from "./table";

const renders = 5;
const goals = { pageKiB: 150, renderMs: 1000 };
const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Records each source's counts on its LATEST item, as its sync run would have. */
async function recordCounts({ table, sources }: FirstSync): Promise<void> {
  const at = new Date().toISOString();
  for (const { provider, sourceId, documents } of sources) {
    const inventory = inventoryCounts(documents.map(normaliseImage), new Map(), { removed: 0, revived: 0 }, at);
    const timing = { startedAt: at, finishedAt: at, durationMs: 0, snapshotAt: at };
    const counts = { ...emptyCounts(), seen: documents.length, unchanged: documents.length };
    await recordRun(table, { provider, sourceId, runId: "bench-counts", trigger: "manual", status: "ok", ...timing, counts, writes: 0, superseded: 0, inventory });
  }
}

/** The server process: the API (read cache off) and the console behind one local adapter. */
async function serve(): Promise<void> {
  const [{ startHttpAdapter }, { createHandler }, { ConfigLoader }, { localConsoleFunction }] = await Promise.all([
    import("../packages/local/adapters/http"),
    import("../functions/api"),
    import("../packages/core/config"),
    import("../packages/local/console-build"),
  ]);
  const adapter = await startHttpAdapter({
    handler: createHandler(new ConfigLoader(), { cacheTtlMs: 0 }),
    routes: apiRoutes,
    settings: { functionName: apiFunction.name, timeoutSeconds: apiFunction.timeoutSeconds },
    also: [await localConsoleFunction()],
  });
  console.log(JSON.stringify({ url: adapter.url }));
  process.stdin.resume().on("end", () => process.exit(0));
}

function startServer(env: Record<string, string>): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: "ERROR", POWERTOOLS_METRICS_DISABLED: "true", IMAGESYNC_BENCH_CONSOLE_SERVE: "1" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the console server exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", (line) => resolve({ url: (JSON.parse(line) as { url: string }).url, process: child }));
  });
}

interface Measured {
  coldMs: number[];
  warmMs: number[];
  /** Bytes on the wire (gzipped) of the page's own files, and of the API answers its first render read. */
  pageBytes: number;
  apiBytes: number;
  files: string[];
}

/** Renders the inventory `renders` times in fresh tabs (empty cache), then as many reloads (assets cached). */
async function measure(browser: Browser, url: string, token: string): Promise<Measured> {
  const measured: Measured = { coldMs: [], warmMs: [], pageBytes: 0, apiBytes: 0, files: [] };
  const renderedAt = async (page: import("playwright-core").Page) => {
    await page.waitForFunction(() => performance.getEntriesByName("inventory-rendered").length > 0, undefined, { timeout: 30_000 });
    return page.evaluate(() => performance.getEntriesByName("inventory-rendered")[0]?.startTime ?? Number.NaN);
  };
  for (let n = 0; n < renders; n++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Signed in already: the token is in the tab's session storage before the page loads, as after sign-in.
    await context.addInitScript((value) => sessionStorage.setItem("imagesync.token", value), token);
    const page = await context.newPage();
    const sizes: Promise<{ url: string; bytes: number }>[] = [];
    page.on("requestfinished", (request) => sizes.push(request.sizes().then((s) => ({ url: request.url(), bytes: s.responseBodySize + s.responseHeadersSize }))));
    await page.goto(`${url}/#/inventory`);
    measured.coldMs.push(await renderedAt(page));
    if (n === 0) {
      const loaded = await Promise.all(sizes);
      const own = loaded.filter((file) => file.url === `${url}/` || file.url.startsWith(`${url}/console/`));
      measured.pageBytes = own.reduce((sum, file) => sum + file.bytes, 0);
      measured.apiBytes = loaded.filter((file) => !own.includes(file)).reduce((sum, file) => sum + file.bytes, 0);
      measured.files = own.map((file) => new URL(file.url).pathname);
    }
    await page.reload();
    measured.warmMs.push(await renderedAt(page));
    await context.close();
  }
  return measured;
}

export async function run(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) {
    console.log(`Skipped: ${missing}`);
    return;
  }
  const inventory = await firstSyncInventory();
  await recordCounts(inventory);
  const token = randomBytes(24).toString("base64url");
  const local = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
  const server = await startServer({ ...local, AWS_ENDPOINT_URL_DYNAMODB: inventory.endpoint, IMAGESYNC_TABLE_NAME: inventory.table.name, IMAGESYNC_API_TOKEN: token });
  const browser = await launchChromium();
  try {
    const started = performance.now();
    const m = await measure(browser, server.url, token);
    const images = inventory.sources.reduce((sum, source) => sum + source.documents.length, 0);
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    const ms = (values: number[]) => `${Math.round(median(values))} ms (max ${Math.round(Math.max(...values))})`;
    console.log(`\nConsole in Chromium ${browser.version()}, ${images} images in ${inventory.sources.length} sources, API read cache off; render times are medians of ${renders} (measured in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    console.log(`page files: ${m.files.join(", ")}; the first render's API answers (/me, /sources, /images/counts, /images) add ${kib(m.apiBytes)}`);
    console.log(markdownTable(["measure", "measured", "goal", "met"], [
      ["page weight (gzipped, as transferred)", kib(m.pageBytes), `≤ ${goals.pageKiB} KiB`, m.pageBytes <= goals.pageKiB * 1024 ? "yes" : "no"],
      ["first render of the inventory, empty cache", ms(m.coldMs), `≤ ${goals.renderMs} ms`, median(m.coldMs) <= goals.renderMs ? "yes" : "no"],
      ["first render of the inventory, assets cached", ms(m.warmMs), `≤ ${goals.renderMs} ms`, median(m.warmMs) <= goals.renderMs ? "yes" : "no"],
    ]));
  } finally {
    await browser.close();
    server.process.kill();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.env.IMAGESYNC_BENCH_CONSOLE_SERVE) await serve();
  else {
    await run();
    process.exit(0);
  }
}
