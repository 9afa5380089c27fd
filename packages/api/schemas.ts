/**
 * The API's inputs and outputs as zod schemas. Inputs are validated with them (router); outputs are typed
 * by them and both are turned into the OpenAPI document (openapi.ts), so code and document cannot drift.
 */
import * as z from "../core/zod";
import { tokenScopes } from "../core/config";
import { providers } from "../core/resources";
import { JobIdSchema, JobMessageSchema } from "../jobs/schema";
import { jobStates, type JobRecord, type JobState } from "../jobs";
import { changeKinds, type ChangeRecord } from "../store/changes";
import { commonStates } from "../store/normalise";
import type { LatestRun, SyncRun } from "../store/runs";

const text = (description: string) =>
  z.string().check(z.minLength(1, "must not be empty"), z.maxLength(256, "must be at most 256 characters"), z.describe(description));

const limit = (max: number, fallback: number) =>
  z
    ._default(
      z.coerce
        .number({ error: "must be an integer" })
        .check(z.int("must be an integer"), z.gte(1, "must be at least 1"), z.lte(max, `must be at most ${max}`)),
      fallback,
    )
    .check(z.describe(`Page size, 1-${max}.`));

const CursorSchema = z
  .string()
  .check(
    z.minLength(1, "must not be empty"),
    z.maxLength(4096, "is too long"),
    z.describe("The `nextCursor` of the previous page, verbatim; only valid with the same filters."),
  );

const ProviderSchema = z.enum(providers, { error: `must be one of ${providers.join(", ")}` });
const SourceIdSchema = z.string().check(z.minLength(1, "must not be empty"), z.maxLength(100, "must be at most 100 characters"));
const TimestampSchema = z.string().check(z.meta({ format: "date-time" }));
/** An integer in an output document. */
const int = () => z.number().check(z.int());

export const imageStateFilters = ["present", "removed", "all", ...commonStates] as const;

const imageListFields = {
  provider: z.optional(ProviderSchema).check(z.describe("Only this provider's images.")),
  source: z.optional(SourceIdSchema).check(z.describe("Only this source's images (a configured source id).")),
  name: z.optional(text("Exact name, or `~text` for names containing text (case-sensitive). Cox Edge names are families.")),
  os: z.optional(text("Triton os (smartos, linux, windows, ...); for Cox Edge images, the family.")),
  version: z.optional(text("Triton version; for Cox Edge images, the tag.")),
  public: z
    .optional(z.pipe(z.enum(["true", "false"], { error: "must be true or false" }), z.transform((value) => value === "true")))
    .check(z.describe("Public images (Triton `public`; Cox Edge default images) or not.")),
  state: z._default(z.enum(imageStateFilters, { error: `must be one of ${imageStateFilters.join(", ")}` }), "present").check(
    z.describe(
      "`present` (default): images in their source's latest listing; `removed`: tombstones; `all`: both; " +
        "a lifecycle state (`active`, ...) selects present images in that state.",
    ),
  ),
  owner: z.optional(text("Triton owner account uuid; Cox Edge stack id.")),
  type: z.optional(text("Triton image type (zone-dataset, zvol, docker, ...); Cox Edge default or custom.")),
  imageType: z
    .optional(z.enum(["default", "custom"], { error: "must be default or custom" }))
    .check(z.describe("Cox Edge images only: StackPath's default images or the environment's custom ones.")),
  family: z.optional(text("Cox Edge images only: this family.")),
  tag: z.optional(text("Cox Edge images only: this tag.")),
  limit: limit(1000, 100),
  cursor: z.optional(CursorSchema),
};

/**
 * `tag.KEY=VALUE`: Triton images whose tag KEY has that value (compared as text, as IMGAPI does), in the
 * form IMGAPI documents (TritonDataCenter/sdc-imgapi docs/index.md, "Searching Images by Tags"); several
 * combine with AND.
 */
export const tagFilterPrefix = "tag.";
const maxTagFilters = 10;

/** Every parameter beyond the named ones must be a tag filter; each problem names its own `tag.KEY`. */
function checkTagFilters(query: Record<string, unknown>, context: z.core.$RefinementCtx): void {
  const extra = Object.keys(query).filter((name) => !Object.hasOwn(imageListFields, name));
  let filters = 0;
  for (const name of extra) {
    const value = String(query[name]);
    const key = name.slice(tagFilterPrefix.length);
    const problem = !name.startsWith(tagFilterPrefix)
      ? "unknown parameter"
      : key === "" ? "must name a tag: tag.KEY=VALUE"
      : key.length > 128 ? "the tag key must be at most 128 characters"
      : value === "" ? "must not be empty"
      : value.length > 256 ? "must be at most 256 characters"
      : ++filters > maxTagFilters ? `at most ${maxTagFilters} tag filters may be given`
      : undefined;
    if (problem) context.addIssue({ code: "custom", path: [name], message: problem });
  }
}

export const ImageListQuerySchema = z.catchall(z.strictObject(imageListFields), z.string()).check(z.superRefine(checkTagFilters));
export type ImageListQuery = z.output<typeof ImageListQuerySchema>;

/** The tag filters of a validated listing query, by tag key. */
export function tagFiltersOf(query: ImageListQuery): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query).flatMap(([name, value]) => (name.startsWith(tagFilterPrefix) && typeof value === "string" ? [[name.slice(tagFilterPrefix.length), value]] : [])),
  );
}

/** An upstream image id in a path: the item's sort key, which DynamoDB caps at 1024 bytes (UTF-8), not characters. */
const imageIdParam = (description: string) =>
  z
    .string()
    .check(
      z.minLength(1, "must not be empty"),
      z.maxLength(1024, "is too long"),
      z.refine((id) => Buffer.byteLength(id) <= 1024, "is too long (at most 1024 bytes as UTF-8)"),
      z.describe(description),
    );

export const ImagePathSchema = z.strictObject({
  provider: ProviderSchema,
  id: imageIdParam("Upstream image id. Cox Edge ids (`stackId/family/tag`) contain slashes: send them as they are."),
});

export const ImageGetQuerySchema = z.strictObject({
  source: z
    .optional(SourceIdSchema)
    .check(z.describe("Which source's record to return; by default the first source (by id) where the image is present.")),
  // A Cox Edge history request arrives on this route (its id has slashes): its paging parameters too.
  limit: z.optional(limit(100, 50)).check(z.describe("Only for `/images/coxedge/<id>/history`: page size.")),
  cursor: z.optional(CursorSchema).check(z.describe("Only for `/images/coxedge/<id>/history`: the next page.")),
});

export const SourcePathSchema = z.strictObject({ id: SourceIdSchema });
export const RunListQuerySchema = z.strictObject({ limit: limit(100, 20), cursor: z.optional(CursorSchema) });

export const JobPathSchema = z.strictObject({ id: JobIdSchema });
export const JobListQuerySchema = z.strictObject({
  state: z.optional(z.enum(jobStates, { error: `must be one of ${jobStates.join(", ")}` })),
  provider: z.optional(ProviderSchema),
  limit: limit(100, 20),
  cursor: z.optional(CursorSchema),
});

export { JobMessageSchema };

export const ImageSummarySchema = z.object({
  provider: z.enum(providers),
  source: z.string(),
  id: z.string(),
  name: z.string(),
  version: z.string().check(z.describe("Triton version; Cox Edge tag.")),
  os: z.optional(z.string()).check(z.describe("Triton os; Cox Edge family.")),
  type: z.optional(z.string()).check(z.describe("Triton type; Cox Edge default or custom.")),
  state: z.enum(commonStates),
  status: z.optional(z.string()).check(z.describe("The upstream's own state word (Triton state, Cox Edge status).")),
  public: z.optional(z.boolean()),
  owner: z.optional(z.string()),
  createdAt: z.optional(TimestampSchema),
  publishedAt: z.optional(TimestampSchema),
  firstSeenAt: TimestampSchema,
  lastSeenAt: TimestampSchema.check(z.describe("Last sync (or job) that found the image present.")),
  lastChangedAt: TimestampSchema,
  removedAt: z.optional(TimestampSchema).check(z.describe("Set on tombstones: when the image was found gone.")),
});
export type ImageSummary = z.output<typeof ImageSummarySchema>;

export const ImageListSchema = z.object({
  items: z.array(ImageSummarySchema),
  nextCursor: z.optional(z.string()).check(z.describe("Present while more may follow (a page can be short, even empty, and still have one).")),
});
export type ImageList = z.output<typeof ImageListSchema>;

export const ImageDetailSchema = z.extend(ImageSummarySchema, {
  description: z.optional(z.string()),
  requirements: z.optional(z.record(z.string(), z.unknown())),
  tags: z.optional(z.record(z.string(), z.unknown())),
  files: z.optional(z.array(z.object({ compression: z.string(), sha1: z.string(), size: z.number() }))),
  contentHash: z.string(),
  expiresAt: z.optional(int()).check(z.describe("Tombstones: epoch seconds when the record is deleted.")),
  raw: z.record(z.string(), z.unknown()).check(z.describe("The upstream document as last read.")),
  seenIn: z
    .array(z.object({ source: z.string(), removedAt: z.optional(TimestampSchema) }))
    .check(z.describe("Every configured source holding a record of this image id.")),
});
export type ImageDetail = z.output<typeof ImageDetailSchema>;

/** Present images by lifecycle state (states with none are left out). */
const StateCountsSchema = z.partialRecord(z.enum(commonStates), int());

/** A source's present images by lifecycle state, and its tombstones. */
const InventoryCountsSchema = z.object({
  at: TimestampSchema.check(z.describe("When the listing these counts come from was taken.")),
  states: StateCountsSchema,
  removed: int(),
});

const RunCounts = z.object({
  seen: int(),
  added: int(),
  changed: int(),
  removed: int(),
  revived: int(),
  unchanged: int(),
});

export const SyncRunSchema = z.object({
  provider: z.enum(providers),
  sourceId: z.string(),
  runId: z.string(),
  trigger: z.enum(["schedule", "manual"]),
  status: z.enum(["ok", "failed", "skipped-locked"]),
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema,
  durationMs: z.number(),
  snapshotAt: z.optional(TimestampSchema),
  upstreamMs: z.optional(z.number()),
  counts: RunCounts,
  compared: z
    .optional(z.enum(["listing", "digest", "items"]))
    .check(z.describe("What the listing was compared with: nothing (byte for byte the listing the state digest is known to match), the state digest image by image, or every image item.")),
  writes: int(),
  superseded: int(),
  error: z.optional(z.string()),
  unstorable: z
    .optional(z.object({ count: int(), first: z.string() }))
    .check(z.describe("Listed images DynamoDB cannot hold (too deep, an empty key, a number out of range): left as they are, never tombstoned.")),
  inventory: z.optional(InventoryCountsSchema).check(z.describe("The source's images by state, and its tombstones, once this run's listing was applied (absent when it listed nothing).")),
}) satisfies z.ZodMiniType<SyncRun>;

const LatestRunSchema = z.extend(SyncRunSchema, {
  lastOkRunId: z.optional(z.string()),
  lastOkAt: z.optional(TimestampSchema),
  lastOkSnapshotAt: z.optional(TimestampSchema),
  consecutiveFailures: z.optional(int()).check(z.describe("Failed runs since the last successful one.")),
  firstRunAt: z.optional(TimestampSchema),
}) satisfies z.ZodMiniType<LatestRun>;

export const SourceSchema = z.object({
  id: z.string(),
  provider: z.enum(providers),
  /** Triton */
  datacenter: z.optional(z.string()),
  url: z.optional(z.string()),
  account: z.optional(z.string()),
  /** Cox Edge */
  baseUrl: z.optional(z.string()),
  service: z.optional(z.string()),
  environment: z.optional(z.string()),
  organizationId: z.optional(z.string()),
  latestRun: z.nullable(LatestRunSchema).check(z.describe("The last finished sync run with its counts; null before the first.")),
});
export type Source = z.output<typeof SourceSchema>;

export const SourceListSchema = z.object({ items: z.array(SourceSchema) });
export type SourceList = z.output<typeof SourceListSchema>;
export const RunListSchema = z.object({ items: z.array(SyncRunSchema), nextCursor: z.optional(z.string()) });

const JobErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  status: z.optional(int()),
  upstreamCode: z.optional(z.string()),
  upstreamMessage: z.optional(z.string()),
  requestId: z.optional(z.string()),
});

export const JobSchema = z.object({
  jobId: z.string(),
  state: z.enum(jobStates),
  request: z.optional(JobMessageSchema).check(z.describe("What the job does (absent on the record of a rejected message).")),
  attempts: int(),
  polls: int(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  submittedAt: z.optional(TimestampSchema),
  finishedAt: z.optional(TimestampSchema),
  deadlineAt: z.optional(TimestampSchema),
  nextCheckAt: z.optional(TimestampSchema),
  upstream: z.optional(z.object({ imageId: z.optional(z.string()), taskId: z.optional(z.string()) })),
  result: z.optional(
    z.object({
      imageId: z.string(),
      export: z.optional(z.object({ manta_url: z.string(), image_path: z.string(), manifest_path: z.string() })),
    }),
  ),
  error: z.optional(JobErrorSchema),
  lastError: z.optional(JobErrorSchema),
});
export type Job = z.output<typeof JobSchema>;

/** The public view of a job record: internal bookkeeping (step numbers, versions) stays inside. */
export function jobView(job: JobRecord): Job {
  const { seq: _seq, version: _version, upstream, ...rest } = job;
  return {
    ...rest,
    ...(upstream && { upstream: { imageId: upstream.imageId, taskId: upstream.taskId } }),
  };
}

export const JobListSchema = z.object({ items: z.array(JobSchema), nextCursor: z.optional(z.string()) });
export type JobList = z.output<typeof JobListSchema>;
export const JobAcceptedSchema = z.object({
  jobId: z.string(),
  state: z.enum(jobStates) as z.ZodMiniType<JobState>,
  created: z.boolean().check(z.describe("false when a job with this id already existed (idempotent resubmission).")),
  location: z.string().check(z.describe("Where its state is: GET /jobs/{jobId}.")),
});
export type JobAccepted = z.output<typeof JobAcceptedSchema>;

export const ImageCountsSchema = z.object({
  items: z
    .array(z.extend(InventoryCountsSchema, { provider: z.enum(providers), source: z.string(), present: int() }))
    .check(z.describe("One entry per source that has listed its images since counting began, by source id.")),
  total: z.object({ states: StateCountsSchema, present: int(), removed: int() }).check(z.describe("The sums over every counted source.")),
});
export type ImageCounts = z.output<typeof ImageCountsSchema>;

export const MeSchema = z.object({
  name: z.string().check(z.describe("The token's name (never the token).")),
  scopes: z.array(z.enum(tokenScopes)).check(z.describe("What the token may do: `read` every GET, `jobs` POST /jobs, `admin` operator routes.")),
});

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: int(),
  detail: z.string(),
  invalidParams: z.optional(z.array(z.object({ name: z.string(), in: z.enum(["query", "path", "body", "header"]), reason: z.string() }))),
});

export const HealthSchema = z.object({ status: z.literal("ok") });

const isoTime = (description: string) =>
  z.iso.datetime({ offset: true, error: "must be an ISO-8601 time like 2026-05-01T12:00:00Z" }).check(z.describe(description));

export const ChangeListQuerySchema = z.pipe(
  z.strictObject({
    since: z.optional(isoTime("Oldest change to return (inclusive). Default: 7 days before `until`.")),
    until: z.optional(isoTime("Newest change to return (exclusive). Default: now.")),
    provider: z.optional(ProviderSchema),
    source: z.optional(SourceIdSchema),
    kind: z.optional(z.enum(changeKinds, { error: `must be one of ${changeKinds.join(", ")}` })),
    limit: limit(100, 50),
    cursor: z.optional(CursorSchema),
  }),
  z.transform((query, context) => {
    const until = new Date(query.until ?? Date.now());
    const since = query.since === undefined ? new Date(until.getTime() - 7 * 86_400_000) : new Date(query.since);
    const problem =
      since >= until ? "must be before until" : until.getTime() - since.getTime() > 366 * 86_400_000 ? "must be at most 366 days before until" : undefined;
    if (problem) context.issues.push({ code: "custom", path: ["since"], message: problem, input: query });
    return { ...query, since: since.toISOString(), until: until.toISOString() };
  }),
);
export type ChangeListQuery = z.output<typeof ChangeListQuerySchema>;

export const HistoryQuerySchema = z.strictObject({
  source: z.optional(SourceIdSchema).check(z.describe("Only this source's record of the image; by default every source's, merged.")),
  limit: limit(100, 50),
  cursor: z.optional(CursorSchema),
});

export const HistoryPathSchema = z.strictObject({
  provider: ProviderSchema,
  id: imageIdParam("Upstream image id. A Cox Edge id's slashes are sent as they are: `/images/coxedge/<stackId>/<family>/<tag>/history`."),
});

export const ChangeSchema = z.object({
  id: z.string().check(z.describe("The change's id (the table stream event it was made from).")),
  at: TimestampSchema.check(z.describe("When the change was observed upstream.")),
  kind: z.enum(changeKinds),
  provider: z.enum(providers),
  source: z.string(),
  imageId: z.string(),
  name: z.string(),
  version: z.string(),
  fields: z
    .array(z.object({ path: z.string(), old: z.optional(z.unknown()), new: z.optional(z.unknown()) }))
    .check(z.describe("What changed: paths in the common view (`view.…`) and the upstream document (`raw.…`).")),
  fieldsTruncated: z.optional(z.boolean()),
  hashBefore: z.optional(z.string()),
  hashAfter: z.optional(z.string()),
  cause: z.optional(z.string()).check(z.describe("`sync:<runId>` or `job:<jobId>`.")),
});
export type Change = z.output<typeof ChangeSchema>;

export const ChangeListSchema = z.object({ items: z.array(ChangeSchema), nextCursor: z.optional(z.string()) });
export type ChangeList = z.output<typeof ChangeListSchema>;

/** The public view of a change record: `source` and `imageId`, as images name them. */
export function changeView(record: ChangeRecord): Change {
  const { sourceId, upstreamId, ...rest } = record;
  return { ...rest, source: sourceId, imageId: upstreamId };
}
