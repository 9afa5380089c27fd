/**
 * Properties of the job-queue message parser (packages/jobs/schema.ts) over random text, random JSON and
 * near-valid messages of every action of both providers: it never throws, a rejection names the field,
 * and what it accepts can travel on SQS and be stored in DynamoDB, and parses again to itself.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { parseQueueMessage } from "../../packages/jobs/schema";
import { checkProperty, fuzzTimeout } from "../support/fuzz";
import { nearValidJobMessage, queueMessageBody, validJobMessage } from "./messages-fuzz";

const sources = { triton: ["triton-a", "triton-b"], coxedge: ["coxedge-a"] };

/** The first issue starts with a message field (its path), an unknown key, or says the body is no JSON object. */
const namesField = /^((jobId|provider|source|action|params|seq)([.[]|: )|Unrecognized keys?: "|body (is not valid JSON|must be a JSON object))/;

/** Whether SQS refuses the text: it allows only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF (a lone surrogate is none). */
function sqsRefuses(text: string): boolean {
  for (const char of text) {
    const c = char.codePointAt(0) as number;
    if (!(c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000)) return true;
  }
  return false;
}

function depth(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depth));
}

/** What DynamoDB (and the SDK's marshalling) refuses in an item: an empty map key, a number out of its range. */
function unstorable(value: unknown): string | undefined {
  if (typeof value === "number") return value === 0 || (Math.abs(value) >= 1e-130 && Math.abs(value) <= Number.MAX_SAFE_INTEGER) ? undefined : `number ${value}`;
  if (typeof value !== "object" || value === null) return undefined;
  if (!Array.isArray(value) && Object.keys(value).includes("")) return "an empty key";
  return Object.values(value).map(unstorable).find(Boolean);
}

it("never throws, and names a field in every rejection", { timeout: fuzzTimeout(30_000) }, async () => {
  await checkProperty(
    "job message parser: any body",
    fc.property(queueMessageBody(sources), (body) => {
      const parsed = parseQueueMessage(body);
      if (!parsed.ok) expect(parsed.error).toMatch(namesField);
    }),
    600,
  );
});

it("accepts only messages SQS can carry and a job record can hold, and they parse again to themselves", { timeout: fuzzTimeout(30_000) }, async () => {
  await checkProperty(
    "job message parser: accepted messages",
    fc.property(fc.oneof(validJobMessage(sources), nearValidJobMessage(sources)), (message) => {
      const parsed = parseQueueMessage(JSON.stringify(message));
      if (!parsed.ok) return;
      const text = JSON.stringify(parsed.value.message);
      // The job record nests the request two levels down; DynamoDB allows 32 levels and 400 KB per item.
      expect(depth(parsed.value.message)).toBeLessThanOrEqual(16);
      expect(unstorable(parsed.value.message)).toBeUndefined();
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64 * 1024);
      expect(sqsRefuses(text)).toBe(false);
      expect(parseQueueMessage(text)).toEqual(parsed);
    }),
    600,
  );
});

it("names the offending field of a valid message with one value broken", async () => {
  const broken = validJobMessage(sources).chain((message) =>
    fc.constantFrom("provider", "source", "action", "params").map((field) => ({ message: { ...message, [field]: 42 }, field })),
  );
  await checkProperty(
    "job message parser: one field broken",
    fc.property(broken, ({ message, field }) => {
      const parsed = parseQueueMessage(JSON.stringify(message));
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error.startsWith(`${field}`)).toBe(true);
    }),
    200,
  );
});
