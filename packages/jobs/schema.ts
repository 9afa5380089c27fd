/**
 * What travels on the job queue, validated with zod. Two kinds of message share the queue:
 * - a job message (submitted by users or the HTTP API): which provider, source, action and parameters;
 * - a continuation `{jobId, seq}` the worker sends itself to retry or poll a job later (docs/jobs.md).
 * Every rejection names the offending field, e.g. `params.machine: is required`.
 */
import * as z from "../core/zod";
import { describeIssues } from "../core/issues";
import { storabilityProblem, type StorabilityProblem } from "../core/storable";
import type { JobRecord as StoredJobRecord } from "../store/jobs";
import { CreateImageRequestSchema as coxedgeCreateParams } from "../providers/coxedge/validation";

/** Type errors read "is required" or "must be ..."; other issues (e.g. unknown keys) keep zod's message. */
const required = (what: string) => ({
  error: (issue: { code?: string; input?: unknown }) =>
    issue.code !== "invalid_type" ? undefined : issue.input === undefined ? "is required" : `must be ${what}`,
});
const text = () => z.string(required("a string")).check(z.minLength(1, "must not be empty"));
const uuid = () => z.guid({ error: (issue) => (issue.input === undefined ? "is required" : "must be a UUID") });
/** CloudAPI knows an image or machine only by its lower-case uuid (an upper-case one is a 404), so ids are lower-cased. */
const tritonId = () => z.pipe(uuid(), z.transform((id) => id.toLowerCase()));
/** `null` removes the field upstream (UpdateImage semantics). */
const nullableText = () => z.nullable(z.string("must be a string or null"));

/** A client-supplied idempotency key: the same id never runs twice. */
export const JobIdSchema = z
  .string(required("a string"))
  .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be 1-128 chars of A-Z, a-z, 0-9, '.', '_', ':' or '-', starting alphanumeric"));

const TritonAclSchema = z.array(uuid(), "must be an array of account UUIDs");
const TritonTagsSchema = z.record(z.string(), z.unknown(), "must be an object");

const TritonCreateParamsSchema = z.strictObject(
  {
    machine: tritonId(),
    name: text(),
    version: text(),
    description: z.optional(z.string("must be a string")),
    homepage: z.optional(z.string("must be a string")),
    eula: z.optional(z.string("must be a string")),
    acl: z.optional(TritonAclSchema),
    tags: z.optional(TritonTagsSchema),
  },
  required("an object"),
);

const TritonImageParamsSchema = z.strictObject({ imageId: tritonId() }, required("an object"));

const TritonUpdateFieldsSchema = z
  .strictObject(
    {
      name: z.optional(text()),
      version: z.optional(text()),
      description: z.optional(nullableText()),
      homepage: z.optional(nullableText()),
      eula: z.optional(nullableText()),
      acl: z.optional(z.nullable(TritonAclSchema)),
      tags: z.optional(z.nullable(TritonTagsSchema)),
    },
    required("an object"),
  )
  .check(z.refine((fields) => Object.keys(fields).length > 0, "must change at least one field"));

const TritonUpdateParamsSchema = z.strictObject({ imageId: tritonId(), fields: TritonUpdateFieldsSchema }, required("an object"));

/** ImportImageFromDatacenter into `targetSource`, another configured Triton source (datacenter) of the account. */
const TritonCopyParamsSchema = z.strictObject({ imageId: tritonId(), targetSource: text() }, required("an object"));

const TritonExportParamsSchema = z.strictObject(
  {
    imageId: tritonId(),
    manta_path: text().check(z.regex(/^\/[^/]+\/.+/, "must be a Manta path like /<account>/stor/images/name")),
  },
  required("an object"),
);

/** Cox Edge image ids are `stackId/family/tag`. */
const CoxEdgeImageParamsSchema = z.strictObject(
  { imageId: text().check(z.regex(/^[^/]+\/[^/]+\/[^/]+$/, "must be a Cox Edge image id stackId/family/tag")) },
  required("an object"),
);

const job = <P extends string, A extends string, S extends z.ZodMiniType>(provider: P, action: A, params: S) =>
  z.strictObject({
    jobId: z.optional(JobIdSchema),
    provider: z.literal(provider),
    source: text(),
    action: z.literal(action),
    params,
  });

const actionError = (actions: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? "is required" : `unknown action, expected one of ${actions}`),
});

const TritonJobSchema = z.discriminatedUnion(
  "action",
  [
    job("triton", "create", TritonCreateParamsSchema),
    job("triton", "clone", TritonImageParamsSchema),
    job("triton", "delete", TritonImageParamsSchema),
    job("triton", "update", TritonUpdateParamsSchema),
    job("triton", "export", TritonExportParamsSchema),
    job("triton", "copy", TritonCopyParamsSchema),
  ],
  actionError("create, clone, delete, update, export, copy"),
);

const CoxEdgeJobSchema = z.discriminatedUnion(
  "action",
  // Same family/tag rules the Cox Edge client and simulator enforce, from one definition.
  [job("coxedge", "create", z.strictObject(coxedgeCreateParams.shape, required("an object"))), job("coxedge", "delete", CoxEdgeImageParamsSchema)],
  actionError("create, delete"),
);

/**
 * Beyond its shape, a job must fit where it goes: the job record in DynamoDB and the queue (see
 * core/storable), in at most 16 levels and 64 KiB of JSON. A job that does not is refused naming the field,
 * rather than failing once recorded or queued.
 */
const maxMessageBytes = 64 * 1024;
const maxDepth = 16;

/** The biggest field, one level into `params`, to name when the whole message is too large. */
function largestField(value: object, path: PropertyKey[] = []): PropertyKey[] {
  const sizes = Object.entries(value).map(([key, child]) => ({ key, child, size: JSON.stringify(child)?.length ?? 0 }));
  const largest = sizes.reduce<(typeof sizes)[number] | undefined>((best, entry) => (best && best.size >= entry.size ? best : entry), undefined);
  if (!largest) return path;
  const at = [...path, largest.key];
  return typeof largest.child === "object" && largest.child !== null && at.length < 2 ? largestField(largest.child, at) : at;
}

function oversized(message: object): StorabilityProblem | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(message));
  if (bytes <= maxMessageBytes) return undefined;
  return { path: largestField(message), message: `makes the job ${bytes} bytes of JSON, over the ${maxMessageBytes} a job may have` };
}

/** A job as users and the HTTP API submit it. */
export const JobMessageSchema = z
  .discriminatedUnion("provider", [TritonJobSchema, CoxEdgeJobSchema], {
    error: (issue) => (issue.input === undefined ? "is required" : "unknown provider, expected triton or coxedge"),
  })
  .check(
    z.superRefine((message, context) => {
      const problem = storabilityProblem(message, maxDepth) ?? oversized(message);
      if (problem) context.addIssue({ code: "custom", path: problem.path, message: problem.message });
    }),
  );
export type JobMessage = z.output<typeof JobMessageSchema>;
/** The job itself, without its id. */
export type JobRequest = DistributiveOmit<JobMessage, "jobId">;
export type TritonJobRequest = Extract<JobRequest, { provider: "triton" }>;
export type CoxEdgeJobRequest = Extract<JobRequest, { provider: "coxedge" }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A job record as the jobs layer reads and writes it. */
export type JobRecord = StoredJobRecord<JobRequest>;

/** The worker's own follow-up for a job: step `seq` (1, 2, ...) retries or polls it. */
export const ContinuationMessageSchema = z.strictObject({
  jobId: JobIdSchema,
  seq: z.number(required("a number")).check(z.int("must be an integer"), z.gte(1, "must be at least 1")),
});
export type ContinuationMessage = z.output<typeof ContinuationMessageSchema>;

export type QueueMessage = { kind: "job"; message: JobMessage } | { kind: "continuation"; message: ContinuationMessage };

export type ParsedQueueMessage =
  | { ok: true; value: QueueMessage }
  /** `jobId` when the body names a well-formed one, so the rejection can be recorded on the job. */
  | { ok: false; error: string; jobId?: string };

/** Parses a queue message body; a continuation is recognised by its `seq` field. */
export function parseQueueMessage(body: string): ParsedQueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, error: `body is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, error: "body must be a JSON object" };
  }
  const jobId = JobIdSchema.safeParse((json as { jobId?: unknown }).jobId);
  const named = jobId.success ? { jobId: jobId.data } : {};
  if ("seq" in json) {
    const parsed = ContinuationMessageSchema.safeParse(json);
    return parsed.success
      ? { ok: true, value: { kind: "continuation", message: parsed.data } }
      : { ok: false, error: describeIssues(parsed.error), ...named };
  }
  const parsed = JobMessageSchema.safeParse(json);
  return parsed.success
    ? { ok: true, value: { kind: "job", message: parsed.data } }
    : { ok: false, error: describeIssues(parsed.error), ...named };
}

/** The request part of a job message (what must match when a job id is reused). */
export function jobRequest(message: JobMessage): JobRequest {
  const { jobId: _jobId, ...request } = message;
  return request as JobRequest;
}
