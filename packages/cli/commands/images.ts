/** `imagesync images list|get`: the inventory, through the HTTP API. */
import type { ImageDetail, ImageList, ImageSummary } from "../../api/schemas";
import { ApiError, request, resolveTarget } from "../api-client";
import { defineCommand, type OptionSpecs } from "../command";
import { keyValues, print, printJson, table } from "../output";

/** `images list` option → GET /images query parameter. */
const filters = {
  provider: { param: "provider", help: "triton or coxedge" },
  source: { param: "source", help: "a source id" },
  name: { param: "name", help: "exact name, or ~TEXT for a substring" },
  os: { param: "os", help: "os (Cox Edge: family)" },
  version: { param: "version", help: "exact version (Cox Edge: tag)" },
  public: { param: "public", help: "true or false" },
  state: { param: "state", help: "present, removed, all, or a lifecycle state (active, ...)" },
  owner: { param: "owner", help: "owner account (Cox Edge: stack id)" },
  type: { param: "type", help: "image type" },
  "image-type": { param: "imageType", help: "Cox Edge: default or custom" },
  family: { param: "family", help: "Cox Edge family" },
  limit: { param: "limit", help: "images per page (1-1000)" },
  cursor: { param: "cursor", help: "the page after this cursor" },
} as const;

const filterOptions = Object.fromEntries(
  Object.entries(filters).map(([flag, { help }]) => [flag, { type: "string" as const, help }]),
) as { [K in keyof typeof filters]: { type: "string"; help: string } };

/**
 * `--tag` is the Cox Edge tag, or with a `=` a Triton tag filter (`tag.KEY=VALUE`); a Cox Edge tag can never
 * hold a `=` (coxedge/validation.ts tagPattern), so the two cannot be confused.
 */
const tagOption = {
  type: "string",
  value: "TAG|KEY=VALUE",
  repeatable: true,
  help: "a Cox Edge tag, or KEY=VALUE: Triton images whose tag KEY has VALUE (all given must match)",
} as const;

function addTags(query: URLSearchParams, tags: readonly string[]): void {
  for (const tag of tags) {
    const at = tag.indexOf("=");
    if (at < 0) query.append("tag", tag);
    else query.append(`tag.${tag.slice(0, at)}`, tag.slice(at + 1));
  }
}

/** Names a rejected query parameter by the option that set it. */
function optionFor(param: string): string {
  if (param === "tag" || param.startsWith("tag.")) return param === "tag" ? "--tag" : `--tag ${param.slice("tag.".length)}=…`;
  const flag = Object.entries(filters).find(([, filter]) => filter.param === param)?.[0];
  return flag ? `--${flag}` : param;
}

export const imagesList = defineCommand({
  name: "images list",
  summary: "Lists images across providers and sources, a page at a time (or --all).",
  options: { ...filterOptions, tag: tagOption, all: { type: "boolean", help: "follow every page" } } satisfies OptionSpecs,
  async run({ options, json, global }) {
    const query = new URLSearchParams();
    for (const [flag, { param }] of Object.entries(filters)) {
      const value = options[flag as keyof typeof filters];
      if (value !== undefined) query.set(param, value);
    }
    addTags(query, options.tag);
    const target = resolveTarget(global);
    const items: ImageSummary[] = [];
    let next: string | undefined;
    try {
      do {
        if (next) query.set("cursor", next);
        const { body } = await request<ImageList>(target, "GET", `/images?${query}`);
        items.push(...body.items);
        next = body.nextCursor;
      } while (options.all && next);
    } catch (error) {
      if (!(error instanceof ApiError && error.invalidParams.length)) throw error;
      throw new ApiError(error.status, error.invalidParams.map((p) => `${optionFor(p.name)}: ${p.reason}`).join("; "));
    }
    if (json) {
      printJson({ items, ...(next ? { nextCursor: next } : {}) });
      return 0;
    }
    print(table(
      ["PROVIDER", "SOURCE", "ID", "NAME", "VERSION", "OS", "STATE", "LAST SEEN"],
      items.map((i) => [i.provider, i.source, i.id, i.name, i.version, i.os, i.removedAt ? "removed" : i.state, i.lastSeenAt]),
    ));
    print(`${items.length} image${items.length === 1 ? "" : "s"}${next ? `; more with --cursor ${next} (or --all)` : ""}`);
    return 0;
  },
});

export const imagesGet = defineCommand({
  name: "images get",
  summary: "Shows one image, where it is seen, and (with --json) its raw upstream document.",
  args: { usage: "<provider> <id>", min: 2, max: 2 },
  options: { source: { type: "string", help: "the source to read it from (default: any that has it)" } } satisfies OptionSpecs,
  async run({ args: [provider = "", id = ""], options, json, global }) {
    const query = options.source === undefined ? "" : `?${new URLSearchParams({ source: options.source })}`;
    // A Cox Edge id's slashes stay path separators: the API takes the rest of the path as the id.
    const path = [provider, ...id.split("/")].map(encodeURIComponent).join("/");
    const { body } = await request<ImageDetail>(resolveTarget(global), "GET", `/images/${path}${query}`);
    if (json) printJson(body);
    else {
      const { raw: _raw, seenIn, ...fields } = body;
      const seen = seenIn.map((s) => (s.removedAt ? `${s.source} (removed ${s.removedAt})` : s.source)).join(", ");
      print(keyValues([...Object.entries(fields), ["seenIn", seen]]));
    }
    return 0;
  },
});
