/**
 * Triton jobs. CreateImageFromMachine answers at once with a `creating` image that is polled with
 * GetImage until `active` or `failed`; clone, update, export and delete are synchronous. A copy is
 * ImportImageFromDatacenter on the target datacenter: CloudAPI holds that call until the copy is done (up
 * to an hour), so the job waits only `copyWaitMs` for it and otherwise polls GetImage there for the uuid.
 */
import { UpstreamConflictError, UpstreamNetworkError, UpstreamNotFoundError } from "../providers/http";
import type { TritonClient } from "../providers/triton/client";
import type { TritonImage } from "../providers/triton/schemas";
import type { JobOperations, Progress } from "./operations";
import type { JobRecord, TritonJobRequest } from "./schema";

/** A configured Triton source as a job uses it. */
export interface TritonJobSource {
  id: string;
  /** The datacenter's name, as ImportImageFromDatacenter names the datacenter to copy from. */
  datacenter: string;
  client: TritonClient;
}

export interface TritonJobClients {
  /** The job's own source. */
  source: TritonJobSource;
  /** A copy's target; undefined when no source with that id is configured. */
  target?: TritonJobSource;
  /** How long a copy call may hold the worker before the job polls instead. */
  copyWaitMs: number;
}

/** Where an image stands: still `creating`, or done with its final document for the source's inventory. */
function imageProgress(image: TritonImage, sourceId?: string): Progress {
  if (image.state === "creating") return { kind: "running", upstream: { imageId: image.id } };
  const refresh = { kind: "upsert", document: { provider: "triton", image }, sourceId } as const;
  if (image.state === "failed") {
    const cause = image.error ? `(${image.error.code}) ${image.error.message}` : "no error given";
    return {
      kind: "failed",
      error: {
        code: "ImageFailed",
        message: `image ${image.id} (${image.name}@${image.version}) failed: ${cause}`,
        upstreamCode: image.error?.code,
        upstreamMessage: image.error?.message,
      },
      refresh,
    };
  }
  return { kind: "succeeded", result: { imageId: image.id }, refresh };
}

async function getImageOrUndefined(client: TritonClient, imageId: string): Promise<TritonImage | undefined> {
  try {
    return await client.getImage(imageId);
  } catch (error) {
    if (error instanceof UpstreamNotFoundError) return undefined;
    throw error;
  }
}

export function tritonOperations(clients: TritonJobClients, request: TritonJobRequest, job: JobRecord): JobOperations {
  const { client } = clients.source;
  const copy = request.action === "copy" ? copyOperations(clients, request.params) : undefined;

  /** Images named like the one a create or clone makes: CloudAPI has no idempotency token to search by. */
  async function namesakes(): Promise<TritonImage[]> {
    const imageId = "imageId" in request.params ? request.params.imageId : "";
    const { name, version } = request.action === "create" ? request.params : await client.getImage(imageId);
    return client.listImages({ name, version, state: "all" });
  }

  return {
    async preexistingImageIds() {
      if (request.action !== "create" && request.action !== "clone") return undefined;
      return (await namesakes()).map((image) => image.id);
    },

    async submit() {
      switch (request.action) {
        case "create":
          return imageProgress(await client.createImageFromMachine(request.params));
        case "clone":
          return imageProgress(await client.cloneImage(request.params.imageId));
        case "update": {
          const updated = await client.updateImage(request.params.imageId, request.params.fields);
          return { kind: "succeeded", result: { imageId: updated.id }, refresh: { kind: "upsert", document: { provider: "triton", image: updated } } };
        }
        case "export": {
          const exported = await client.exportImage(request.params.imageId, request.params.manta_path);
          return { kind: "succeeded", result: { imageId: request.params.imageId, export: exported } };
        }
        case "delete":
          await client.deleteImage(request.params.imageId);
          return { kind: "succeeded", result: { imageId: request.params.imageId }, refresh: { kind: "remove", imageId: request.params.imageId } };
        case "copy":
          return (copy as CopyOperations).submit();
      }
    },

    async reconcile() {
      switch (request.action) {
        case "create":
        case "clone": {
          const before = new Set(job.upstream?.preexistingImageIds);
          const found = (await namesakes()).find((image) => !before.has(image.id));
          return found && imageProgress(found);
        }
        case "delete": {
          // Still there: the earlier attempt did not delete it, so deleting again is safe.
          if (await getImageOrUndefined(client, request.params.imageId)) return undefined;
          return { kind: "succeeded", result: { imageId: request.params.imageId }, refresh: { kind: "remove", imageId: request.params.imageId } };
        }
        case "copy":
          return (copy as CopyOperations).reconcile();
        case "update":
        case "export":
          // Idempotent upstream (values replace; the export rewrites the same objects): repeating is safe.
          return undefined;
      }
    },

    async check() {
      const imageId = job.upstream?.imageId;
      if (!imageId) throw new Error(`job ${job.jobId} has no image to check`);
      if (copy) return copy.check();
      return imageProgress(await client.getImage(imageId));
    },
  };
}

type CopyOperations = Pick<JobOperations, "submit" | "check"> & { reconcile(): Promise<Progress | undefined> };

function copyOperations(clients: TritonJobClients, params: { imageId: string; targetSource: string }): CopyOperations {
  const { source, target, copyWaitMs } = clients;
  const { imageId, targetSource } = params;
  const copied = (image: TritonImage) => imageProgress(image, targetSource);

  return {
    async submit() {
      if (!target) return { kind: "failed", error: { code: "UnknownSource", message: `no triton source "${targetSource}" is configured` } };
      if (target.datacenter === source.datacenter) {
        const message = `source ${source.id} and targetSource ${target.id} are both datacenter ${source.datacenter}: a copy needs another datacenter`;
        return { kind: "failed", error: { code: "InvalidTarget", message } };
      }
      try {
        return copied(await target.client.importImageFromDatacenter(source.datacenter, imageId, { timeoutMs: copyWaitMs }));
      } catch (error) {
        // Still copying when we stopped waiting: CloudAPI goes on, so follow the image in the target.
        if (error instanceof UpstreamNetworkError && error.code === "ETIMEDOUT") return { kind: "running", upstream: { imageId } };
        // Already there (copied before, or by an earlier attempt whose answer was lost): done.
        if (error instanceof UpstreamConflictError && error.code === "ImageUuidAlreadyExists") return copied(await target.client.getImage(imageId));
        throw error;
      }
    },

    async reconcile() {
      const found = target && (await getImageOrUndefined(target.client, imageId));
      return found && copied(found);
    },

    async check() {
      if (!target) throw new Error(`triton source "${targetSource}" is no longer configured`);
      const found = await getImageOrUndefined(target.client, imageId);
      // Not there yet: the import is still running (it appears when done).
      return found ? copied(found) : { kind: "running", upstream: { imageId } };
    },
  };
}
