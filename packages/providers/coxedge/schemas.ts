// Response and error-body shapes of the Cox Edge images and tasks API. An added upstream field is harmless
// (images keep it, so the inventory stores the whole upstream document; envelopes drop it); a missing or
// retyped one fails validation with the field's path.
import { z } from "zod";

/** StackPath's own stack, owner of every default image (the images documentation's examples use it). */
export const STACKPATH_STACK_ID = "a8050b2b-39eb-4929-bce5-1af42055903e";

export const IMAGE_STATUSES = ["READY", "PENDING", "PROCESSING", "FAILED", "IMAGE_STATUS_UNKNOWN"] as const;
export const imageStatusSchema = z.enum(IMAGE_STATUSES);
export type ImageStatus = z.infer<typeof imageStatusSchema>;

export const imageSchema = z.looseObject({
  id: z.string().min(1),
  stackId: z.string().min(1),
  family: z.string().min(1),
  tag: z.string().min(1),
  slug: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  description: z.string(),
  reference: z.string(),
  status: imageStatusSchema,
});
export type CoxEdgeImage = z.infer<typeof imageSchema>;

export const imageListResponseSchema = z.object({
  data: z.array(imageSchema),
  metadata: z.object({ recordCount: z.number().int().nonnegative() }),
});
export type ImageListResponse = z.infer<typeof imageListResponseSchema>;

export const imageResponseSchema = z.object({ data: imageSchema });

/** Terminal and running values the provider's own client knows; anything else counts as still running. */
export const TASK_STATUSES = ["PENDING", "SUCCESS", "FAILURE"] as const;
export type KnownTaskStatus = (typeof TASK_STATUSES)[number];

/** What create and delete answer: the task to poll. */
export const taskStartedResponseSchema = z.object({
  taskId: z.string().min(1),
  taskStatus: z.string().min(1),
});
export type TaskStarted = z.infer<typeof taskStartedResponseSchema>;

const taskDataSchema = z.object({
  id: z.string().optional(),
  taskStatus: z.string().min(1),
  result: z.object({ id: z.string().optional() }).optional(),
});

/**
 * `GET /tasks/{id}`. The notes document `data.taskStatus`; the terraform provider's Go model reads
 * `data.status`, so that spelling is accepted as a fallback rather than failing every poll.
 */
export const taskResponseSchema = z.object({
  data: z.preprocess(
    (data) =>
      typeof data === "object" && data !== null && !("taskStatus" in data) && "status" in data
        ? { ...data, taskStatus: (data as { status: unknown }).status }
        : data,
    taskDataSchema,
  ),
});
export type CoxEdgeTask = z.infer<typeof taskResponseSchema>["data"];

/** CloudMC-style error body: a list of `{code, message, field?}` and/or a single `message`. */
export const errorBodySchema = z.object({
  errors: z
    .array(z.object({ code: z.string().optional(), message: z.string().optional(), field: z.string().optional() }))
    .optional(),
  message: z.string().optional(),
});
export type CoxEdgeErrorBody = z.infer<typeof errorBodySchema>;
