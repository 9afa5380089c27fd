/**
 * `tag.KEY=VALUE` on GET /images: which parameters the query schema lets through (each problem named
 * `tag.KEY`), and the FilterExpression it becomes (keys and values only ever in placeholders).
 */
import { describe, expect, it } from "vitest";
import { ImageListQuerySchema, tagFiltersOf } from "../../packages/api/schemas";
import { fromZodError } from "../../packages/api/problem";
import { filterExpression } from "../../packages/store/inventory-queries";

const problems = (query: Record<string, string>) => {
  const parsed = ImageListQuerySchema.safeParse(query);
  return parsed.success ? [] : fromZodError("query", parsed.error).invalidParams;
};

describe("the tag filter parameters", () => {
  it("are taken by key, next to the named parameters", () => {
    const query = ImageListQuerySchema.parse({ provider: "triton", tag: "v1", "tag.role": "web", "tag.triton.cns.services": "db" });
    expect(tagFiltersOf(query)).toEqual({ role: "web", "triton.cns.services": "db" });
    expect(query.tag).toBe("v1");
  });

  it("refuse a malformed filter, and any other unknown parameter, by its own name", () => {
    expect(problems({ "tag.": "x", "tag.ok": "", limit: "0", nmae: "x" })).toEqual([
      { name: "limit", in: "query", reason: "must be at least 1" },
      { name: "tag.", in: "query", reason: "must name a tag: tag.KEY=VALUE" },
      { name: "tag.ok", in: "query", reason: "must not be empty" },
      { name: "nmae", in: "query", reason: "unknown parameter" },
    ]);
  });
});

describe("the tag filter expression", () => {
  it("compares each tag as text, and as the number or boolean written the same way", () => {
    const expression = filterExpression({ presence: "all", tags: { team: "web", build: "7", certified: "true", note: "07" } });
    expect(expression.FilterExpression).toBe(
      "(#tags.#tag0 = :tag0_0) AND (#tags.#tag1 = :tag1_0 OR #tags.#tag1 = :tag1_1) AND (#tags.#tag2 = :tag2_0 OR #tags.#tag2 = :tag2_1) AND (#tags.#tag3 = :tag3_0)",
    );
    expect(expression.ExpressionAttributeNames).toEqual({ "#tags": "tags", "#tag0": "team", "#tag1": "build", "#tag2": "certified", "#tag3": "note" });
    expect(expression.ExpressionAttributeValues).toEqual({ ":tag0_0": "web", ":tag1_0": "7", ":tag1_1": 7, ":tag2_0": "true", ":tag2_1": true, ":tag3_0": "07" });
  });

  it("never turns text like NaN or Infinity into a number DynamoDB cannot store", () => {
    const expression = filterExpression({ presence: "all", tags: { a: "NaN", b: "Infinity", c: "1e3" } });
    expect(Object.values(expression.ExpressionAttributeValues ?? {})).toEqual(["NaN", "Infinity", "1e3"]);
  });
});
