/**
 * Cox Edge jobs. Create and delete answer with a task, polled with GetTask until SUCCESS or FAILURE.
 * A job reconciled after a lost answer has no task id; it is then followed through the image itself.
 */
import { taskOutcome, type CoxEdgeClient } from "../providers/coxedge/client";
import type { CoxEdgeImage, TaskStarted } from "../providers/coxedge/schemas";
import { UpstreamConflictError, UpstreamNotFoundError } from "../providers/http";
import type { JobRecord } from "../store/jobs";
import type { JobOperations, Progress } from "./operations";
import type { CoxEdgeJobRequest } from "./schema";

const upsert = (image: CoxEdgeImage) => ({ kind: "upsert", document: { provider: "coxedge", image } }) as const;
const removed = (imageId: string): Progress => ({ kind: "succeeded", result: { imageId }, refresh: { kind: "remove", imageId } });

/** A created image's progress read from the image: building, READY or FAILED. */
function builtImageProgress(image: CoxEdgeImage): Progress {
  if (image.status === "READY") return { kind: "succeeded", result: { imageId: image.id }, refresh: upsert(image) };
  if (image.status === "FAILED") {
    return { kind: "failed", error: { code: "ImageFailed", message: `image ${image.id} failed to build` }, refresh: upsert(image) };
  }
  return { kind: "running", upstream: { imageId: image.id } };
}

export function coxedgeOperations(client: CoxEdgeClient, request: CoxEdgeJobRequest, job: JobRecord): JobOperations {
  /** The custom images with the family and tag the create job asks for (at most one: the pair is unique). */
  async function namesakes(): Promise<CoxEdgeImage[]> {
    if (request.action !== "create") return [];
    const { family, tag } = request.params;
    return (await client.listImages({ imageType: "custom" })).filter((image) => image.family === family && image.tag === tag);
  }

  async function getImageOrUndefined(imageId: string): Promise<CoxEdgeImage | undefined> {
    try {
      return await client.getImage(imageId);
    } catch (error) {
      if (error instanceof UpstreamNotFoundError) return undefined;
      throw error;
    }
  }

  async function checkTask(taskId: string): Promise<Progress> {
    const task = await client.getTask(taskId);
    const outcome = taskOutcome(task.taskStatus);
    if (outcome === "running") return { kind: "running", upstream: { taskId } };
    if (outcome === "failed") {
      return { kind: "failed", error: { code: "TaskFailed", message: `Cox Edge task ${taskId} ended in ${task.taskStatus}`, upstreamCode: task.taskStatus } };
    }
    if (request.action === "delete") return removed(request.params.imageId);
    const imageId = task.result?.id;
    if (!imageId) throw new Error(`Cox Edge task ${taskId} succeeded without result.id`);
    return builtImageProgress(await client.getImage(imageId));
  }

  /** A task that finished before the answer came back is checked at once rather than after a delay. */
  const started = (task: TaskStarted): Promise<Progress> | Progress =>
    taskOutcome(task.taskStatus) === "running" ? { kind: "running", upstream: { taskId: task.taskId } } : checkTask(task.taskId);

  return {
    async preexistingImageIds() {
      return request.action === "create" ? (await namesakes()).map((image) => image.id) : undefined;
    },

    async submit() {
      return started(
        request.action === "create" ? await client.createImage(request.params) : await client.deleteImage(request.params.imageId),
      );
    },

    async reconcile() {
      if (request.action === "create") {
        const before = new Set(job.upstream?.preexistingImageIds);
        const found = (await namesakes()).find((image) => !before.has(image.id));
        return found && builtImageProgress(found);
      }
      const { imageId } = request.params;
      if (!(await getImageOrUndefined(imageId))) return removed(imageId);
      try {
        return await started(await client.deleteImage(imageId));
      } catch (error) {
        // "has a task in progress": the earlier attempt's delete is running; follow the image until it goes.
        if (error instanceof UpstreamConflictError) return { kind: "running", upstream: { imageId } };
        throw error;
      }
    },

    async check() {
      const { taskId, imageId } = job.upstream ?? {};
      if (taskId) return checkTask(taskId);
      if (!imageId) throw new Error(`job ${job.jobId} has neither a task nor an image to check`);
      if (request.action === "create") return builtImageProgress(await client.getImage(imageId));
      return (await getImageOrUndefined(imageId)) ? { kind: "running", upstream: { imageId } } : removed(imageId);
    },
  };
}
