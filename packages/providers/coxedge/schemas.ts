// Response and error-body shapes of the Cox Edge images and tasks API. An added upstream field is harmless
// (images keep it, so the inventory stores the whole upstream document; envelopes drop it); a missing or
// retyped one fails validation with the field's path.
import * as z from "../../core/zod";

/** StackPath's own stack, owner of every default image (the images documentation's examples use it). */
export const stackpathStackId = "a8050b2b-39eb-4929-bce5-1af42055903e";

export const imageStatuses = ["READY", "PENDING", "PROCESSING", "FAILED", "IMAGE_STATUS_UNKNOWN"] as const;
export const ImageStatusSchema = z.enum(imageStatuses);
export type ImageStatus = z.infer<typeof ImageStatusSchema>;


export const CoxEdgeImageSchema = z.looseObject({
  id: z.nonEmptyString(),
  stackId: z.nonEmptyString(),
  family: z.nonEmptyString(),
  tag: z.nonEmptyString(),
  slug: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  description: z.string(),
  reference: z.string(),
  status: ImageStatusSchema,
});
export type CoxEdgeImage = z.infer<typeof CoxEdgeImageSchema>;

export const ImageListResponseSchema = z.object({
  data: z.array(CoxEdgeImageSchema),
  metadata: z.object({ recordCount: z.number().check(z.int(), z.nonnegative()) }),
});
export type ImageListResponse = z.infer<typeof ImageListResponseSchema>;

export const ImageResponseSchema = z.object({ data: CoxEdgeImageSchema });

/**
 * Task statuses known from public sources. Failure has two spellings: `FAILED` in the CloudMC API docs
 * (`source/includes/_getting_started.md`), cloudops/cloudmc-services-js-client `src/PollingResolver.js` and
 * cloud-ca/go-cloudca `services/task.go`; `FAILURE` in coxedge/terraform-provider-coxedge
 * `coxedge/apiclient/tasks.go` and coxedge/cluster-api-provider-coxedge `pkg/cloud/coxedge/client.go`.
 */
export const taskFailureStatuses = ["FAILED", "FAILURE"] as const;
export type TaskFailureStatus = (typeof taskFailureStatuses)[number];
export const taskStatuses = ["PENDING", "SUCCESS", ...taskFailureStatuses] as const;
export type KnownTaskStatus = (typeof taskStatuses)[number];

/** What create and delete answer: the task to poll (its status may already be final). */
export const TaskStartedResponseSchema = z.object({
  taskId: z.nonEmptyString(),
  taskStatus: z.nonEmptyString(),
});
export type TaskStarted = z.infer<typeof TaskStartedResponseSchema>;

/** Accepts a value of the expected type; anything else reads as absent instead of failing the whole body. */
const lenient = <T extends z.ZodMiniType>(schema: T) => z.catch(z.optional(schema), undefined);

const TaskSchema = z.object({
  id: z.nonEmptyString(),
  status: z.nonEmptyString(),
  created: z.optional(z.string()),
  /**
   * Depends on the operation (`result.id` in the terraform client, `result.workloadId` in the cluster-api
   * one); only a string `id` is read, the rest is kept as is, and a null or odd `result` reads as absent.
   */
  result: lenient(z.looseObject({ id: lenient(z.nonEmptyString()) })),
});
/** A task, whichever form it came in. */
export type CoxEdgeTask = z.infer<typeof TaskSchema>;

/** The flat `{taskId, taskStatus, result?}` form rewritten as the documented `{data: {id, status, result}}`. */
function wrapFlatTask(body: unknown): unknown {
  if (typeof body !== "object" || body === null || "data" in body || !("taskId" in body)) return body;
  const { taskId, taskStatus, result } = body as Record<string, unknown>;
  return { data: { id: taskId, status: taskStatus, result } };
}

/**
 * `GET /tasks/{id}`: `{"data":{"id","status","created","result"}}` in every client (terraform, cluster-api,
 * the vendor's JS client, go-cloudca); one generic CloudMC docs section shows the flat form, accepted too.
 * Both are read through one schema, so a mismatch names the documented field (`data.status`).
 */
export const TaskResponseSchema = z.pipe(
  z.pipe(z.transform(wrapFlatTask), z.object({ data: TaskSchema })),
  z.transform(({ data }) => data),
);

/**
 * One CloudMC error: `{code: <integer>, message, context}` in the docs; newer bodies add a string
 * `errorCode`; an older form had a string `code` and a `field`. Each field is read leniently so that an
 * unexpected one never costs the message.
 */
const ErrorItemSchema = z.object({
  code: lenient(z.union([z.int(), z.string()])),
  errorCode: lenient(z.string()),
  message: lenient(z.string()),
  field: lenient(z.string()),
  context: lenient(z.record(z.string(), z.unknown())),
});
export type CoxEdgeErrorItem = z.infer<typeof ErrorItemSchema>;

/** CloudMC error body: `errors: [...]` and/or a single `message`; never fails (a non-object reads as empty). */
export const ErrorBodySchema = z.catch(
  z.object({
    errors: lenient(z.array(z.catch(ErrorItemSchema, {}))),
    message: lenient(z.string()),
  }),
  {},
);
