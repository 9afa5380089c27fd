/**
 * The operator console in a real browser (headless Chromium through playwright-core) against the whole
 * system: it signs in, filters and pages the inventory, opens an image and its history, draws each
 * source's runs, submits a job and watches it succeed, copies an image between datacenters, refuses the
 * submit form to a read token, and fails on any console error or failed request. With
 * IMAGESYNC_SCREENSHOTS=docs/console it also takes the screenshots docs/console.md shows.
 */
import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chromiumMissing, launchChromium } from "../../packages/local/chromium";
import { contentSecurityPolicy } from "../../packages/static/site";
import { tritonSourceId, tritonWestSourceId } from "../jobs/harness";
import { screenshot, watchPage, type PageWatch } from "./page-watch";
import { startConsoleStack, type ConsoleStack } from "./stack";

// The page's globals, as far as the in-page checks below use them (the test project has no DOM types).
interface InPageElement {
  name?: string;
  textContent: string | null;
  labels?: { length: number };
  getAttribute(name: string): string | null;
}
interface InPageCanvas {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, width: number, height: number): { data: ArrayLike<number> } };
}
declare const document: {
  cookie: string;
  activeElement: InPageElement | null;
  documentElement: { scrollWidth: number };
  querySelector(selector: string): unknown;
  querySelectorAll(selector: string): Iterable<InPageElement>;
};
declare const location: { href: string };
declare const sessionStorage: { getItem(key: string): string | null };
declare const window: { innerWidth: number };

// Skipped, saying why, on a machine without Chromium; in CI (CI=true, where the set-up installs it) that fails instead.
const missing = chromiumMissing();
const skipBrowser = missing !== undefined && !process.env.CI;
if (skipBrowser) console.warn(`Skipping the console's browser tests: ${missing}`);

let stack: ConsoleStack;
/** Ids the tests look for: an image changed by the second sync, and a private image only in the first datacenter. */
let changedId: string;
const copyName = `console-copy-${randomUUID().slice(0, 6)}`;
/** Images tagged `team=console` (and `build=<n>`, a number), enough for two pages of 25. */
const tagged = 30;

beforeAll(async () => {
  stack = await startConsoleStack();
  const { h } = stack;
  h.triton.seed(70, { seed: 1 });
  h.tritonWest.seed(6, { seed: 2 });
  h.triton.addImage({ name: copyName, version: "1.0.0", public: false, owner: h.triton.accountUuid, state: "active" });
  await stack.sync("triton");
  await stack.sync("coxedge");
  [changedId] = h.triton.mutateImages(0.1, { seed: 3 }) as [string];
  await stack.sync("triton");
  h.triton.seed(5, { seed: 4 });
  for (let n = 0; n < tagged; n++) h.triton.addImage({ name: `console-tagged-${n}`, version: "1.0.0", tags: { team: "console", build: n } });
  await stack.sync("triton");
}, 120_000);
afterAll(() => stack?.close());

describe("the console's files", () => {
  it("are served with a strict CSP, revalidated or immutable, gzip-compressed, and hold no data", async () => {
    const index = await fetch(`${stack.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("content-security-policy")).toBe(contentSecurityPolicy);
    expect(contentSecurityPolicy).toContain("script-src 'self'");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-encoding")).toBe("gzip");
    const html = await index.text();
    // No inline script: every script element loads a file of this origin.
    expect(html.match(/<script[^>]*>/g)).toEqual([expect.stringMatching(/^<script type="module" src="\/console\/app-\w+\.js">$/)]);
    expect(html).not.toMatch(/https?:\/\//);
    const again = await fetch(`${stack.url}/`, { headers: { "if-none-match": index.headers.get("etag") as string } });
    expect(again.status).toBe(304);

    const script = /src="(\/console\/[^"]+)"/.exec(html)?.[1] as string;
    const asset = await fetch(`${stack.url}${script}`);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await fetch(`${stack.url}/console/nothing-here.js`)).status).toBe(404);
    // The API beside it still wants its token.
    expect((await fetch(`${stack.url}/me`)).status).toBe(401);
  });
});

describe.skipIf(skipBrowser)("the console in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;

  beforeAll(async () => {
    if (missing) throw new Error(missing);
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  /** A fresh tab (own session storage) at 1280×800, watched for errors. */
  async function openTab(viewport = { width: 1280, height: 800 }): Promise<Page> {
    page = await (await browser.newContext({ viewport })).newPage();
    watch = watchPage(page);
    return page;
  }
  afterEach(async () => {
    await page?.context().close();
    expect(watch.problems).toEqual([]);
  });

  async function signIn(token: string): Promise<void> {
    await page.goto(`${stack.url}/`);
    await page.getByLabel("API token").fill(token);
    // By keyboard: Enter in the field submits the form.
    await page.getByLabel("API token").press("Enter");
    await page.getByRole("heading", { name: "Inventory" }).waitFor();
  }

  const imageRows = () => page.getByRole("table", { name: "Images", exact: true }).locator("tbody tr");

  it("signs in, keeps the token out of URLs and cookies, and shows counts per source and state", async () => {
    await openTab();
    await page.goto(`${stack.url}/`);
    await screenshot(page, "sign-in");
    await signIn(stack.tokens.operator);
    await expect.poll(() => page.getByText("Signed in as operator (read, jobs)").count()).toBe(1);
    expect(await page.evaluate(() => ({ stored: sessionStorage.getItem("imagesync.token"), cookie: document.cookie, url: location.href }))).toEqual({
      stored: stack.tokens.operator,
      cookie: "",
      url: `${stack.url}/`,
    });
    const counts = page.getByRole("table", { name: /Images per source and state/ });
    const expected = await stack.api<{ total: { present: number } }>("/images/counts");
    await expect.poll(() => counts.locator("tbody tr").last().innerText()).toContain(String(expected.total.present));
    for (const source of [tritonSourceId, tritonWestSourceId, "coxedge-test"]) expect(await counts.innerText()).toContain(source);
    await screenshot(page, "inventory");
  });

  it("filters the inventory by provider and Triton tag, and pages it both ways", async () => {
    await openTab();
    await signIn(stack.tokens.operator);
    await page.getByLabel("Provider").selectOption("triton");
    await page.getByLabel("Triton tags").fill("team=console");
    await page.getByLabel("Page size").selectOption("25");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/tag\.team=console/);
    await expect.poll(() => imageRows().count()).toBe(25);
    const firstPage = await imageRows().allInnerTexts();
    expect(firstPage.every((row) => /console-tagged-\d+\s+1\.0\.0\s+triton/.test(row))).toBe(true);

    await page.getByRole("button", { name: "Next page" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: /^Page 2:/ }).count()).toBe(1);
    const secondPage = await imageRows().allInnerTexts();
    expect(secondPage).toHaveLength(tagged - 25);
    expect(secondPage.some((row) => firstPage.includes(row))).toBe(false);
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await expect.poll(() => imageRows().allInnerTexts()).toEqual(firstPage);

    // A numeric tag matches its text, as IMGAPI compares tags; two tag filters combine with AND.
    await page.getByLabel("Triton tags").fill("team=console\nbuild=7");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => imageRows().allInnerTexts()).toEqual([expect.stringMatching(/^console-tagged-7\s/)]);
  });

  it("shows the API's own reason for a filter it refuses", async () => {
    await openTab();
    await signIn(stack.tokens.operator);
    watch.allow(400, /\/images\?/);
    await page.goto(`${stack.url}/#/inventory?provider=coxedge&tag.role=db`);
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("tag.role: applies to Triton images only");
  });

  it("opens an image: its fields, where it is seen, the raw document, and its history", async () => {
    await openTab();
    await signIn(stack.tokens.operator);
    await page.goto(`${stack.url}/#/images/triton/${changedId}`);
    const image = await stack.api<{ name: string; version: string }>(`/images/triton/${changedId}`);
    await page.getByRole("heading", { name: `${image.name} ${image.version}` }).waitFor();
    await expect.poll(() => page.getByRole("region", { name: "Seen in" }).innerText()).toContain(tritonSourceId);
    const raw = page.getByRole("region", { name: "Upstream document" });
    await raw.getByRole("button", { name: "Expand all" }).click();
    expect(await raw.innerText()).toContain(`"${changedId}"`);
    const history = page.getByRole("table", { name: "Change history, newest first" });
    await expect.poll(() => history.locator("tbody tr").count()).toBe(2);
    expect(await history.locator("tbody tr").allInnerTexts()).toEqual([expect.stringMatching(/changed.*sync:/s), expect.stringMatching(/added.*sync:/s)]);
    await history.getByText(/field/).first().click();
    expect(await history.innerText()).toContain("raw.");
    await screenshot(page, "image", { fullPage: true });
  });

  it("shows each source's health and draws its recent runs", async () => {
    await openTab();
    await signIn(stack.tokens.operator);
    await page.getByRole("link", { name: "Sources" }).click();
    const health = page.getByRole("table", { name: "Sources and their health" });
    await health.waitFor();
    // The P-384 source's key cannot sign for CloudAPI: every run failed.
    expect(await health.getByRole("row", { name: /triton-test-p384/ }).innerText()).toMatch(/failing[\s\S]*3/);
    const chart = page.locator("#runs-triton-test .chart[data-chart=drawn] canvas");
    await chart.waitFor();
    // The "added" series' green is on the canvas: the data were drawn, not only the axes.
    const green = await chart.evaluate((element) => {
      const canvas = element as unknown as InPageCanvas;
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === 0x1a && pixels[i + 1] === 0x7f && pixels[i + 2] === 0x37) count++;
      return count;
    });
    expect(green).toBeGreaterThan(20);
    // Each run says what its listing was compared with; the first sync had nothing but the image items.
    await page.locator("#runs-triton-test summary").click();
    const runs = page.getByRole("table", { name: "Sync runs of triton-test, newest first" });
    expect(await runs.getByRole("row").last().innerText()).toContain("every image item");
    await screenshot(page, "sources", { fullPage: true });
  });

  it("submits a job with the form, shows the API's validation at the field, and watches the job succeed", async () => {
    await openTab();
    await signIn(stack.tokens.operator);
    await page.getByRole("link", { name: "Jobs" }).click();
    await page.getByRole("link", { name: "Submit a job" }).click();
    await page.getByLabel("Action").selectOption("create");
    await page.getByLabel("Source").selectOption(tritonSourceId);
    await page.getByLabel("machine (required)").fill("not-a-uuid");
    watch.allow(400, /\/jobs$/);
    await page.getByRole("button", { name: "Submit job" }).click();
    const machine = page.getByLabel("machine (required)");
    await expect.poll(() => machine.getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByRole("alert").innerText()).toMatch(/params\.machine: must be a UUID/);
    expect(await page.getByRole("alert").innerText()).toMatch(/params\.name: is required/);
    await screenshot(page, "job-form", { fullPage: true });

    await machine.fill(stack.h.triton.addMachine().id);
    await page.getByLabel("name (required)").fill(`console-web-${randomUUID().slice(0, 6)}`);
    await page.getByLabel("version (required)").fill("1.0.0");
    await page.getByRole("button", { name: "Submit job" }).click();
    await page.getByRole("heading", { name: /^Job / }).waitFor();
    const log = page.getByRole("log", { name: "States seen while watching" });
    await expect.poll(() => log.innerText(), { timeout: 20_000 }).toContain("succeeded");
    const timeline = page.getByRole("list", { name: "Timeline" });
    expect(await timeline.innerText()).toMatch(/Queued[\s\S]*Submitted upstream[\s\S]*Polled[\s\S]*\d+ status check[\s\S]*Succeeded/);
    expect(await timeline.locator("li.pending").count()).toBe(0);
    await screenshot(page, "job", { fullPage: true });
  });

  it("copies a private image to a datacenter that lacks it and follows the copy to success", async () => {
    await openTab();
    await signIn(stack.tokens.operator);
    await page.getByRole("link", { name: "Triton datacenters" }).click();
    const row = page.getByRole("row", { name: new RegExp(copyName) });
    await row.waitFor();
    expect(await row.getByText("✓ held").count()).toBe(1);
    await screenshot(page, "datacenters");
    await row.getByRole("button", { name: `Copy ${copyName} 1.0.0 to ${tritonWestSourceId}` }).click();
    await expect.poll(() => row.innerText(), { timeout: 20_000 }).toContain("succeeded");
    const copied = await stack.api<{ items: { name: string }[] }>(`/images?source=${tritonWestSourceId}&name=${copyName}`);
    expect(copied.items).toEqual([expect.objectContaining({ name: copyName })]);
  });

  it("refuses a read token the submit form and the copy action", async () => {
    await openTab();
    await signIn(stack.tokens.viewer);
    await page.getByRole("link", { name: "Jobs" }).click();
    await page.getByRole("table", { name: "Jobs, newest first" }).waitFor();
    expect(await page.getByRole("link", { name: "Submit a job" }).count()).toBe(0);
    expect(await page.getByRole("note").innerText()).toContain('submitting jobs needs the "jobs" scope');
    await page.goto(`${stack.url}/#/jobs/new`);
    await page.getByRole("heading", { name: "Submit a job" }).waitFor();
    expect(await page.getByRole("note").innerText()).toContain("This token (viewer)");
    expect(await page.getByRole("button", { name: "Submit job" }).count()).toBe(0);
    await page.getByRole("link", { name: "Triton datacenters" }).click();
    await page.getByRole("table", { name: /Private images of/ }).waitFor();
    expect(await page.getByRole("button", { name: /^Copy / }).count()).toBe(0);
  });

  it("lists the change feed newest first, filtered by kind", async () => {
    await openTab();
    await signIn(stack.tokens.operator);
    await page.getByRole("link", { name: "Changes" }).click();
    await page.getByLabel("Kind").selectOption("changed");
    await page.getByRole("button", { name: "Apply filters" }).click();
    const rows = page.getByRole("table", { name: "Changes, newest first" }).locator("tbody tr");
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    const texts = await rows.allInnerTexts();
    expect(texts.every((text) => text.includes("changed"))).toBe(true);
    const times = await rows.locator("time").evaluateAll((elements) => elements.map((element) => element.getAttribute("datetime") ?? ""));
    expect(times).toEqual(times.toSorted().toReversed());
    await screenshot(page, "changes");
  });

  it("moves by keyboard, labels every control, and fits a phone-sized screen", async () => {
    await openTab({ width: 390, height: 844 });
    await signIn(stack.tokens.operator);
    // A section link followed with Enter; focus lands on the new page's heading.
    await page.getByRole("link", { name: "Sources" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Sources");
    for (const route of ["inventory", "sources", "jobs", "jobs/new", "datacenters", "changes", `images/triton/${changedId}`]) {
      await page.goto(`${stack.url}/#/${route}`);
      await page.waitForFunction(() => document.querySelector("main h1") && !document.querySelector("main[aria-busy]"));
      const report = await page.evaluate(() => ({
        unlabelled: [...document.querySelectorAll("input, select, textarea")].filter((c) => c.labels?.length === 0 && !c.getAttribute("aria-label")).map((c) => c.name),
        nameless: [...document.querySelectorAll("button, a")].filter((b) => !(b.textContent ?? "").trim() && !b.getAttribute("aria-label")).length,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
      }));
      expect({ route, ...report }).toEqual({ route, unlabelled: [], nameless: 0, overflow: 0 });
      if (route === "inventory") await screenshot(page, "phone-inventory", { fullPage: false });
    }
  });
});
