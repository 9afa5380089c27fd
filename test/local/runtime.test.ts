/**
 * `npm start` end to end: the runtime boots every server, serves a real handler over HTTP, and Ctrl-C
 * (SIGINT) stops it with no process left behind.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function children(pid: number): { pid: number; command: string }[] {
  const ps = spawnSync("ps", ["-o", "pid=,comm=", "--ppid", String(pid)], { encoding: "utf8" });
  return ps.stdout
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\S+)/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ pid: Number(match[1]), command: match[2] as string }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("local runtime (npm start)", () => {
  it("boots, answers over HTTP with a real handler, and leaves nothing behind on Ctrl-C", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "imagesync-runtime-"));
    const runtime = spawn(
      process.execPath,
      ["bin/imagesync.mjs", "start", "--in-memory", "--port", "0", "--images", "5", "--no-initial-sync", "--data-dir", dataDir],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, POWERTOOLS_LOG_LEVEL: "ERROR" } },
    );
    let output = "";
    runtime.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    runtime.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => runtime.once("exit", (code) => done(code)));

    const deadline = Date.now() + 90_000;
    while (!output.includes("Ctrl-C to stop.")) {
      if (runtime.exitCode !== null || Date.now() > deadline) throw new Error(`runtime did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const apiUrl = /HTTP API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    const jobsToken = /jobs token: (\S+)/.exec(output)?.[1];
    const readToken = /read token: (\S+)/.exec(output)?.[1];
    expect(apiUrl).toBeDefined();
    expect(jobsToken?.length).toBeGreaterThanOrEqual(16);
    expect(readToken?.length).toBeGreaterThanOrEqual(16);
    for (const server of ["DynamoDB Local", "SQS", "Triton sim", "Cox Edge sim"]) {
      expect(output).toMatch(new RegExp(`${server}\\s+http://127\\.0\\.0\\.1:\\d+`));
    }
    expect(existsSync(join(dataDir, "runtime.json"))).toBe(true);

    const health = await fetch(`${apiUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toContain("application/json");
    expect(await health.json()).toMatchObject({ status: "ok" });
    // The operator console's page, on the same origin (docs/console.md).
    const page = await fetch(`${apiUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toMatch(/<script type="module" src="\/console\/app-\w+\.js">/);
    // The printed read token reads; it may not submit jobs (403), which the jobs token may (a 400 for this empty job).
    const as = (token: string | undefined) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
    expect((await fetch(`${apiUrl}/sources`, { headers: as(readToken) })).status).toBe(200);
    expect((await fetch(`${apiUrl}/jobs`, { method: "POST", headers: as(readToken), body: "{}" })).status).toBe(403);
    expect((await fetch(`${apiUrl}/jobs`, { method: "POST", headers: as(jobsToken), body: "{}" })).status).toBe(400);

    // A sync's writes reach the change history through the runtime's stream poller, and its events the sink.
    // The CLI finds the runtime through its data dir; this suite's own servers must not be in its environment.
    const ownEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|IMAGESYNC_)/.test(name)));
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, ["bin/imagesync.mjs", ...args], {
        encoding: "utf8",
        env: { ...ownEnv, IMAGESYNC_DATA_DIR: dataDir, IMAGESYNC_API_URL: apiUrl, IMAGESYNC_API_TOKEN: readToken, POWERTOOLS_LOG_LEVEL: "ERROR" },
      });
    cli("sync", "--provider", "coxedge");
    let changes: { items: { kind: string; provider: string; imageId: string; cause?: string }[] } = { items: [] };
    for (const until = Date.now() + 20_000; changes.items.length === 0 && Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
      changes = JSON.parse(cli("changes", "--since", "1h", "--json"));
    }
    expect(changes.items.length).toBeGreaterThan(0);
    expect(changes.items.every((change) => change.kind === "added" && change.provider === "coxedge" && change.cause?.startsWith("sync:"))).toBe(true);
    expect(cli("events")).toMatch(/Image Added\s+coxedge /);
    // A Cox Edge id has slashes; the CLI sends them as they are.
    const history = JSON.parse(cli("images", "history", "coxedge", changes.items[0]!.imageId, "--json"));
    expect(history.items).toEqual([expect.objectContaining({ kind: "added", imageId: changes.items[0]!.imageId })]);

    // DynamoDB Local's JVM, plus tsx's esbuild service.
    const spawned = children(runtime.pid as number);
    expect(spawned.map((child) => child.command)).toContain("java");
    runtime.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toContain("Stopped.");
    // Java is stopped before the runtime exits; esbuild's service ends when its stdin closes, just after.
    expect(spawned.filter((child) => child.command === "java" && alive(child.pid))).toEqual([]);
    const graceEnds = Date.now() + 5000;
    while (spawned.some((child) => alive(child.pid)) && Date.now() < graceEnds) await new Promise((r) => setTimeout(r, 100));
    expect(spawned.filter((child) => alive(child.pid))).toEqual([]);
    expect(existsSync(join(dataDir, "runtime.json"))).toBe(false);
  }, 120_000);
});
