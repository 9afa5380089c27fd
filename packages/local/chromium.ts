/**
 * Headless Chromium for the console's browser tests and bench: Debian's `chromium` package (installed by
 * scripts/ensure-chromium.mjs) driven by playwright-core, which downloads no browser of its own.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const chromiumPath = process.env.IMAGESYNC_CHROMIUM ?? "/usr/bin/chromium";

/** Why browser checks cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(chromiumPath)
    ? undefined
    : `Chromium is not installed at ${chromiumPath}: run \`sudo apt-get install -y chromium\` (npm test does it when run as root), or set IMAGESYNC_CHROMIUM`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath });
}
