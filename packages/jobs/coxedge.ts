/**
 * Cox Edge jobs. Create and delete answer with a task, polled with GetTask until it succeeds or fails; an
 * answer that is already final is taken as it is, without polling. Tasks live about 30 minutes, so a task
 * that is gone (404), a SUCCESS without an image id and a job reconciled after a lost answer are decided
 * from the image itself, never from a 409 (no public source documents one).
 */
import { logger } from "../core/observability";
import { isKnownTaskStatus, taskOutcome, type CoxEdgeClient } from "../providers/coxedge/client";
import type { CoxEdgeImage, CoxEdgeTask, TaskStarted } from "../providers/coxedge/schemas";
import { UpstreamError, UpstreamNotFoundError } from "../providers/http";
import { upstreamJobError, type JobOperations, type Progress } from "./operations";
import type { CoxEdgeJobRequest, JobRecord } from "./schema";

type CreateParams = Extract<CoxEdgeJobRequest, { action: "create" }>["params"];

/**
 * Status checks a delete follows its image after its repeated DELETE was refused, before asking once more:
 * the lost attempt's task may still be removing the image. With the default backoff (1, 2, 4 ... s) the
 * grace lasts about 4 to 8 minutes; counted in checks, it needs no new field on the job record.
 */
export const deleteRefusalGraceChecks = 8;

/** What a task's final status leads to: the create's image, or the deleted image's removal. */
interface TaskEnd {
  succeeded(taskId: string, resultImageId: string | undefined): Promise<Progress> | Progress;
  /** GetTask answered 404: tasks live about 30 minutes, so this says nothing about the outcome. */
  gone(taskId: string): Promise<Progress>;
}

const upsert = (image: CoxEdgeImage) => ({ kind: "upsert", document: { provider: "coxedge", image } }) as const;
const removed = (imageId: string): Progress => ({ kind: "succeeded", result: { imageId }, refresh: { kind: "remove", imageId } });
const failed = (code: string, message: string): Progress => ({ kind: "failed", error: { code, message } });
const taskGoneText = (taskId: string) => `Cox Edge task ${taskId} is gone (tasks live about 30 minutes)`;

/** A created image's progress read from the image: building, READY or FAILED. */
function builtImageProgress(image: CoxEdgeImage): Progress {
  if (image.status === "READY") return { kind: "succeeded", result: { imageId: image.id }, refresh: upsert(image) };
  if (image.status === "FAILED") {
    return { kind: "failed", error: { code: "ImageFailed", message: `image ${image.id} failed to build` }, refresh: upsert(image) };
  }
  // Followed through the image from now on: its task, if it had one, may be gone.
  return { kind: "running", upstream: { imageId: image.id, taskId: undefined } };
}

/** Where a task stands from its status (SUCCESS, FAILED or FAILURE in any case; anything else runs). */
function taskProgress(taskId: string, status: string, end: TaskEnd, resultImageId?: string): Promise<Progress> | Progress {
  if (!isKnownTaskStatus(status)) logger.warn("unknown Cox Edge task status, treated as running", { taskId, status });
  const outcome = taskOutcome(status);
  if (outcome === "running") return { kind: "running", upstream: { taskId } };
  if (outcome === "failed") {
    return { kind: "failed", error: { code: "TaskFailed", message: `Cox Edge task ${taskId} ended in ${status}`, upstreamCode: status } };
  }
  return end.succeeded(taskId, resultImageId);
}

/** The create or delete answer: a final status is taken at once (no GetTask), else the task is polled. */
function startedProgress(started: TaskStarted, end: TaskEnd): Promise<Progress> | Progress {
  return taskProgress(started.taskId, started.taskStatus, end);
}

async function checkTask(client: CoxEdgeClient, taskId: string, end: TaskEnd): Promise<Progress> {
  let task: CoxEdgeTask;
  try {
    task = await client.getTask(taskId);
  } catch (error) {
    if (error instanceof UpstreamNotFoundError) return end.gone(taskId);
    throw error;
  }
  return taskProgress(task.id, task.status, end, task.result?.id);
}

/** A refusal of the request itself: a 4xx other than 429 (throttling is retried like a 5xx). */
function isRefusal(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError && !error.retryable && error.status !== undefined && error.status >= 400 && error.status < 500;
}

export function coxedgeOperations(client: CoxEdgeClient, request: CoxEdgeJobRequest, job: JobRecord): JobOperations {
  return request.action === "create" ? createOperations(client, request.params, job) : deleteOperations(client, request.params.imageId, job);
}

function createOperations(client: CoxEdgeClient, params: CreateParams, job: JobRecord): JobOperations {
  const { family, tag } = params;

  /** The custom images with the job's family and tag (at most one: the pair is unique). */
  async function namesakes(): Promise<CoxEdgeImage[]> {
    return (await client.listImages({ imageType: "custom" })).filter((image) => image.family === family && image.tag === tag);
  }

  /** The job's image found by family and tag; one that existed before the job is not it. */
  async function newNamesake(): Promise<CoxEdgeImage | undefined> {
    const before = new Set(job.upstream?.preexistingImageIds);
    return (await namesakes()).find((image) => !before.has(image.id));
  }

  /** When no task names the image: the image by family and tag, or a failure saying why there is none. */
  async function imageByName(code: string, why: string): Promise<Progress> {
    const image = await newNamesake();
    return image ? builtImageProgress(image) : failed(code, `${why}, and no image with family ${family} and tag ${tag} exists`);
  }

  const end: TaskEnd = {
    async succeeded(taskId, resultImageId) {
      if (resultImageId) return builtImageProgress(await client.getImage(resultImageId));
      // What an image task's result holds is undocumented.
      return imageByName("ImageMissing", `Cox Edge task ${taskId} succeeded without an image id in its result`);
    },
    gone: (taskId) => imageByName("TaskExpired", taskGoneText(taskId)),
  };

  return {
    async preexistingImageIds() {
      return (await namesakes()).map((image) => image.id);
    },

    async submit() {
      return startedProgress(await client.createImage(params), end);
    },

    async reconcile() {
      const found = await newNamesake();
      return found && builtImageProgress(found);
    },

    async check() {
      const { taskId, imageId } = job.upstream ?? {};
      if (taskId) return checkTask(client, taskId, end);
      if (imageId) return builtImageProgress(await client.getImage(imageId));
      throw new Error(`job ${job.jobId} has neither a task nor an image to check`);
    },
  };
}

function deleteOperations(client: CoxEdgeClient, imageId: string, job: JobRecord): JobOperations {
  const followImage: Progress = { kind: "running", upstream: { imageId } };

  async function imageExists(): Promise<boolean> {
    try {
      await client.getImage(imageId);
      return true;
    } catch (error) {
      if (error instanceof UpstreamNotFoundError) return false;
      throw error;
    }
  }

  const end: TaskEnd = {
    succeeded: () => removed(imageId),
    async gone(taskId) {
      return (await imageExists()) ? failed("TaskExpired", `${taskGoneText(taskId)}, and image ${imageId} still exists`) : removed(imageId);
    },
  };

  /** DELETE for an image known to exist; a refusal (400 "task in progress", or 409 on servers that use it) goes to `onRefusal`. */
  async function deleteAgain(onRefusal: (refusal: UpstreamError) => Progress): Promise<Progress> {
    try {
      return await startedProgress(await client.deleteImage(imageId), end);
    } catch (error) {
      if (error instanceof UpstreamNotFoundError) return removed(imageId);
      if (isRefusal(error)) return onRefusal(error);
      throw error;
    }
  }

  return {
    async preexistingImageIds() {
      return undefined;
    },

    async submit() {
      return startedProgress(await client.deleteImage(imageId), end);
    },

    async reconcile() {
      if (!(await imageExists())) return removed(imageId);
      // Still there: the lost attempt did nothing, or its task is still removing the image, in which case the
      // repeat is refused; then the image is followed for a while instead.
      return deleteAgain(() => followImage);
    },

    async check() {
      const { taskId } = job.upstream ?? {};
      if (taskId) return checkTask(client, taskId, end);
      if (!job.upstream?.imageId) throw new Error(`job ${job.jobId} has neither a task nor an image to check`);
      if (!(await imageExists())) return removed(imageId);
      if (job.polls + 1 < deleteRefusalGraceChecks) return followImage;
      // Still there after the grace: ask once more; a refusal now fails the job with the upstream's own message.
      return deleteAgain((refusal) => ({ kind: "failed", error: upstreamJobError(refusal) }));
    },
  };
}
