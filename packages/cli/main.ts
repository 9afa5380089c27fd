/**
 * `npx imagesync`: the operator CLI. Every command but `sync` talks to the HTTP API (URL and token from
 * flags, IMAGESYNC_API_URL / IMAGESYNC_API_TOKEN, or the running `npm start`); `sync` runs the local sync
 * (`npm run sync`). Exit codes: 0 done, 1 the API refused or a job failed, 2 bad usage.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { ImageDetail, ImageList, ImageSummary as Image, Job, JobAccepted, JobList, SourceList } from "../api/schemas";
import { ApiError, request, resolveTarget, UsageError, type ApiTarget } from "./client";
import { keyValues, table } from "./format";

const usage = `Usage: imagesync [--url URL] [--token TOKEN] <command> [options]

Commands:
  images list [filters] [--limit N] [--cursor C] [--all] [--json]
      filters: --provider triton|coxedge --source ID --name NAME|~TEXT --os OS --version V --public true|false
               --state present|removed|all|active|... --owner ID --type T --image-type default|custom
               --family F --tag T
  images get <provider> <id> [--source ID] [--json]
  sources [--json]
  sync [--provider triton|coxedge] [--source ID]     sync now (local runtime or configured environment)
  jobs submit <provider> <action> [--source ID] [--id JOB_ID] [key=value ...] [--watch] [--json]
      key=value pairs build params (dotted keys nest: fields.name=x; values starting with { or [ are JSON)
  jobs get <id> [--json]
  jobs list [--state S] [--provider P] [--limit N] [--json]
  jobs watch <id> [--interval SECONDS]              follow a job until it finishes

Connection: --url/--token, else IMAGESYNC_API_URL/IMAGESYNC_API_TOKEN, else the running local runtime.`;

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | undefined>;

const globalOptions: Options = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** images list flag → query parameter. */
const imageFilters: Record<string, string> = {
  provider: "provider", source: "source", name: "name", os: "os", version: "version", public: "public", state: "state",
  owner: "owner", type: "type", "image-type": "imageType", family: "family", tag: "tag", limit: "limit", cursor: "cursor",
};

interface Command {
  args: { min: number; max: number; names: string };
  options?: Options;
  run(args: string[], values: Values, target: () => ApiTarget): Promise<number>;
}

const print = (text: string) => console.log(text);
const json = (value: unknown) => print(JSON.stringify(value, null, 2));
const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

/** Names a rejected query parameter by the flag that set it. */
function flagFor(param: string, flags: Record<string, string>): string {
  const flag = Object.entries(flags).find(([, name]) => name === param)?.[0];
  return flag ? `--${flag}` : param;
}

const commands: Record<string, Command> = {
  "images list": {
    args: { min: 0, max: 0, names: "" },
    options: { ...Object.fromEntries(Object.keys(imageFilters).map((flag) => [flag, { type: "string" as const }])), all: { type: "boolean" } },
    async run(_args, values, target) {
      const query = new URLSearchParams();
      for (const [flag, param] of Object.entries(imageFilters)) if (typeof values[flag] === "string") query.set(param, values[flag]);
      const items: Image[] = [];
      let next: string | undefined;
      try {
        do {
          if (next) query.set("cursor", next);
          const { body } = await request<ImageList>(target(), "GET", `/images?${query}`);
          items.push(...body.items);
          next = body.nextCursor;
        } while (values.all && next);
      } catch (error) {
        if (error instanceof ApiError && error.invalidParams.length) {
          throw new ApiError(error.status, error.invalidParams.map((p) => `${flagFor(p.name, imageFilters)}: ${p.reason}`).join("; "));
        }
        throw error;
      }
      if (values.json) {
        json({ items, ...(next ? { nextCursor: next } : {}) });
        return 0;
      }
      print(table(
        ["PROVIDER", "SOURCE", "ID", "NAME", "VERSION", "OS", "STATE", "LAST SEEN"],
        items.map((i) => [i.provider, i.source, i.id, i.name, i.version, i.os, i.removedAt ? "removed" : i.state, i.lastSeenAt]),
      ));
      print(`${items.length} image${items.length === 1 ? "" : "s"}${next ? `; more with --cursor ${next} (or --all)` : ""}`);
      return 0;
    },
  },

  "images get": {
    args: { min: 2, max: 2, names: "<provider> <id>" },
    options: { source: { type: "string" } },
    async run([provider, id], values, target) {
      const query = typeof values.source === "string" ? `?${new URLSearchParams({ source: values.source })}` : "";
      // A Cox Edge id's slashes stay path separators: the API takes the rest of the path as the id.
      const { body } = await request<ImageDetail>(target(), "GET", `/images/${path(provider as string, ...(id as string).split("/"))}${query}`);
      if (values.json) json(body);
      else {
        const { raw: _raw, seenIn, ...fields } = body;
        print(keyValues([...Object.entries(fields), ["seenIn", seenIn.map((s) => (s.removedAt ? `${s.source} (removed ${s.removedAt})` : s.source)).join(", ")]]));
      }
      return 0;
    },
  },

  sources: {
    args: { min: 0, max: 0, names: "" },
    async run(_args, values, target) {
      const { body } = await request<SourceList>(target(), "GET", "/sources");
      if (values.json) json(body);
      else {
        print(table(
          ["SOURCE", "PROVIDER", "WHERE", "LAST RUN", "STATUS", "SEEN", "ADDED", "CHANGED", "REMOVED", "ERROR"],
          body.items.map((s) => {
            const run = s.latestRun;
            const where = s.provider === "triton" ? `${s.datacenter}/${s.account}` : `${s.service}/${s.environment}`;
            return [s.id, s.provider, where, run?.finishedAt, run?.status ?? "never synced", run?.counts.seen, run?.counts.added, run?.counts.changed, run?.counts.removed, run?.error];
          }),
        ));
      }
      return 0;
    },
  },

  sync: {
    args: { min: 0, max: 0, names: "" },
    options: { provider: { type: "string" }, source: { type: "string" } },
    async run(_args, values) {
      // The sync runs here, not behind the API: it is `npm run sync`, which finds the local runtime itself.
      const root = fileURLToPath(new URL("../..", import.meta.url));
      const flags = ["provider", "source"].flatMap((name) => (typeof values[name] === "string" ? [`--${name}`, values[name] as string] : []));
      const child = spawnSync(process.execPath, ["--import", "tsx", "packages/local/sync-now.ts", ...flags], { cwd: root, stdio: "inherit" });
      return child.status ?? 1;
    },
  },

  "jobs submit": {
    args: { min: 2, max: Infinity, names: "<provider> <action> [key=value ...]" },
    options: { source: { type: "string" }, id: { type: "string" }, watch: { type: "boolean" }, interval: { type: "string" } },
    async run([provider, action, ...pairs], values, target) {
      const jobParams = params(pairs);
      const source = typeof values.source === "string" ? values.source : await onlySource(target(), provider as string);
      const job = { ...(typeof values.id === "string" ? { jobId: values.id } : {}), provider, source, action, params: jobParams };
      const { status, body } = await request<JobAccepted>(target(), "POST", "/jobs", { body: job });
      if (values.json && !values.watch) json(body);
      else print(`${status === 202 ? "queued" : "already submitted"}: job ${body.jobId} (${body.state})`);
      return values.watch ? watch(target(), body.jobId, interval(values), Boolean(values.json)) : 0;
    },
  },

  "jobs get": {
    args: { min: 1, max: 1, names: "<id>" },
    async run([id], values, target) {
      const { body } = await request<Job>(target(), "GET", `/jobs/${path(id as string)}`);
      if (values.json) json(body);
      else print(describeJob(body));
      return 0;
    },
  },

  "jobs list": {
    args: { min: 0, max: 0, names: "" },
    options: { state: { type: "string" }, provider: { type: "string" }, limit: { type: "string" } },
    async run(_args, values, target) {
      const query = new URLSearchParams();
      for (const name of ["state", "provider", "limit"]) if (typeof values[name] === "string") query.set(name, values[name]);
      const { body } = await request<JobList>(target(), "GET", `/jobs?${query}`);
      if (values.json) json(body);
      else {
        print(table(
          ["JOB", "PROVIDER", "SOURCE", "ACTION", "STATE", "CREATED", "RESULT"],
          body.items.map((j) => [j.jobId, j.request?.provider, j.request?.source, j.request?.action, j.state, j.createdAt, j.result?.imageId ?? j.error?.message]),
        ));
      }
      return 0;
    },
  },

  "jobs watch": {
    args: { min: 1, max: 1, names: "<id>" },
    options: { interval: { type: "string" } },
    run: ([id], values, target) => watch(target(), id as string, interval(values), Boolean(values.json)),
  },
};

/** key=value pairs as the job's params: dotted keys nest, values that look like JSON objects/arrays are parsed. */
function params(pairs: string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) throw new UsageError(`expected key=value, got "${pair}"`);
    const keys = pair.slice(0, at).split(".");
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    if (/^[[{]/.test(raw) || raw === "null") {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new UsageError(`${pair.slice(0, at)}: not valid JSON: ${raw}`);
      }
    }
    let target = result;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys.at(-1) as string] = value;
  }
  return result;
}

/** The provider's source when exactly one is configured; otherwise --source is needed. */
async function onlySource(target: ApiTarget, provider: string): Promise<string> {
  const { body } = await request<SourceList>(target, "GET", "/sources");
  const ids = body.items.filter((s) => s.provider === provider).map((s) => s.id);
  if (ids.length === 1) return ids[0] as string;
  throw new UsageError(`--source is required${ids.length ? ` (${provider} sources: ${ids.join(", ")})` : ` (no ${provider} source is configured)`}`);
}

function interval(values: Values): number {
  const seconds = values.interval === undefined ? 1 : Number(values.interval);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 300) throw new UsageError(`--interval must be a number of seconds from 0.1 to 300, got "${values.interval}"`);
  return seconds * 1000;
}

const terminal = new Set(["succeeded", "failed"]);

function describeJob(job: Job): string {
  const { request: what, error, result, ...rest } = job;
  return keyValues([
    ...Object.entries(rest),
    ["request", what && `${what.provider} ${what.action} in ${what.source} ${JSON.stringify(what.params)}`],
    ["result", result],
    ["error", error && `${error.code}: ${error.message}`],
  ]);
}

/** Polls the job (conditional GETs) and prints each change until it finishes; exit 0 only on success. */
async function watch(target: ApiTarget, jobId: string, intervalMs: number, asJson: boolean): Promise<number> {
  let etag: string | undefined;
  let job: Job | undefined;
  let shown = "";
  for (;;) {
    const reply = await request<Job>(target, "GET", `/jobs/${path(jobId)}`, { etag });
    if (reply.status !== 304) {
      job = reply.body;
      etag = reply.etag;
      const line = `${job.state}${job.upstream?.taskId ? ` task ${job.upstream.taskId}` : ""} (attempts ${job.attempts}, polls ${job.polls})${job.lastError ? ` last error: ${job.lastError.message}` : ""}`;
      if (line !== shown && !asJson) print(`${new Date().toISOString().slice(11, 19)}  ${line}`);
      shown = line;
    }
    if (job && terminal.has(job.state)) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  if (asJson) json(job);
  else if (job.state === "succeeded") print(`succeeded: image ${job.result?.imageId}${job.result?.export ? ` exported to ${job.result.export.manta_url}` : ""}`);
  else print(`failed: ${job.error?.code}: ${job.error?.message}`);
  return job.state === "succeeded" ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  try {
    // The command words come first; the strict parse below then knows which options apply.
    const { positionals, values: global } = parseArgs({ args: argv, options: globalOptions, strict: false, allowPositionals: true });
    const name = [`${positionals[0]} ${positionals[1]}`, positionals[0]].find((words) => words && words in commands);
    if (global.help || !positionals.length) {
      print(usage);
      return global.help ? 0 : 2;
    }
    if (!name) throw new UsageError(`unknown command "${positionals.slice(0, 2).join(" ")}"`);
    const command = commands[name] as Command;
    const { positionals: args, values } = parseArgs({ args: argv, options: { ...globalOptions, ...command.options }, strict: true, allowPositionals: true });
    const rest = args.slice(name.split(" ").length);
    if (rest.length < command.args.min || rest.length > command.args.max) {
      throw new UsageError(`${name} takes ${command.args.names || "no arguments"}${rest.length ? `, got: ${rest.join(" ")}` : ""}`);
    }
    let target: ApiTarget | undefined;
    const lazyTarget = () => (target ??= resolveTarget({ url: values.url as string | undefined, token: values.token as string | undefined }));
    return await command.run(rest, values as Values, lazyTarget);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`imagesync: ${(error as Error).message}\nRun imagesync --help for usage.`);
      return 2;
    }
    if (error instanceof ApiError) {
      console.error(`imagesync: ${error.status ? `HTTP ${error.status}: ` : ""}${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
