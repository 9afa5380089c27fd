/** `imagesync sync` (`npm run sync`) as a user runs it: a child process, configured by environment, printing a summary table. */
import { scanForSecrets } from "../support/secrets";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../sync/harness";

const cli = resolve("bin/imagesync.mjs");
// Away from the repository's .data/, so a running `npm start` on this machine is not picked up.
const cwd = mkdtempSync(join(tmpdir(), "sync-now-"));

async function syncNow(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("IMAGESYNC_")));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, "sync", "--verbose", ...args], { cwd, env: { ...base, ...env } });
    scanForSecrets(`${stdout}\n${stderr}`, "imagesync sync");
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    scanForSecrets(`${failed.stdout}\n${failed.stderr}`, "imagesync sync");
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ images: 10 });
});
afterAll(() => h.close());

describe("npm run sync", () => {
  it("syncs every configured source and prints progress and the summary table", async () => {
    const { code, stdout } = await syncNow([], h.env);
    expect(code).toBe(0);
    expect(stdout).toMatch(/triton-test\s+listed \d+ images in \d+ ms, \d+ to write/);
    expect(stdout).toMatch(/source\s+provider\s+status\s+seen\s+added\s+changed\s+removed\s+revived\s+unchanged\s+writes\s+compared\s+upstream\s+total/);
    expect(stdout).toMatch(/coxedge-test\s+coxedge\s+ok\s+10\s+10\s+0\s+0\s+0\s+0\s+10\s+items\s+\d+ ms\s+\d+ ms/);
    expect(stdout).toMatch(/triton-test\s+triton\s+ok\s+\d+/);
  });

  it("syncs one source by id, and exits 1 when its run fails", async () => {
    h.coxedge.faults.status(503);
    const { code, stdout } = await syncNow(["--source", "coxedge-test"], h.env);
    h.coxedge.faults.clear();
    expect(code).toBe(1);
    expect(stdout).not.toContain("triton-test");
    expect(stdout).toMatch(/coxedge-test failed: UpstreamServerError: .*HTTP 503/);
  });

  it("says clearly when nothing is configured", async () => {
    const { code, stderr } = await syncNow([], {});
    expect(code).toBe(2);
    expect(stderr).toContain("Nothing to sync");
    expect(stderr).toContain("npm start");
    expect(stderr).toMatch(/triton: Missing setting TritonSources/);
  });
});
