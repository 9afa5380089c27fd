/**
 * The one way zod validation problems become text: each issue as `path: message`, the path written like
 * `params.fields.name` or `[3].files[0].size`.
 */
import type * as z from "./zod";

/** A validation error of zod classic or zod/mini (both carry the core issues). */
export type ValidationError = { readonly issues: readonly z.core.$ZodIssue[] };

export interface FieldIssue {
  /** Empty for the value as a whole. */
  path: string;
  message: string;
}

/** `params.acl[0]`: names joined with dots, array indexes in brackets. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((segment, index) => (typeof segment === "number" ? `[${segment}]` : index === 0 ? String(segment) : `.${String(segment)}`)).join("");
}

/**
 * One entry per problem. Unknown keys are one issue at their object (zod's "Unrecognized key" message),
 * or with `unknownKeys: "each"` one "unknown parameter" entry under each key's own path.
 */
export function fieldIssues(error: ValidationError, options: { unknownKeys?: "each" | "together" } = {}): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys" && options.unknownKeys === "each") {
      return issue.keys.map((key) => ({ path: formatIssuePath([...issue.path, key]), message: "unknown parameter" }));
    }
    return [{ path: formatIssuePath(issue.path), message: issue.message }];
  });
}

/**
 * `path: message; path: message`. `prefix` names what was validated (`TritonSources` gives
 * `TritonSources[0].url`); a problem with the whole value is named `whole`, or has no name.
 */
export function describeIssues(error: ValidationError, options: { prefix?: string; whole?: string } = {}): string {
  const { prefix = "", whole } = options;
  return fieldIssues(error)
    .map(({ path, message }) => {
      const joined = prefix && path && !path.startsWith("[") ? `${prefix}.${path}` : `${prefix}${path}`;
      const name = joined || whole;
      return name ? `${name}: ${message}` : message;
    })
    .join("; ");
}
