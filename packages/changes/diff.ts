/** Field-level differences between two JSON documents, for change records. */
import type { FieldChange } from "../store/changes";

/** A value larger than this (as JSON) is recorded by its size only, so a record stays far below 400 KB. */
const maxValueBytes = 2048;
/** At most this many field changes per record; `diffDocuments` says when it stopped. */
export const maxFieldChanges = 200;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Every leaf that differs between `before` and `after`, under `prefix`; at most `maxFieldChanges`. */
export function diffDocuments(before: unknown, after: unknown, prefix: string): { changes: FieldChange[]; truncated: boolean } {
  const changes: FieldChange[] = [];
  const visit = (old: unknown, next: unknown, path: string): void => {
    if (changes.length > maxFieldChanges) return;
    if (isObject(old) && isObject(next)) {
      for (const key of new Set([...Object.keys(old), ...Object.keys(next)].toSorted())) visit(own(old, key), own(next, key), `${path}${member(key)}`);
    } else if (Array.isArray(old) && Array.isArray(next)) {
      for (let index = 0; index < Math.max(old.length, next.length); index++) visit(old[index], next[index], `${path}[${index}]`);
    } else if (JSON.stringify(old) !== JSON.stringify(next)) {
      changes.push({ path, ...(old === undefined ? {} : { old: bounded(old) }), ...(next === undefined ? {} : { new: bounded(next) }) });
    }
  };
  visit(before, after, prefix);
  return { changes: changes.slice(0, maxFieldChanges), truncated: changes.length > maxFieldChanges };
}

/** Own properties only: an upstream key like `toString` must not read Object.prototype's. */
const own = (document: Record<string, unknown>, key: string): unknown => (Object.hasOwn(document, key) ? document[key] : undefined);

/** `.key`, or `["key"]` for a key that is not an identifier (Triton tags like `triton.cns.services`). */
function member(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function bounded(value: unknown): unknown {
  const size = Buffer.byteLength(JSON.stringify(value) ?? "");
  return size > maxValueBytes ? { omitted: `${size} bytes` } : value;
}
