/**
 * Fails a browser test on anything going wrong in the page: a console error, an uncaught exception, a
 * request that failed or answered 4xx/5xx. A test names the refusals it provokes on purpose (`allow`).
 * Requests the console itself cancels (leaving a view aborts its fetches) are not failures.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";

export interface PageWatch {
  /** What went wrong so far; a test ends with `expect(watch.problems).toEqual([])`. */
  problems: string[];
  /** Lets `status` answers to URLs matching `url` (and Chromium's console line about them) pass. */
  allow(status: number, url: RegExp): void;
}

export function watchPage(page: Page): PageWatch {
  const allowed: { status: number; url: RegExp }[] = [];
  const isAllowed = (status: number, url: string) => allowed.some((entry) => entry.status === status && entry.url.test(url));
  const watch: PageWatch = { problems: [], allow: (status, url) => allowed.push({ status, url }) };
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const status = Number(/status of (\d{3})/.exec(message.text())?.[1]);
    if (!isAllowed(status, message.location().url)) watch.problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => watch.problems.push(`uncaught: ${error.stack ?? error.message}`));
  page.on("requestfailed", (request) => {
    if (request.failure()?.errorText !== "net::ERR_ABORTED") watch.problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && !isAllowed(response.status(), response.url())) watch.problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return watch;
}

/** Saves a screenshot for docs/console.md, only when IMAGESYNC_SCREENSHOTS names the folder (never in a normal run). */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  const folder = process.env.IMAGESYNC_SCREENSHOTS;
  if (!folder) return;
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage: options.fullPage ?? false });
}
