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
export function storabilityProblem(value: unknown, maxDepth: number): StorabilityProblem | undefined {
  return problemBelow(value, 0, maxDepth);
}

/** The path is built only on the way back from a problem: a sync checks every listed image, and nearly all are fine. */
function problemBelow(value: unknown, depth: number, maxDepth: number): StorabilityProblem | undefined {
  if (typeof value === "string") return unsendable.test(value) ? { path: [], message: textRule } : undefined;
  if (typeof value === "number") return storableNumber(value) ? undefined : { path: [], message: "must be 0 or between 1e-130 and 2^53 - 1 in size" };
  if (typeof value !== "object" || value === null) return undefined;
  if (depth >= maxDepth) return { path: [], message: `must not nest more than ${maxDepth} levels deep` };
  const list = Array.isArray(value);
  for (const key of Object.keys(value)) {
    if (!list && key === "") return { path: [], message: "must not have an empty key" };
    const step = list ? Number(key) : key;
    if (!list && unsendable.test(key)) return { path: [step], message: `key ${textRule}` };
    const problem = problemBelow((value as Record<string, unknown>)[key], depth + 1, maxDepth);
    if (problem) {
      problem.path.unshift(step);
      return problem;
    }
  }
  return undefined;
}
