/**
 * Page cursors: what this service signs comes back as it was, and anything else (edited, forged, cut,
 * signed with another key or for other filters) is a 400 naming the cursor parameter.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { cursorCodec } from "../../packages/api/cursor";
import { ApiProblem } from "../../packages/api/problem";

// The shape the image listing pages with (packages/api/images.ts keeps its own copy private).
const PositionSchema = z.strictObject({ segment: z.number().int().min(0), key: z.record(z.string(), z.string()).optional() });
type Position = z.output<typeof PositionSchema>;

const codec = cursorCodec("a-long-enough-api-token");
const scope = "images?provider=triton&presence=present";
const position: Position = { segment: 1, key: { pk: "IMAGE#triton#triton-test", sk: "2b683a82" } };

/** The ApiProblem a rejected cursor is answered with, or a failure when it was accepted. */
function rejection(cursor: string, decodeScope = scope): ApiProblem {
  try {
    codec.decode(cursor, decodeScope, PositionSchema);
  } catch (error) {
    if (error instanceof ApiProblem) return error;
    throw error;
  }
  throw new Error(`cursor ${cursor} was accepted`);
}

const expectCursorRejected = (problem: ApiProblem) => {
  expect(problem.status).toBe(400);
  expect(problem.invalidParams).toEqual([{ name: "cursor", in: "query", reason: expect.any(String) }]);
};

const payloadOf = (cursor: string) => cursor.split(".")[0] ?? "";
const signatureOf = (cursor: string) => cursor.split(".")[1] ?? "";
const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("cursorCodec", () => {
  it("gives back the position it signed, for the same query", () => {
    expect(codec.decode(codec.encode(position, scope), scope, PositionSchema)).toEqual(position);
  });

  it("is URL-safe: two base64url parts", () => {
    expect(codec.encode(position, scope)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it("refuses a cursor whose position was edited, keeping the original signature", () => {
    const cursor = codec.encode(position, scope);
    const edited = `${encodeJson({ ...position, segment: 0 })}.${signatureOf(cursor)}`;
    expectCursorRejected(rejection(edited));
  });

  it("refuses a cursor whose signature was edited, cut short or extended", () => {
    const cursor = codec.encode(position, scope);
    const signature = Buffer.from(signatureOf(cursor), "base64url");
    const flipped = Buffer.from(signature);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    for (const forged of [flipped, signature.subarray(0, signature.length - 1), Buffer.concat([signature, Buffer.from([0])])]) {
      expectCursorRejected(rejection(`${payloadOf(cursor)}.${forged.toString("base64url")}`));
    }
  });

  it("refuses malformed cursors: empty, without a signature, or with extra parts", () => {
    const cursor = codec.encode(position, scope);
    for (const malformed of ["", ".", payloadOf(cursor), `${payloadOf(cursor)}.`, `${cursor}.${signatureOf(cursor)}`, "not a cursor"]) {
      expectCursorRejected(rejection(malformed));
    }
  });

  it("binds a cursor to the query it was issued for", () => {
    const cursor = codec.encode(position, scope);
    expectCursorRejected(rejection(cursor, "images?provider=coxedge&presence=present"));
    expectCursorRejected(rejection(cursor, `${scope}&name=x`));
  });

  it("binds a cursor to the key: another API token's cursors are refused", () => {
    const foreign = cursorCodec("another-long-enough-token").encode(position, scope);
    expectCursorRejected(rejection(foreign));
  });

  it("refuses, as from another version, a genuine cursor whose position does not fit the schema", () => {
    const problem = rejection(codec.encode({ segment: -1 }, scope));
    expectCursorRejected(problem);
    expect(problem.detail).toContain("incompatible version");
  });
});

describe("cursorCodec, for any position and query", () => {
  // A key holds DynamoDB attribute names (pk, sk, gsi1pk, ...); "__proto__" is none, and no plain object keeps it.
  const attributeName = fc.string().filter((name) => name !== "__proto__");
  const positions = fc.record(
    { segment: fc.nat(), key: fc.dictionary(attributeName, fc.string({ unit: "grapheme" }), { noNullPrototype: true }) },
    { requiredKeys: ["segment"] },
  );

  it("round-trips, and is refused for any other query", () => {
    fc.assert(
      fc.property(positions, fc.string(), fc.string(), (anyPosition, issuedFor, other) => {
        const cursor = codec.encode(anyPosition, issuedFor);
        expect(codec.decode(cursor, issuedFor, PositionSchema)).toEqual(anyPosition);
        if (other !== issuedFor) expectCursorRejected(rejection(cursor, other));
      }),
    );
  });

  it("never decodes to another position when one character is replaced", () => {
    // base64url's alphabet and the separator.
    const cursorCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    fc.assert(
      fc.property(positions, fc.nat(), fc.constantFrom(...cursorCharacters), (anyPosition, at, replacement) => {
        const cursor = codec.encode(anyPosition, scope);
        const index = at % cursor.length;
        const edited = `${cursor.slice(0, index)}${replacement}${cursor.slice(index + 1)}`;
        // base64url's last character can carry unused bits, so an edit there may decode to the same JSON:
        // what matters is that no edit yields a different position.
        let decoded: Position | undefined;
        try {
          decoded = codec.decode(edited, scope, PositionSchema);
        } catch (error) {
          expectCursorRejected(error as ApiProblem);
          return;
        }
        expect(decoded).toEqual(anyPosition);
      }),
    );
  });
});
