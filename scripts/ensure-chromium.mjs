// The console's browser tests and bench drive headless Chromium (playwright-core with Debian's `chromium`).
// Installs it when missing and we can (root + apt-get), like ensure-java.mjs; otherwise says how. Never fails
// the caller: without Chromium the browser tests skip, saying why (test/console/browser.ts).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const executable = process.env.IMAGESYNC_CHROMIUM ?? "/usr/bin/chromium";

if (!existsSync(executable)) {
  const canInstall = process.getuid?.() === 0 && spawnSync("apt-get", ["--version"]).status === 0;
  if (!canInstall) {
    console.warn(`Chromium (${executable}) is missing, so the console's browser tests will be skipped. Install it, e.g.: sudo apt-get install -y chromium`);
  } else {
    console.log("Installing chromium for the console's browser tests ...");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", "chromium"]]) {
      if (spawnSync("apt-get", args, { stdio: "inherit", env }).status !== 0) break;
    }
    if (!existsSync(executable)) console.warn(`Installing chromium did not provide ${executable}: the console's browser tests will be skipped.`);
  }
}
