/**
 * What the engine asks of a provider for one job. Each method makes the upstream calls for one step and
 * says where the job stands; upstream errors are thrown as the typed errors of packages/providers/http.
 */
import type { JobError, JobResult } from "../store/jobs";
import type { UpstreamDocument } from "../store/normalise";
import type { UpstreamError } from "../providers/http";

/**
 * How the job's image changed upstream, to write to the inventory at once: under the job's source, or
 * under `sourceId` when the image now lives in another source (a Triton copy's target).
 */
export type InventoryRefresh = { kind: "upsert"; document: UpstreamDocument; sourceId?: string } | { kind: "remove"; imageId: string };

export type Progress =
  | { kind: "running"; upstream: { imageId?: string; taskId?: string } }
  | { kind: "succeeded"; result: JobResult; refresh?: InventoryRefresh }
  | { kind: "failed"; error: JobError; refresh?: InventoryRefresh };

export interface JobOperations {
  /**
   * Read before the first submission: ids of existing images the job's result could be mistaken for
   * when reconciling (same Triton name and version, same Cox Edge family and tag). Undefined when the
   * action does not create an image.
   */
  preexistingImageIds(): Promise<string[] | undefined>;
  /** The one upstream call that has an effect. */
  submit(): Promise<Progress>;
  /**
   * After an attempt whose outcome is unknown (a crash or a failed call): finds what it did upstream.
   * Undefined means it did nothing and submitting again is safe.
   */
  reconcile(): Promise<Progress | undefined>;
  /** One status check of a running job. */
  check(): Promise<Progress>;
}

/** The job error for an upstream refusal: the upstream's own status, code and message, verbatim. */
export function upstreamJobError(error: UpstreamError): JobError {
  return {
    code: error.name,
    message: error.message,
    status: error.status,
    upstreamCode: error.code,
    upstreamMessage: error.upstreamMessage,
    requestId: error.requestId,
  };
}
