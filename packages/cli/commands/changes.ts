/** `imagesync changes`, `imagesync images history` and `imagesync events`: what changed, and the event stream. */
import { createReadStream, existsSync, statSync } from "node:fs";
import type { Change, ChangeList } from "../../api/schemas";
import { readRuntimeInfo } from "../../local/runtime-info";
import { request, resolveTarget } from "../api-client";
import { defineCommand, UsageError, type OptionSpecs } from "../command";
import { print, printJson, table } from "../output";

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `1h`, `7d` (that long ago) or an ISO time. */
export function parseSince(value: string, now = Date.now()): string {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * (units[relative[2] as string] as number)).toISOString();
  if (Number.isNaN(Date.parse(value))) throw new UsageError(`--since must be a duration like 90m, 1h, 7d or an ISO time, got "${value}"`);
  return new Date(value).toISOString();
}

function printChanges(items: Change[]): void {
  print(table(
    ["AT", "KIND", "PROVIDER", "SOURCE", "IMAGE", "NAME", "VERSION", "FIELDS", "CAUSE"],
    items.map((c) => [c.at, c.kind, c.provider, c.source, c.imageId, c.name, c.version, c.fields.map((f) => f.path).join(", ") || undefined, c.cause]),
  ));
}

export const changes = defineCommand({
  name: "changes",
  summary: "Lists what changed in the inventory, newest first.",
  options: {
    since: { type: "string", value: "WHEN", help: "from this long ago (90m, 1h, 7d) or this ISO time (default 24h)" },
    until: { type: "string", value: "ISO", help: "up to this time (default now)" },
    provider: { type: "string", help: "only this provider", choices: ["triton", "coxedge"] },
    source: { type: "string", value: "ID", help: "only this source" },
    kind: { type: "string", help: "only this kind of change", choices: ["added", "changed", "removed", "revived"] },
    limit: { type: "number", integer: true, min: 1, max: 100, help: "changes per page" },
    cursor: { type: "string", help: "the next page" },
  } satisfies OptionSpecs,
  async run({ options, json, global }) {
    const query = new URLSearchParams({ since: parseSince(options.since ?? "24h") });
    for (const name of ["until", "provider", "source", "kind", "limit", "cursor"] as const) if (options[name] !== undefined) query.set(name, String(options[name]));
    const { body } = await request<ChangeList>(resolveTarget(global), "GET", `/changes?${query}`);
    if (json) printJson(body);
    else {
      printChanges(body.items);
      if (body.nextCursor) print(`more with --cursor ${body.nextCursor}`);
    }
    return 0;
  },
});

export const imagesHistory = defineCommand({
  name: "images history",
  summary: "Shows one image's changes, newest first.",
  args: { usage: "<provider> <id>", min: 2, max: 2 },
  options: {
    source: { type: "string", help: "only this source's record" },
    limit: { type: "number", integer: true, min: 1, max: 100, help: "changes per page" },
    cursor: { type: "string", help: "the next page" },
  } satisfies OptionSpecs,
  async run({ args: [provider = "", id = ""], options, json, global }) {
    const query = new URLSearchParams();
    for (const name of ["source", "limit", "cursor"] as const) if (options[name] !== undefined) query.set(name, String(options[name]));
    const path = [provider, ...id.split("/")].map(encodeURIComponent).join("/");
    const { body } = await request<ChangeList>(resolveTarget(global), "GET", `/images/${path}/history${query.size ? `?${query}` : ""}`);
    if (json) printJson(body);
    else printChanges(body.items);
    return 0;
  },
});

export const events = defineCommand({
  name: "events",
  summary: "Prints the local runtime's change and job events (what EventBridge gets on AWS).",
  options: {
    follow: { type: "boolean", help: "keep printing new events as they come" },
    "data-dir": { type: "string", value: "DIR", help: "the runtime's data dir (default .data)" },
  } satisfies OptionSpecs,
  async run({ options, json }) {
    if (options["data-dir"]) process.env.IMAGESYNC_DATA_DIR = options["data-dir"];
    const file = readRuntimeInfo()?.eventsFile;
    if (!file) throw new UsageError("no local runtime is running (start it with npm start); on AWS, route the bus's events with an EventBridge rule");
    let offset = 0;
    for (;;) {
      offset = await printFrom(file, offset, json);
      if (!options.follow) return 0;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  },
});

/** Prints the events appended since `offset`; returns the new offset. */
async function printFrom(file: string, offset: number, json: boolean): Promise<number> {
  if (!existsSync(file) || statSync(file).size <= offset) return offset;
  let text = "";
  for await (const chunk of createReadStream(file, { start: offset })) text += String(chunk);
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  for (const line of complete.split("\n").filter(Boolean)) print(json ? line : describeEvent(line));
  return offset + Buffer.byteLength(complete);
}

function describeEvent(line: string): string {
  try {
    const event = JSON.parse(line) as { time: string; "detail-type": string; detail: Record<string, unknown> };
    const { detail } = event;
    const subject = detail.imageId ? `${detail.provider} ${detail.source} ${detail.imageId} ${detail.name}@${detail.version}` : `job ${detail.jobId} ${detail.action ?? ""}`;
    const fields = Array.isArray(detail.changedFields) && detail.changedFields.length ? ` [${detail.changedFields.join(", ")}]` : "";
    return `${event.time}  ${event["detail-type"].padEnd(13)}  ${subject}${fields}`;
  } catch {
    return line;
  }
}
