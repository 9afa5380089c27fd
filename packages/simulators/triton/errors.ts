/** A CloudAPI error response: `{code, message}` plus, for IMGAPI pass-through errors, per-field `errors`. */
export class CloudApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get body(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

export const notFound = (message: string) => new CloudApiError(404, "ResourceNotFound", message);
export const missingParameter = (message: string) => new CloudApiError(409, "MissingParameter", message);
export const invalidArgument = (message: string) => new CloudApiError(409, "InvalidArgument", message);

/** IMGAPI's 422 ValidationFailed with one `errors` entry per field. */
export function validationFailed(message: string, errors: { field: string; code: string; message?: string }[] = []): CloudApiError {
  return new CloudApiError(422, "ValidationFailed", message, errors.length > 0 ? { errors } : {});
}
