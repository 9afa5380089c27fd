/**
 * The API's inputs and outputs as zod schemas. Inputs are validated with them (router); outputs are typed
 * by them and both are turned into the OpenAPI document (openapi.ts), so code and document cannot drift.
 */
import { z } from "zod";
import { providers } from "../core/resources";
import { JobIdSchema, JobMessageSchema } from "../jobs/schema";
import { jobStates, type JobRecord, type JobState } from "../jobs";
import { changeKinds, type ChangeRecord } from "../store/changes";
import type { CommonState } from "../store/normalise";
import type { LatestRun, SyncRun } from "../store/runs";

const text = (description: string) =>
  z.string().min(1, "must not be empty").max(256, "must be at most 256 characters").meta({ description });

const limit = (max: number, fallback: number) =>
  z.coerce
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`)
    .default(fallback)
    .meta({ description: `Page size, 1-${max}.` });

const CursorSchema = z
  .string()
  .min(1, "must not be empty")
  .max(4096, "is too long")
  .meta({ description: "The `nextCursor` of the previous page, verbatim; only valid with the same filters." });

const ProviderSchema = z.enum(providers, { error: `must be one of ${providers.join(", ")}` });
const SourceIdSchema = z.string().min(1, "must not be empty").max(100, "must be at most 100 characters");
const TimestampSchema = z.string().meta({ format: "date-time" });

export const commonStates = ["active", "creating", "failed", "disabled", "unactivated", "unknown"] as const satisfies readonly CommonState[];
export const imageStateFilters = ["present", "removed", "all", ...commonStates] as const;

export const ImageListQuerySchema = z.strictObject({
  provider: ProviderSchema.optional().meta({ description: "Only this provider's images." }),
  source: SourceIdSchema.optional().meta({ description: "Only this source's images (a configured source id)." }),
  name: text("Exact name, or `~text` for names containing text (case-sensitive). Cox Edge names are families.").optional(),
  os: text("Triton os (smartos, linux, windows, ...); for Cox Edge images, the family.").optional(),
  version: text("Triton version; for Cox Edge images, the tag.").optional(),
  public: z
    .enum(["true", "false"], { error: "must be true or false" })
    .transform((value) => value === "true")
    .optional()
    .meta({ description: "Public images (Triton `public`; Cox Edge default images) or not." }),
  state: z
    .enum(imageStateFilters, { error: `must be one of ${imageStateFilters.join(", ")}` })
    .default("present")
    .meta({
      description:
        "`present` (default): images in their source's latest listing; `removed`: tombstones; `all`: both; " +
        "a lifecycle state (`active`, ...) selects present images in that state.",
    }),
  owner: text("Triton owner account uuid; Cox Edge stack id.").optional(),
  type: text("Triton image type (zone-dataset, zvol, docker, ...); Cox Edge default or custom.").optional(),
  imageType: z
    .enum(["default", "custom"], { error: "must be default or custom" })
    .optional()
    .meta({ description: "Cox Edge images only: StackPath's default images or the environment's custom ones." }),
  family: text("Cox Edge images only: this family.").optional(),
  tag: text("Cox Edge images only: this tag.").optional(),
  limit: limit(1000, 100),
  cursor: CursorSchema.optional(),
});
export type ImageListQuery = z.output<typeof ImageListQuerySchema>;

/** An upstream image id in a path: the item's sort key, which DynamoDB caps at 1024 bytes (UTF-8), not characters. */
const imageIdParam = (description: string) =>
  z
    .string()
    .min(1, "must not be empty")
    .max(1024, "is too long")
    .refine((id) => Buffer.byteLength(id) <= 1024, "is too long (at most 1024 bytes as UTF-8)")
    .meta({ description });

export const ImagePathSchema = z.strictObject({
  provider: ProviderSchema,
  id: imageIdParam("Upstream image id. Cox Edge ids (`stackId/family/tag`) contain slashes: send them as they are."),
});

export const ImageGetQuerySchema = z.strictObject({
  source: SourceIdSchema.optional().meta({
    description: "Which source's record to return; by default the first source (by id) where the image is present.",
  }),
  // A Cox Edge history request arrives on this route (its id has slashes): its paging parameters too.
  limit: limit(100, 50).optional().meta({ description: "Only for `/images/coxedge/<id>/history`: page size." }),
  cursor: CursorSchema.optional().meta({ description: "Only for `/images/coxedge/<id>/history`: the next page." }),
});

export const SourcePathSchema = z.strictObject({ id: SourceIdSchema });
export const RunListQuerySchema = z.strictObject({ limit: limit(100, 20), cursor: CursorSchema.optional() });

export const JobPathSchema = z.strictObject({ id: JobIdSchema });
export const JobListQuerySchema = z.strictObject({
  state: z.enum(jobStates, { error: `must be one of ${jobStates.join(", ")}` }).optional(),
  provider: ProviderSchema.optional(),
  limit: limit(100, 20),
  cursor: CursorSchema.optional(),
});

export { JobMessageSchema };

export const ImageSummarySchema = z.object({
  provider: z.enum(providers),
  source: z.string(),
  id: z.string(),
  name: z.string(),
  version: z.string().meta({ description: "Triton version; Cox Edge tag." }),
  os: z.string().optional().meta({ description: "Triton os; Cox Edge family." }),
  type: z.string().optional().meta({ description: "Triton type; Cox Edge default or custom." }),
  state: z.enum(commonStates),
  status: z.string().optional().meta({ description: "The upstream's own state word (Triton state, Cox Edge status)." }),
  public: z.boolean().optional(),
  owner: z.string().optional(),
  createdAt: TimestampSchema.optional(),
  publishedAt: TimestampSchema.optional(),
  firstSeenAt: TimestampSchema,
  lastSeenAt: TimestampSchema.meta({ description: "Last sync (or job) that found the image present." }),
  lastChangedAt: TimestampSchema,
  removedAt: TimestampSchema.optional().meta({ description: "Set on tombstones: when the image was found gone." }),
});
export type ImageSummary = z.output<typeof ImageSummarySchema>;

export const ImageListSchema = z.object({
  items: z.array(ImageSummarySchema),
  nextCursor: z.string().optional().meta({
    description: "Present while more may follow (a page can be short, even empty, and still have one).",
  }),
});
export type ImageList = z.output<typeof ImageListSchema>;

export const ImageDetailSchema = ImageSummarySchema.extend({
  description: z.string().optional(),
  requirements: z.record(z.string(), z.unknown()).optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  files: z.array(z.object({ compression: z.string(), sha1: z.string(), size: z.number() })).optional(),
  contentHash: z.string(),
  expiresAt: z.number().int().optional().meta({ description: "Tombstones: epoch seconds when the record is deleted." }),
  raw: z.record(z.string(), z.unknown()).meta({ description: "The upstream document as last read." }),
  seenIn: z
    .array(z.object({ source: z.string(), removedAt: TimestampSchema.optional() }))
    .meta({ description: "Every configured source holding a record of this image id." }),
});
export type ImageDetail = z.output<typeof ImageDetailSchema>;

const RunCounts = z.object({
  seen: z.number().int(),
  added: z.number().int(),
  changed: z.number().int(),
  removed: z.number().int(),
  revived: z.number().int(),
  unchanged: z.number().int(),
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
  snapshotAt: TimestampSchema.optional(),
  upstreamMs: z.number().optional(),
  counts: RunCounts,
  writes: z.number().int(),
  superseded: z.number().int(),
  error: z.string().optional(),
  unstorable: z
    .object({ count: z.number().int(), first: z.string() })
    .optional()
    .meta({ description: "Listed images DynamoDB cannot hold (too deep, an empty key, a number out of range): left as they are, never tombstoned." }),
}) satisfies z.ZodType<SyncRun>;

const LatestRunSchema = SyncRunSchema.extend({
  lastOkRunId: z.string().optional(),
  lastOkAt: TimestampSchema.optional(),
  lastOkSnapshotAt: TimestampSchema.optional(),
  consecutiveFailures: z.number().int().optional().meta({ description: "Failed runs since the last successful one." }),
  firstRunAt: TimestampSchema.optional(),
}) satisfies z.ZodType<LatestRun>;

export const SourceSchema = z.object({
  id: z.string(),
  provider: z.enum(providers),
  /** Triton */
  datacenter: z.string().optional(),
  url: z.string().optional(),
  account: z.string().optional(),
  /** Cox Edge */
  baseUrl: z.string().optional(),
  service: z.string().optional(),
  environment: z.string().optional(),
  organizationId: z.string().optional(),
  latestRun: LatestRunSchema.nullable().meta({ description: "The last finished sync run with its counts; null before the first." }),
});
export type Source = z.output<typeof SourceSchema>;

export const SourceListSchema = z.object({ items: z.array(SourceSchema) });
export type SourceList = z.output<typeof SourceListSchema>;
export const RunListSchema = z.object({ items: z.array(SyncRunSchema), nextCursor: z.string().optional() });

const JobErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  status: z.number().int().optional(),
  upstreamCode: z.string().optional(),
  upstreamMessage: z.string().optional(),
  requestId: z.string().optional(),
});

export const JobSchema = z.object({
  jobId: z.string(),
  state: z.enum(jobStates),
  request: JobMessageSchema.optional().meta({ description: "What the job does (absent on the record of a rejected message)." }),
  attempts: z.number().int(),
  polls: z.number().int(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  submittedAt: TimestampSchema.optional(),
  finishedAt: TimestampSchema.optional(),
  deadlineAt: TimestampSchema.optional(),
  nextCheckAt: TimestampSchema.optional(),
  upstream: z.object({ imageId: z.string().optional(), taskId: z.string().optional() }).optional(),
  result: z
    .object({
      imageId: z.string(),
      export: z.object({ manta_url: z.string(), image_path: z.string(), manifest_path: z.string() }).optional(),
    })
    .optional(),
  error: JobErrorSchema.optional(),
  lastError: JobErrorSchema.optional(),
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

export const JobListSchema = z.object({ items: z.array(JobSchema), nextCursor: z.string().optional() });
export type JobList = z.output<typeof JobListSchema>;
export const JobAcceptedSchema = z.object({
  jobId: z.string(),
  state: z.enum(jobStates) as z.ZodType<JobState>,
  created: z.boolean().meta({ description: "false when a job with this id already existed (idempotent resubmission)." }),
  location: z.string().meta({ description: "Where its state is: GET /jobs/{jobId}." }),
});
export type JobAccepted = z.output<typeof JobAcceptedSchema>;

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  invalidParams: z
    .array(z.object({ name: z.string(), in: z.enum(["query", "path", "body", "header"]), reason: z.string() }))
    .optional(),
});

export const HealthSchema = z.object({ status: z.literal("ok") });

const isoTime = (description: string) =>
  z.iso.datetime({ offset: true, error: "must be an ISO-8601 time like 2026-05-01T12:00:00Z" }).meta({ description });

export const ChangeListQuerySchema = z
  .strictObject({
    since: isoTime("Oldest change to return (inclusive). Default: 7 days before `until`.").optional(),
    until: isoTime("Newest change to return (exclusive). Default: now.").optional(),
    provider: ProviderSchema.optional(),
    source: SourceIdSchema.optional(),
    kind: z.enum(changeKinds, { error: `must be one of ${changeKinds.join(", ")}` }).optional(),
    limit: limit(100, 50),
    cursor: CursorSchema.optional(),
  })
  .transform((query, context) => {
    const until = new Date(query.until ?? Date.now());
    const since = query.since === undefined ? new Date(until.getTime() - 7 * 86_400_000) : new Date(query.since);
    if (since >= until) context.addIssue({ code: "custom", path: ["since"], message: "must be before until" });
    else if (until.getTime() - since.getTime() > 366 * 86_400_000) context.addIssue({ code: "custom", path: ["since"], message: "must be at most 366 days before until" });
    return { ...query, since: since.toISOString(), until: until.toISOString() };
  });
export type ChangeListQuery = z.output<typeof ChangeListQuerySchema>;

export const HistoryQuerySchema = z.strictObject({
  source: SourceIdSchema.optional().meta({ description: "Only this source's record of the image; by default every source's, merged." }),
  limit: limit(100, 50),
  cursor: CursorSchema.optional(),
});

export const HistoryPathSchema = z.strictObject({
  provider: ProviderSchema,
  id: imageIdParam("Upstream image id. A Cox Edge id's slashes are sent as they are: `/images/coxedge/<stackId>/<family>/<tag>/history`."),
});

export const ChangeSchema = z.object({
  id: z.string().meta({ description: "The change's id (the table stream event it was made from)." }),
  at: TimestampSchema.meta({ description: "When the change was observed upstream." }),
  kind: z.enum(changeKinds),
  provider: z.enum(providers),
  source: z.string(),
  imageId: z.string(),
  name: z.string(),
  version: z.string(),
  fields: z
    .array(z.object({ path: z.string(), old: z.unknown().optional(), new: z.unknown().optional() }))
    .meta({ description: "What changed: paths in the common view (`view.…`) and the upstream document (`raw.…`)." }),
  fieldsTruncated: z.boolean().optional(),
  hashBefore: z.string().optional(),
  hashAfter: z.string().optional(),
  cause: z.string().optional().meta({ description: "`sync:<runId>` or `job:<jobId>`." }),
});
export type Change = z.output<typeof ChangeSchema>;

export const ChangeListSchema = z.object({ items: z.array(ChangeSchema), nextCursor: z.string().optional() });
export type ChangeList = z.output<typeof ChangeListSchema>;

/** The public view of a change record: `source` and `imageId`, as images name them. */
export function changeView(record: ChangeRecord): Change {
  const { sourceId, upstreamId, ...rest } = record;
  return { ...rest, source: sourceId, imageId: upstreamId };
}
