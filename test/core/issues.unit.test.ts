/** How zod validation problems are written: paths like `params.acl[0]`, one entry per problem, joined text. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeIssues, fieldIssues, formatIssuePath } from "../../packages/core/issues";

/** A ZodError holding exactly these issues, so each expectation follows from the issue alone. */
const errorOf = (...issues: { path: PropertyKey[]; message: string; keys?: string[] }[]) =>
  new z.ZodError(issues.map(({ keys, ...issue }) => (keys ? { code: "unrecognized_keys" as const, keys, ...issue } : { code: "custom" as const, ...issue })));

describe("formatIssuePath", () => {
  it("joins names with dots and writes array indexes in brackets", () => {
    expect(formatIssuePath([])).toBe("");
    expect(formatIssuePath(["url"])).toBe("url");
    expect(formatIssuePath(["params", "acl", 0])).toBe("params.acl[0]");
    expect(formatIssuePath([3, "files", 0, "size"])).toBe("[3].files[0].size");
    expect(formatIssuePath(["matrix", 1, 2])).toBe("matrix[1][2]");
  });

  it("names a symbol key rather than failing on it", () => {
    expect(formatIssuePath(["meta", Symbol("tag")])).toBe("meta.Symbol(tag)");
  });

  it("can be read back into the path it was written from", () => {
    const name = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/);
    const path = fc.array(fc.oneof(name, fc.nat(1000)), { maxLength: 6 });
    const parse = (text: string) => [...text.matchAll(/\[(\d+)\]|\.?([a-z][a-zA-Z0-9]*)/g)].map(([, index, key]) => (index === undefined ? key : Number(index)));
    fc.assert(
      fc.property(path, (segments) => {
        expect(parse(formatIssuePath(segments))).toEqual(segments);
      }),
    );
  });
});

describe("fieldIssues", () => {
  it("lists one entry per issue, at its path", () => {
    expect(fieldIssues(errorOf({ path: ["params", "imageId"], message: "Required" }, { path: [], message: "Too big" }))).toEqual([
      { path: "params.imageId", message: "Required" },
      { path: "", message: "Too big" },
    ]);
  });

  it("keeps unknown keys as one issue at their object, or splits them into one per key", () => {
    const error = errorOf({ path: ["params"], keys: ["colour", "size"], message: 'Unrecognized keys: "colour", "size"' });
    expect(fieldIssues(error)).toEqual([{ path: "params", message: 'Unrecognized keys: "colour", "size"' }]);
    expect(fieldIssues(error, { unknownKeys: "together" })).toEqual(fieldIssues(error));
    expect(fieldIssues(error, { unknownKeys: "each" })).toEqual([
      { path: "params.colour", message: "unknown parameter" },
      { path: "params.size", message: "unknown parameter" },
    ]);
  });

  it("splits unknown keys of the top-level object under their own names", () => {
    expect(fieldIssues(errorOf({ path: [], keys: ["extra"], message: "Unrecognized key" }), { unknownKeys: "each" })).toEqual([
      { path: "extra", message: "unknown parameter" },
    ]);
  });

  it("reads a real zod failure", () => {
    const result = z.strictObject({ files: z.array(z.object({ size: z.number() })) }).safeParse({ files: [{ size: 1 }, { size: "big" }], extra: true });
    if (result.success) throw new Error("expected a validation failure");
    expect(fieldIssues(result.error, { unknownKeys: "each" }).map((issue) => issue.path).toSorted()).toEqual(["extra", "files[1].size"]);
  });
});

describe("describeIssues", () => {
  const error = errorOf({ path: [0, "url"], message: "Invalid URL" }, { path: ["name"], message: "Required" });

  it("writes `path: message` entries joined by semicolons", () => {
    expect(describeIssues(error)).toBe("[0].url: Invalid URL; name: Required");
  });

  it("puts the prefix before each path, without a dot before an index", () => {
    expect(describeIssues(error, { prefix: "TritonSources" })).toBe("TritonSources[0].url: Invalid URL; TritonSources.name: Required");
  });

  it("names a problem with the whole value by the prefix, else by `whole`, else not at all", () => {
    const whole = errorOf({ path: [], message: "Expected array" });
    expect(describeIssues(whole, { prefix: "TritonSources" })).toBe("TritonSources: Expected array");
    expect(describeIssues(whole, { whole: "the request body" })).toBe("the request body: Expected array");
    expect(describeIssues(whole)).toBe("Expected array");
  });

  it("uses `whole` only for the whole value, not for a field", () => {
    expect(describeIssues(errorOf({ path: ["name"], message: "Required" }), { whole: "the request body" })).toBe("name: Required");
  });
});
