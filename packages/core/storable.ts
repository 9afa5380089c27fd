/**
 * What DynamoDB and SQS can hold, checked before anything is written: maps nest at most 32 levels, map keys
 * are not empty, numbers are 0 or between 1e-130 and 2^53 - 1 in size (the SDK refuses larger integers), and
 * text is valid Unicode without U+FFFE or U+FFFF (SQS refuses them; lone surrogates cannot be UTF-8).
 * Depth is checked before descending, so a document nested thousands deep costs no stack.
 */
export interface StorabilityProblem {
  path: PropertyKey[];
  message: string;
}

const unsendable = /[\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const textRule = "must be valid Unicode text without U+FFFE or U+FFFF";
const storableNumber = (n: number) => n === 0 || (Math.abs(n) >= 1e-130 && Math.abs(n) <= Number.MAX_SAFE_INTEGER);

/** The first value or key that cannot be stored, depth first, or undefined; `maxDepth` levels of maps and lists at most. */
export function storabilityProblem(value: unknown, maxDepth: number, path: PropertyKey[] = []): StorabilityProblem | undefined {
  if (typeof value === "string") return unsendable.test(value) ? { path, message: textRule } : undefined;
  if (typeof value === "number") return storableNumber(value) ? undefined : { path, message: "must be 0 or between 1e-130 and 2^53 - 1 in size" };
  if (typeof value !== "object" || value === null) return undefined;
  if (path.length >= maxDepth) return { path, message: `must not nest more than ${maxDepth} levels deep` };
  for (const [key, child] of Object.entries(value)) {
    if (key === "" && !Array.isArray(value)) return { path, message: "must not have an empty key" };
    const at = [...path, Array.isArray(value) ? Number(key) : key];
    if (unsendable.test(key)) return { path: at, message: `key ${textRule}` };
    const problem = storabilityProblem(child, maxDepth, at);
    if (problem) return problem;
  }
  return undefined;
}
