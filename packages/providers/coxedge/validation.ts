// Cox Edge custom-image naming rules, exactly as the images API documents them. Shared by the client
// (fail before calling upstream), the simulator (400 like the real server) and the job message schema.
import * as z from "../../core/zod";
import { formatIssuePath } from "../../core/issues";

export const familyPattern = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
export const familyRule =
  "must consist of lower case alphanumeric characters or '-' and must begin and end with an alphanumeric character";

export const tagMaxLength = 128;
export const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const tagRule =
  "may contain only ASCII letters, digits, '_', '.' and '-', must not start with '.' or '-' and must contain at most 128 characters";

const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") });

export const ImageFamilySchema = requiredString().check(z.regex(familyPattern, familyRule));
export const ImageTagSchema = requiredString().check(z.maxLength(tagMaxLength, tagRule), z.regex(tagPattern, tagRule));

export const CreateImageRequestSchema = z.object(
  {
    family: ImageFamilySchema,
    tag: ImageTagSchema,
    workloadId: requiredString().check(z.minLength(1, "must not be empty")),
    instanceName: requiredString().check(z.minLength(1, "must not be empty")),
    description: z.optional(z.string({ error: "must be a string" })),
  },
  { error: "must be a JSON object" },
);
export type CreateImageRequest = z.infer<typeof CreateImageRequestSchema>;

export interface FieldProblem {
  field: string;
  message: string;
}

export type CreateImageRequestCheck =
  | { ok: true; request: CreateImageRequest }
  | { ok: false; problems: FieldProblem[] };

/** Parses a create body; on failure lists every broken field once, each message naming the field. */
export function checkCreateImageRequest(input: unknown): CreateImageRequestCheck {
  const result = CreateImageRequestSchema.safeParse(input);
  if (result.success) return { ok: true, request: result.data };
  const byField = new Map<string, FieldProblem>();
  for (const issue of result.error.issues) {
    const field = formatIssuePath(issue.path) || "body";
    if (byField.has(field)) continue;
    byField.set(field, { field, message: `${field} ${describeValue(input, field)}${issue.message}` });
  }
  return { ok: false, problems: [...byField.values()] };
}

function describeValue(input: unknown, field: string): string {
  if (typeof input !== "object" || input === null) return "";
  const value: unknown = (input as Record<string, unknown>)[field];
  return typeof value === "string" ? `${JSON.stringify(value)} ` : "";
}
