/** The operator CLI (bin/imagesync.mjs) as a user runs it, against the API on the local stack. */
import { scanForSecrets } from "../support/secrets";
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJob, saveJob } from "../../packages/store/jobs";
import { seedInventory, sources, startApi, type Api, type Seeded } from "../api/harness";

let api: Api;
let seeded: Seeded[];

beforeAll(async () => {
  api = await startApi();
  seeded = await seedInventory(api.table);
});
afterAll(() => api?.close());

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/imagesync.mjs", ...args],
      { env: { ...process.env, IMAGESYNC_API_URL: api.url, IMAGESYNC_API_TOKEN: api.token, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        scanForSecrets(`${stdout}\n${stderr}`, `imagesync ${args.join(" ")}`);
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const cloneOf = "2b683a82-a066-11e3-97ab-2faa44701c5a";

describe("imagesync CLI", () => {
  it("images list prints a table of the filtered images", async () => {
    const { code, stdout } = await cli(["images", "list", "--provider", "triton", "--os", "linux", "--source", sources.east]);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^PROVIDER\s+SOURCE\s+ID\s+NAME\s+VERSION\s+OS\s+STATE\s+LAST SEEN$/);
    const expected = seeded.filter((s) => s.source === sources.east && !s.removed && s.document.provider === "triton" && s.document.image.os === "linux");
    expect(lines).toHaveLength(expected.length + 2);
    for (const image of expected) expect(stdout).toContain(image.id);
    expect(lines.at(-1)).toBe(`${expected.length} images`);
  });

  it("images list --all --json follows every page", async () => {
    const { code, stdout } = await cli(["images", "list", "--all", "--json", "--limit", "4", "--state", "all"]);
    expect(code).toBe(0);
    const body = JSON.parse(stdout) as { items: { id: string }[]; nextCursor?: string };
    expect(body.items).toHaveLength(seeded.length);
    expect(body.nextCursor).toBeUndefined();
  });

  it("names the offending flag when the API rejects a filter", async () => {
    const { code, stderr } = await cli(["images", "list", "--limit", "5000", "--image-type", "shared"]);
    expect(code).toBe(1);
    expect(stderr).toContain("--limit: must be at most 1000");
    expect(stderr).toContain("--image-type: must be default or custom");
  });

  it("images list --tag KEY=VALUE filters Triton tags; a --tag without = is still the Cox Edge tag", async () => {
    const list = async (...args: string[]) => {
      const { code, stdout, stderr } = await cli(["images", "list", "--all", "--json", ...args]);
      expect(code, stderr).toBe(0);
      return (JSON.parse(stdout) as { items: { id: string }[] }).items.map((i) => i.id).toSorted();
    };
    const triton = seeded.filter((s) => s.provider === "triton" && !s.removed).map((s) => s.id).toSorted();
    expect(await list("--tag", "role=os")).toEqual(triton);
    expect(await list("--tag", "role=os", "--tag", "team=web")).toEqual([]);
    const edge = seeded.find((s) => s.provider === "coxedge" && !s.removed && s.document.provider === "coxedge") as Seeded;
    expect(await list("--tag", edge.document.provider === "coxedge" ? edge.document.image.tag : "")).toContain(edge.id);
    const refused = await cli(["images", "list", "--tag", "=web"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("--tag =…: must name a tag: tag.KEY=VALUE");
  });

  it("images get shows a Cox Edge image by its slashed id", async () => {
    const image = seeded.find((s) => s.provider === "coxedge" && !s.removed) as Seeded;
    const { code, stdout } = await cli(["images", "get", "coxedge", image.id]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^id:\\s+${image.id}$`, "m"));
    expect(stdout).toMatch(new RegExp(`^seenIn:\\s+${sources.edge}$`, "m"));
    const missing = await cli(["images", "get", "triton", "nope"]);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining("HTTP 404: No triton image nope") });
  });

  it("sources prints each source's latest run", async () => {
    const { code, stdout } = await cli(["sources"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${sources.east}\\s+triton\\s+us-east-1/acme\\s+\\S+\\s+ok\\s+22\\b`, "m"));
    expect(stdout).toMatch(new RegExp(`^${sources.idle}\\s+coxedge\\s+edge-services/idle\\s+-\\s+never synced`, "m"));
  });

  it("jobs submit queues a job from key=value params, and jobs get shows it", async () => {
    const submitted = await cli(["jobs", "submit", "triton", "clone", `imageId=${cloneOf}`, "--source", sources.east, "--id", "cli-job-1"]);
    expect(submitted).toMatchObject({ code: 0, stdout: "queued: job cli-job-1 (queued)\n" });
    const again = await cli(["jobs", "submit", "triton", "clone", `imageId=${cloneOf}`, "--source", sources.east, "--id", "cli-job-1"]);
    expect(again.stdout).toBe("already submitted: job cli-job-1 (queued)\n");
    const got = await cli(["jobs", "get", "cli-job-1", "--json"]);
    expect(JSON.parse(got.stdout)).toMatchObject({ jobId: "cli-job-1", state: "queued", request: { action: "clone", params: { imageId: cloneOf } } });
  });

  it("reports the API's field errors and its own usage errors precisely", async () => {
    const invalid = await cli(["jobs", "submit", "triton", "create", "name=web", "version=1.0", "--source", sources.east]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("params.machine: is required");
    // Two Triton sources are configured, so the CLI cannot pick one.
    const ambiguous = await cli(["jobs", "submit", "triton", "clone", `imageId=${cloneOf}`]);
    expect(ambiguous).toMatchObject({ code: 2, stderr: expect.stringContaining(`--source is required (triton sources: ${sources.west}, ${sources.east})`) });
    expect((await cli(["jobs", "watch", "x", "--interval", "soon"])).stderr).toContain('--interval must be a number of seconds from 0.1 to 300, got "soon"');
    expect((await cli(["jobs", "submit", "triton", "clone", "imageId"])).stderr).toContain('expected key=value, got "imageId"');
    expect((await cli(["images", "list", "--token"])).code).toBe(2);
    const unauthorized = await cli(["sources", "--token", "wrong-token-wrong-token"]);
    expect(unauthorized).toMatchObject({ code: 1, stderr: expect.stringContaining("HTTP 401") });
  });

  it("jobs watch follows a job to its end and exits by its outcome", async () => {
    expect((await cli(["jobs", "submit", "triton", "clone", `imageId=${cloneOf}`, "--source", sources.west, "--id", "cli-job-2"])).code).toBe(0);
    const watching = cli(["jobs", "watch", "cli-job-2", "--interval", "0.2"]);
    // Plays the worker's part: the job moves on while the CLI watches.
    await new Promise((r) => setTimeout(r, 1200));
    let job = await getJob(api.table, "cli-job-2");
    job = await saveJob(api.table, { ...job!, state: "polling", attempts: 1, polls: 1 });
    await new Promise((r) => setTimeout(r, 600));
    await saveJob(api.table, { ...job, state: "succeeded", polls: 2, finishedAt: new Date().toISOString(), result: { imageId: "4b683a82-a066-11e3-97ab-2faa44701c5a" } });
    const { code, stdout } = await watching;
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d {2}queued \(attempts 0, polls 0\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/polling \(attempts 1, polls 1\)$/));
    expect(lines.at(-1)).toBe("succeeded: image 4b683a82-a066-11e3-97ab-2faa44701c5a");
  });
});
