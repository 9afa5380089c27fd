// Client for the Cox Edge images and tasks API, one method per endpoint, on the shared HTTP layer
// (keep-alive, timeouts, retries with backoff honouring Retry-After, concurrency limit, typed errors).
import {
  errorForStatus,
  HttpClient,
  UpstreamResponseError,
  type RetryOptions,
  type UpstreamError,
  type UpstreamErrorResponse,
} from "../http";
import {
  ErrorBodySchema,
  ImageListResponseSchema,
  ImageResponseSchema,
  TaskResponseSchema,
  TaskStartedResponseSchema,
  taskFailureStatuses,
  taskStatuses,
  type CoxEdgeErrorItem,
  type CoxEdgeImage,
  type CoxEdgeTask,
  type TaskStarted,
} from "./schemas";
import { checkCreateImageRequest, type CreateImageRequest, type FieldProblem } from "./validation";

export interface CoxEdgeClientOptions {
  /** API base, e.g. https://portal.coxedge.com/api/v2 (UAT deployments use another host). */
  baseUrl: string;
  /** Service code, e.g. "edge-services". */
  service: string;
  /** Environment name, e.g. "test-area". */
  environment: string;
  /** Sent as MC-Api-Key; never logged nor put in errors. */
  apiKey: string;
  /** Sent as the `org_id` query parameter on every call (tasks included) when set; omitted, the key's own organisation. */
  organizationId?: string;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  /** Attempts per call including the first. Default 4. */
  maxAttempts?: number;
  /** Max requests in flight to this source. Default 8. */
  concurrency?: number;
  retry?: Omit<RetryOptions, "maxAttempts">;
  onRetry?: (event: { attempt: number; delayMs: number; error: UpstreamError }) => void;
}

/** Thrown before any request when createImage's input breaks the documented rules. */
export class CoxEdgeRequestValidationError extends Error {
  override name = "CoxEdgeRequestValidationError";
  /** The first offending field, e.g. "family". */
  readonly field: string;

  constructor(readonly problems: FieldProblem[]) {
    super(`coxedge CreateImage: invalid request: ${problems.map((problem) => problem.message).join("; ")}`);
    this.field = problems[0]?.field ?? "body";
  }
}

/** How a task status reads, in any letter case: SUCCESS, FAILED or FAILURE (both spellings are in use), else running. */
export function taskOutcome(taskStatus: string): "running" | "succeeded" | "failed" {
  const status = taskStatus.toUpperCase();
  if (status === "SUCCESS") return "succeeded";
  if ((taskFailureStatuses as readonly string[]).includes(status)) return "failed";
  return "running";
}

/** Whether the status (in any letter case) is one the API is known to send; callers log the others. */
export function isKnownTaskStatus(taskStatus: string): boolean {
  return (taskStatuses as readonly string[]).includes(taskStatus.toUpperCase());
}

export class CoxEdgeClient {
  private readonly http: HttpClient;
  private readonly imagesPath: string;
  private readonly organizationId: string | undefined;

  constructor(options: CoxEdgeClientOptions) {
    const { apiKey } = options;
    this.organizationId = options.organizationId;
    this.imagesPath = `/services/${encodeURIComponent(options.service)}/${encodeURIComponent(options.environment)}/images`;
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      source: "coxedge",
      timeoutMs: options.timeoutMs,
      concurrency: options.concurrency,
      retry: { ...options.retry, maxAttempts: options.maxAttempts },
      authorize: () => ({ "mc-api-key": apiKey }),
      // The key travels verbatim, so an upstream can echo it back anywhere in an answer.
      redact: (text) => (apiKey === "" ? text : text.replaceAll(apiKey, "[redacted]")),
      mapError: (response) => mapCoxEdgeError(response, apiKey),
      onRetry: options.onRetry,
    });
  }

  /** Images of the environment: `default` (StackPath's), `custom`, or all when omitted. */
  async listImages(filter: { imageType?: "default" | "custom" } = {}): Promise<CoxEdgeImage[]> {
    return (await this.listImagesWithDigest(filter)).images;
  }

  /** ListImages, with the SHA-256 of the response body: the same digest is the same listing, byte for byte. */
  async listImagesWithDigest(filter: { imageType?: "default" | "custom" } = {}): Promise<{ images: CoxEdgeImage[]; bodyDigest: string }> {
    const operation = "ListImages";
    const response = await this.http.request({
      operation,
      method: "GET",
      path: this.imagesPath,
      query: this.query({ imageType: filter.imageType }),
      schema: ImageListResponseSchema,
    });
    const { data, metadata } = response.data;
    // No paging is documented; a count above what came back would mean a partial list, and a
    // partial list would make the sync delete images that still exist.
    if (metadata.recordCount > data.length) {
      throw new UpstreamResponseError(
        {
          source: "coxedge",
          operation,
          method: "GET",
          path: this.imagesPath,
          status: response.status,
          retryable: false,
          issuePath: "metadata.recordCount",
        },
        `unexpected response body at metadata.recordCount: ${metadata.recordCount} records but ${data.length} returned`,
      );
    }
    return { images: data, bodyDigest: response.bodyDigest };
  }

  /** One image by its id, `stackId/family/tag`. */
  async getImage(id: string): Promise<CoxEdgeImage> {
    const response = await this.http.request({
      operation: "GetImage",
      method: "GET",
      path: this.imagePath(id),
      query: this.query(),
      schema: ImageResponseSchema,
    });
    return response.data.data;
  }

  /** Starts building a custom image from a VM instance; poll the returned task. */
  async createImage(request: CreateImageRequest): Promise<TaskStarted> {
    const check = checkCreateImageRequest(request);
    if (!check.ok) throw new CoxEdgeRequestValidationError(check.problems);
    const response = await this.http.request({
      operation: "CreateImage",
      method: "POST",
      path: this.imagesPath,
      query: this.query(),
      body: check.request,
      schema: TaskStartedResponseSchema,
    });
    return response.data;
  }

  /** Deletes a custom image; poll the returned task. */
  async deleteImage(id: string): Promise<TaskStarted> {
    const response = await this.http.request({
      operation: "DeleteImage",
      method: "DELETE",
      path: this.imagePath(id),
      query: this.query(),
      schema: TaskStartedResponseSchema,
    });
    return response.data;
  }

  /**
   * Status of a create/delete task, in either body form. On SUCCESS `result.id` may be the image id.
   * Tasks live about 30 minutes, then this answers 404 (UpstreamNotFoundError).
   */
  async getTask(taskId: string): Promise<CoxEdgeTask> {
    if (taskId === "") throw new TypeError("coxedge GetTask: empty task id");
    const response = await this.http.request({
      operation: "GetTask",
      method: "GET",
      path: `/tasks/${encodeURIComponent(taskId)}`,
      query: this.query(),
      schema: TaskResponseSchema,
    });
    return response.data;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** The organisation goes on every call, tasks included, as `org_id` (the CloudMC docs' name for it). */
  private query(parameters: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return { ...parameters, org_id: this.organizationId };
  }

  /** The id's slashes stay path separators (it is the rest of the path); each part is encoded. */
  private imagePath(id: string): string {
    const segments = id.split("/");
    if (segments.some((segment) => segment === "")) throw new TypeError(`coxedge: invalid image id ${JSON.stringify(id)}`);
    return `${this.imagesPath}/${segments.map(encodeURIComponent).join("/")}`;
  }
}

/**
 * Maps CloudMC error bodies to typed errors: every `errors[].message` (and a top-level `message`) becomes
 * the upstream message, the first error's code the string `code` (`errorCode` when given, else the
 * integer `code`, e.g. "2012"). The API key is scrubbed from messages in case an error echoes it.
 */
export function mapCoxEdgeError({ body, details }: UpstreamErrorResponse, apiKey: string): UpstreamError {
  const { errors = [], message } = ErrorBodySchema.parse(body);
  const scrub = (text: string) => (apiKey === "" ? text : text.replaceAll(apiKey, "[redacted]"));
  const upstreamMessage = [...errors.map((error) => error.message), message].filter((text) => text !== undefined && text !== "").join("; ");
  return errorForStatus({
    ...details,
    code: errors[0] && errorCode(errors[0]),
    upstreamMessage: upstreamMessage === "" ? undefined : scrub(upstreamMessage),
    fieldErrors: errors.flatMap((error) =>
      error.field === undefined ? [] : [{ field: error.field, code: errorCode(error), message: error.message && scrub(error.message) }],
    ),
  });
}

function errorCode(error: CoxEdgeErrorItem): string | undefined {
  return error.errorCode ?? (error.code === undefined ? undefined : String(error.code));
}
