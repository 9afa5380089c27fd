/**
 * Triton jobs. CreateImageFromMachine answers at once with a `creating` image that is polled with
 * GetImage until `active` or `failed`; clone, update, export and delete are synchronous.
 */
import { UpstreamNotFoundError } from "../providers/http";
import type { TritonClient } from "../providers/triton/client";
import type { TritonImage } from "../providers/triton/schemas";
import type { JobRecord } from "../store/jobs";
import type { JobOperations, Progress } from "./operations";
import type { TritonJobRequest } from "./schema";

const upsert = (image: TritonImage) => ({ kind: "upsert", document: { provider: "triton", image } }) as const;

/** Where a new image stands: still `creating`, or done with its final document for the inventory. */
function imageProgress(image: TritonImage): Progress {
  if (image.state === "creating") return { kind: "running", upstream: { imageId: image.id } };
  const refresh = upsert(image);
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

export function tritonOperations(client: TritonClient, request: TritonJobRequest, job: JobRecord): JobOperations {
  /** Images named like the one a create or clone makes: CloudAPI has no idempotency token to search by. */
  async function namesakes(): Promise<TritonImage[]> {
    const { name, version } = request.action === "create" ? request.params : await client.getImage(request.params.imageId);
    return client.listImages({ name, version, state: "all" });
  }

  async function newNamesake(): Promise<TritonImage | undefined> {
    const before = new Set(job.upstream?.preexistingImageIds);
    return (await namesakes()).find((image) => !before.has(image.id));
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
          return { kind: "succeeded", result: { imageId: updated.id }, refresh: upsert(updated) };
        }
        case "export": {
          const exported = await client.exportImage(request.params.imageId, request.params.manta_path);
          return { kind: "succeeded", result: { imageId: request.params.imageId, export: exported } };
        }
        case "delete":
          await client.deleteImage(request.params.imageId);
          return { kind: "succeeded", result: { imageId: request.params.imageId }, refresh: { kind: "remove", imageId: request.params.imageId } };
      }
    },

    async reconcile() {
      switch (request.action) {
        case "create":
        case "clone": {
          const found = await newNamesake();
          return found && imageProgress(found);
        }
        case "delete":
          try {
            await client.getImage(request.params.imageId);
            return undefined; // still there: the earlier attempt did not delete it
          } catch (error) {
            if (!(error instanceof UpstreamNotFoundError)) throw error;
            return { kind: "succeeded", result: { imageId: request.params.imageId }, refresh: { kind: "remove", imageId: request.params.imageId } };
          }
        case "update":
        case "export":
          // Idempotent upstream (values replace; the export rewrites the same objects): repeating is safe.
          return undefined;
      }
    },

    async check() {
      const imageId = job.upstream?.imageId;
      if (!imageId) throw new Error(`job ${job.jobId} has no image to check`);
      return imageProgress(await client.getImage(imageId));
    },
  };
}
