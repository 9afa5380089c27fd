import * as z from "../../core/zod";
import { ConfigError, type TritonSourceConfig } from "../../core/config";
import {
  errorForStatus,
  HttpClient,
  UpstreamAuthError,
  UpstreamConflictError,
  UpstreamNotFoundError,
  UpstreamPermissionError,
  UpstreamThrottledError,
  UpstreamValidationError,
  type UpstreamError,
  type UpstreamErrorResponse,
  type RetryOptions,
} from "../http";
import {
  ExportImageResultSchema,
  TritonErrorBodySchema,
  TritonImageListSchema,
  TritonImageSchema,
  type ExportImageResult,
  type ImageState,
  type TritonImage,
} from "./schemas";
import { createTritonSigner, type SignedHeaderName } from "./signing";

export interface TritonClientOptions {
  /** CloudAPI endpoint of one datacenter, e.g. https://us-central-1.api.mnx.io */
  url: string;
  /** Account login. */
  account: string;
  /** RBAC sub-user login, when the key belongs to a sub-user. */
  user?: string;
  /** Registered key name or fingerprint (MD5 or SHA256 form); see TritonSignerOptions.keyId. */
  keyId?: string;
  /** Private key text, PEM or OpenSSH (RSA, ECDSA P-256/P-521, Ed25519). */
  privateKey: string;
  passphrase?: string;
  /** Default `~9||~8`, like the node-triton CLI. */
  acceptVersion?: string;
  signedHeaders?: SignedHeaderName[];
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  /** Attempts per call including the first. Default 4. */
  maxAttempts?: number;
  /** Max requests in flight to this CloudAPI. Default 8. */
  concurrency?: number;
  retry?: Omit<RetryOptions, "maxAttempts">;
  onRetry?: (event: { attempt: number; delayMs: number; error: UpstreamError }) => void;
  /** Clock used for the signed Date header; tests use it to simulate skew. */
  now?: () => Date;
}

/** ListImages filters; CloudAPI AND-combines them. `name` and `version` accept a `~substring`. */
export interface ListImagesFilters {
  name?: string;
  os?: string;
  version?: string;
  public?: boolean;
  /** Default (server side) `active`. `all` includes every state. */
  state?: ImageState | "all";
  /** Owner account uuid. */
  owner?: string;
  /** Exact type, or `!type` to exclude. Default (server side) `!docker`. */
  type?: string;
}

export interface CreateImageFromMachineInput {
  /** Instance uuid. */
  machine: string;
  name: string;
  version: string;
  description?: string;
  homepage?: string;
  eula?: string;
  /** Account uuids the image is shared with. */
  acl?: string[];
  tags?: Record<string, unknown>;
}

/** Values replace the current ones (tags and acl whole); `null` removes the field. */
export interface UpdateImageFields {
  name?: string;
  version?: string;
  description?: string | null;
  homepage?: string | null;
  eula?: string | null;
  acl?: string[] | null;
  tags?: Record<string, unknown> | null;
}

/**
 * The client for a configured source. A key the client cannot sign with (unreadable, or ECDSA P-384) is
 * a configuration error naming the source, raised before any request.
 */
export function tritonClientFor(source: TritonSourceConfig, overrides: Partial<TritonClientOptions> = {}): TritonClient {
  try {
    return new TritonClient({ ...source, ...overrides });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`Invalid configuration: TritonSources ${source.id}: ${reason}`, { cause: error });
  }
}

/** Client for the CloudAPI images endpoints, one method per endpoint. */
export class TritonClient {
  readonly account: string;
  /** The keyId sent in signatures, e.g. `/jdoe/keys/aa:bb:…`. */
  readonly keyId: string;
  private readonly http: HttpClient;
  private readonly imagesPath: string;

  constructor(options: TritonClientOptions) {
    const signer = createTritonSigner({
      account: options.account,
      user: options.user,
      privateKey: options.privateKey,
      passphrase: options.passphrase,
      keyId: options.keyId,
      signedHeaders: options.signedHeaders,
      now: options.now,
    });
    this.account = options.account;
    this.keyId = signer.keyId;
    this.imagesPath = `/${encodeURIComponent(options.account)}/images`;
    this.http = new HttpClient({
      baseUrl: options.url,
      source: "triton",
      timeoutMs: options.timeoutMs,
      concurrency: options.concurrency,
      retry: { ...options.retry, maxAttempts: options.maxAttempts },
      defaultHeaders: { "accept-version": options.acceptVersion ?? "~9||~8" },
      requestIdHeader: "x-request-id",
      authorize: (request) => ({ ...signer.sign(request) }),
      mapError: mapTritonError,
      onRetry: options.onRetry,
    });
  }

  /** ListImages: every matching image in one response (CloudAPI does not paginate). */
  async listImages(filters: ListImagesFilters = {}): Promise<TritonImage[]> {
    return (await this.listImagesWithDigest(filters)).images;
  }

  /** ListImages, with the SHA-256 of the response body: the same digest is the same listing, byte for byte. */
  async listImagesWithDigest(filters: ListImagesFilters = {}): Promise<{ images: TritonImage[]; bodyDigest: string }> {
    const query = {
      name: filters.name,
      os: filters.os,
      version: filters.version,
      public: filters.public,
      state: filters.state,
      owner: filters.owner,
      type: filters.type,
    };
    const response = await this.http.request({
      operation: "ListImages",
      method: "GET",
      path: this.imagesPath,
      query,
      schema: TritonImageListSchema,
    });
    return { images: response.data, bodyDigest: response.bodyDigest };
  }

  async getImage(id: string): Promise<TritonImage> {
    const response = await this.http.request({
      operation: "GetImage",
      method: "GET",
      path: this.imagePath(id),
      schema: TritonImageSchema,
    });
    return response.data;
  }

  /** Starts image creation; the returned image is in state `creating`. Poll getImage for `active`/`failed`. */
  async createImageFromMachine(input: CreateImageFromMachineInput): Promise<TritonImage> {
    const response = await this.http.request({
      operation: "CreateImageFromMachine",
      method: "POST",
      path: this.imagesPath,
      body: input,
      schema: TritonImageSchema,
    });
    return response.data;
  }

  async updateImage(id: string, fields: UpdateImageFields): Promise<TritonImage> {
    const response = await this.http.request({
      operation: "UpdateImage",
      method: "POST",
      path: this.imagePath(id),
      query: { action: "update" },
      body: fields,
      schema: TritonImageSchema,
      idempotent: true, // values replace, so repeating gives the same result
    });
    return response.data;
  }

  /** Copies an image shared with this account into it, as a new image owned by the account. */
  async cloneImage(id: string): Promise<TritonImage> {
    const response = await this.http.request({
      operation: "CloneImage",
      method: "POST",
      path: this.imagePath(id),
      query: { action: "clone" },
      body: {},
      schema: TritonImageSchema,
    });
    return response.data;
  }

  /** Exports to Manta; `mantaPath` must start with `/<account>/`. */
  async exportImage(id: string, mantaPath: string): Promise<ExportImageResult> {
    const response = await this.http.request({
      operation: "ExportImage",
      method: "POST",
      path: this.imagePath(id),
      query: { action: "export", manta_path: mantaPath },
      schema: ExportImageResultSchema,
      idempotent: true, // writes the same Manta objects again
    });
    return response.data;
  }

  /**
   * ImportImageFromDatacenter, called on the target datacenter: copies this account's image `id` (with its
   * own origins, keeping the uuid) from the datacenter named `datacenter`. CloudAPI answers only when the
   * copy is done and may wait up to an hour, so callers pass a short `timeoutMs` and, after a timeout,
   * poll getImage here for the same uuid.
   */
  async importImageFromDatacenter(datacenter: string, id: string, options: { timeoutMs?: number } = {}): Promise<TritonImage> {
    const response = await this.http.request({
      operation: "ImportImageFromDatacenter",
      method: "POST",
      path: this.imagesPath,
      query: { action: "import-from-datacenter", datacenter, id },
      body: {},
      schema: TritonImageSchema,
      timeoutMs: options.timeoutMs,
    });
    return response.data;
  }

  async deleteImage(id: string): Promise<void> {
    await this.http.request({
      operation: "DeleteImage",
      method: "DELETE",
      path: this.imagePath(id),
      schema: z.undefined(),
    });
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private imagePath(id: string): string {
    return `${this.imagesPath}/${encodeURIComponent(id)}`;
  }
}

const authCodes = new Set(["InvalidCredentials", "InvalidHeader", "RequestExpired"]);
// IMGAPI refuses to import another owner's image with restify's Unauthorized (sdc-imgapi lib/images.js).
const permissionCodes = new Set(["NotAuthorized", "NotImageOwner", "ImageNotShared", "NotMantaPathOwner", "Unauthorized"]);
const validationCodes = new Set(["MissingParameter", "InvalidArgument", "InvalidParameter", "ValidationFailed"]);
const conflictCodes = new Set(["ImageUuidAlreadyExists", "ImageHasDependentImages", "OriginIsNotActive"]);
// Docs say 420 RequestThrottled, restify 4 sends 429 TooManyRequestsError; treat all alike.
const throttleCodes = new Set(["RequestThrottled", "TooManyRequestsError"]);

/** Maps CloudAPI error bodies (`{code, message, errors?}`) to typed errors; the code says more than the status. */
export function mapTritonError({ body, details }: UpstreamErrorResponse): UpstreamError {
  const parsed = TritonErrorBodySchema.safeParse(body);
  const fields = parsed.success ? parsed.data : {};
  const full = { ...details, code: fields.code, upstreamMessage: fields.message, fieldErrors: fields.errors };
  const code = fields.code ?? "";
  if (authCodes.has(code)) return new UpstreamAuthError(full);
  if (permissionCodes.has(code)) return new UpstreamPermissionError(full);
  if (code === "ResourceNotFound") return new UpstreamNotFoundError(full);
  if (validationCodes.has(code)) return new UpstreamValidationError(full);
  if (conflictCodes.has(code)) return new UpstreamConflictError(full);
  if (throttleCodes.has(code) || details.status === 420) return new UpstreamThrottledError(full);
  return errorForStatus(full);
}
