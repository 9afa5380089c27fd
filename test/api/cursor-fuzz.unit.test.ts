/**
 * Properties of the page-cursor codec (packages/api/cursor.ts) over cursors it issued, changed byte by byte,
 * and over any text: decoding either gives back exactly the position that was signed, or throws a 400
 * problem naming `cursor` — never another exception, never another position.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { z } from "zod";
import { cursorCodec } from "../../packages/api/cursor";
import { ApiProblem } from "../../packages/api/problem";
import { checkProperty } from "../support/fuzz";

const Position = z.strictObject({ segment: z.number().int().min(0), key: z.record(z.string(), z.string()).optional() });
const position = fc.record({ segment: fc.nat(5), key: fc.dictionary(fc.constantFrom("pk", "sk", "gsi1pk", "gsi1sk"), fc.string({ unit: "binary", maxLength: 30 })) });
const codec = cursorCodec("a-token-of-sufficient-length-0123");
const scope = "GET /images {}";

function decoded(cursor: string, withScope = scope): unknown {
  try {
    return codec.decode(cursor, withScope, Position);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiProblem);
    expect((error as ApiProblem).status).toBe(400);
    expect((error as ApiProblem).invalidParams?.[0]?.name).toBe("cursor");
    return undefined;
  }
}

const edit = fc.record({ kind: fc.constantFrom("replace", "delete", "insert", "truncate"), at: fc.nat(), char: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) });

it("gives back the signed position or refuses, for issued cursors changed in any way", async () => {
  const property = fc.property(position, fc.array(edit, { minLength: 1, maxLength: 4 }), fc.boolean(), (signed, edits, otherScope) => {
    const cursor = codec.encode(signed, scope);
    const changed = edits.reduce((text, { kind, at, char }) => {
      const i = at % (text.length + 1);
      if (kind === "truncate") return text.slice(0, i);
      return `${text.slice(0, i)}${kind === "delete" ? "" : char}${text.slice(kind === "insert" ? i : i + 1)}`;
    }, cursor);
    const result = decoded(changed, otherScope ? `${scope} ` : scope);
    if (result !== undefined) expect(result).toEqual(signed);
    if (otherScope) expect(result).toBeUndefined();
  });
  await checkProperty("cursor codec: changed cursors", property, 500);
});

it("refuses any text that it did not issue", async () => {
  const text = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.base64String({ maxLength: 200 }), fc.tuple(fc.base64String(), fc.base64String()).map(([a, b]) => `${a}.${b}`));
  await checkProperty("cursor codec: any text", fc.property(text, (cursor) => {
    expect(decoded(cursor)).toBeUndefined();
  }), 500);
});
