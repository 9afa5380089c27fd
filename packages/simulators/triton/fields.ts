/**
 * Image manifest field rules (TritonDataCenter/node-imgmanifest lib/imgmanifest.js) and how IMGAPI's
 * UpdateImage applies them: values replace, `null` removes.
 */
import { validationFailed } from "./errors";
import type { ImageRecord } from "./model";

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const namePattern = /^[A-Za-z0-9._/ -]+$/;
const versionPattern = /^[A-Za-z0-9._/+-]+$/;

/** The fields CloudAPI passes on for CreateImageFromMachine and UpdateImage. */
export const manifestFields = ["name", "version", "description", "homepage", "eula", "acl", "tags"] as const;

/** The manifest fields present in a request's parameters. */
export function pickManifestFields(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(manifestFields.filter((field) => params[field] !== undefined).map((field) => [field, params[field]]));
}

/** All problems are reported together, as IMGAPI does, in one 422 ValidationFailed. */
export function validateImageFields(fields: Record<string, unknown>, message: string): void {
  const errors: { field: string; code: string; message: string }[] = [];
  const invalid = (field: string, reason: string) => errors.push({ field, code: "Invalid", message: reason });
  const { name, version, description, homepage, eula, acl, tags } = fields;
  if (name !== undefined && (typeof name !== "string" || name.length > 1024 || !namePattern.test(name))) {
    invalid("name", "invalid image name");
  }
  if (version !== undefined && (typeof version !== "string" || version.length > 512 || !versionPattern.test(version))) {
    invalid("version", "invalid image version");
  }
  if (isSet(description) && (typeof description !== "string" || description.length > 10_240)) {
    invalid("description", "invalid image description");
  }
  for (const [field, value] of [["homepage", homepage], ["eula", eula]] as const) {
    if (isSet(value) && !isHttpUrl(value)) invalid(field, `invalid image ${field} URL`);
  }
  if (isSet(acl) && !(Array.isArray(acl) && acl.every((entry) => typeof entry === "string" && uuidPattern.test(entry)))) {
    invalid("acl", "invalid image acl: must be an array of account UUIDs");
  }
  if (isSet(tags) && (typeof tags !== "object" || Array.isArray(tags) || JSON.stringify(tags).length > 102_400)) {
    invalid("tags", "invalid image tags: must be an object");
  }
  if (errors.length > 0) throw validationFailed(message, errors);
}

/** Sets fields the way IMGAPI UpdateImage does: values replace, null removes. */
export function applyFields(image: ImageRecord, fields: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (field === "acl") image.acl = value === null ? [] : (value as string[]);
    else if (field === "tags") image.tags = value === null ? undefined : (value as Record<string, unknown>);
    else if (field === "name" || field === "version") image[field] = String(value);
    else if (field === "description" || field === "homepage" || field === "eula") {
      if (value === null) delete image[field];
      else image[field] = String(value);
    }
  }
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string" || value.length > 1024) return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
