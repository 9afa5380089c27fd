/**
 * The image listing's query planner, checked against the keys the store writes: the key ranges read
 * (`segments`) cover exactly the images of the filter's provider, source and os, in index order, and the
 * FilterExpression keeps exactly the matching items, with every caller's value in a placeholder.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { providers } from "../../packages/core/resources";
import { imageIndexAttributes, type ImageKey } from "../../packages/store/inventory";
import { filterExpression, segments, type ImageFilter, type Presence } from "../../packages/store/inventory-queries";
import type { CommonState, ImageView } from "../../packages/store/normalise";

type Segment = ReturnType<typeof segments>[number];
type StoredImage = ImageKey & ImageView & { removedAt?: string };

/** Whether DynamoDB reads the image's item for this key range (the item's index attributes as written). */
function reads(segment: Segment, image: StoredImage): boolean {
  const attributes = imageIndexAttributes(image);
  const sortKey = attributes[segment.index.sk];
  return attributes[segment.index.pk] === segment.hash && (segment.prefix === undefined || (sortKey?.startsWith(segment.prefix) ?? false));
}

const keyMatches = (filter: ImageFilter, image: StoredImage) =>
  (filter.provider === undefined || image.provider === filter.provider) &&
  (filter.source === undefined || image.sourceId === filter.source) &&
  (filter.os === undefined || image.os === filter.os);

/** The filter's rules for the attributes no key covers, as ImageFilter documents them. */
const attributesMatch = (filter: ImageFilter, image: StoredImage) =>
  (filter.presence === "all" || (filter.presence === "removed") === (image.removedAt !== undefined)) &&
  (filter.name === undefined || image.name === filter.name) &&
  (filter.nameContains === undefined || image.name.includes(filter.nameContains)) &&
  (["version", "type", "owner", "public", "state"] as const).every((attribute) => filter[attribute] === undefined || image[attribute] === filter[attribute]);

/**
 * Evaluates the FilterExpression on an item, for the clauses the planner may write; any other text fails
 * the test, so a value that leaked into the expression, or a new clause form, is caught.
 */
function passes(expression: ReturnType<typeof filterExpression>, item: object): boolean {
  if (expression.FilterExpression === undefined) return true;
  const attributes = new Map(Object.entries(item));
  const name = (placeholder: string) => expression.ExpressionAttributeNames?.[placeholder] ?? unexpected(`unknown name ${placeholder}`);
  const value = (placeholder: string) => (placeholder in (expression.ExpressionAttributeValues ?? {}) ? expression.ExpressionAttributeValues?.[placeholder] : unexpected(`unknown value ${placeholder}`));
  return expression.FilterExpression.split(" AND ").every((clause) => {
    const [, fn, attribute, operand, compared] = /^(?:(attribute_exists|attribute_not_exists|contains)\()?(#\w+)(?:, (:\w+)\)| = (:\w+)|\))$/.exec(clause) ?? [];
    if (!attribute) return unexpected(`unexpected clause ${clause}`);
    const actual = attributes.get(name(attribute));
    if (fn === "attribute_exists") return actual !== undefined;
    if (fn === "attribute_not_exists") return actual === undefined;
    if (fn === "contains" && operand) return typeof actual === "string" && actual.includes(value(operand) as string);
    if (!fn && compared) return actual === value(compared);
    return unexpected(`unexpected clause ${clause}`);
  });
}

function unexpected(message: string): never {
  throw new Error(message);
}

const placeholders = (text: string, sigil: "#" | ":") => new Set(text.match(sigil === "#" ? /#\w+/g : /:\w+/g) ?? []);

describe("segments", () => {
  it("reads the whole listing index when nothing narrows it", () => {
    expect(segments({ presence: "present" })).toEqual([{ index: expect.objectContaining({ name: "gsi1" }), hash: "IMAGES" }]);
  });

  it("reads the os index under the os's own partition", () => {
    expect(segments({ presence: "present", os: "ubuntu" })).toEqual([{ index: expect.objectContaining({ name: "gsi2" }), hash: "IMAGEOS#ubuntu" }]);
  });

  it("reads a source in every provider, in sort-key order, when no provider is given", () => {
    const prefixes = segments({ presence: "all", source: "triton-us-east-1" }).map((segment) => segment.prefix);
    expect(prefixes).toEqual(providers.map((provider) => `${provider}#triton-us-east-1#`).toSorted());
  });
});

describe("segments, for any filter and stored image", () => {
  // Source ids never hold '#' (the config and the API both restrict them), so '#' ends each key part.
  const sourceId = fc.stringMatching(/^(triton|coxedge)-[a-z0-9._-]{1,6}$/);
  const image = fc.record(
    {
      provider: fc.constantFrom(...providers),
      sourceId,
      upstreamId: fc.string({ minLength: 1 }),
      name: fc.constant("base"),
      version: fc.constant("1"),
      state: fc.constant<CommonState>("active"),
      os: fc.constantFrom("smartos", "ubuntu", "ubuntu-2"),
    },
    { requiredKeys: ["provider", "sourceId", "upstreamId", "name", "version", "state"] },
  );
  const filter = fc.record(
    { presence: fc.constant<Presence>("all"), provider: fc.constantFrom(...providers), source: sourceId, os: fc.constantFrom("smartos", "ubuntu") },
    { requiredKeys: ["presence"] },
  );
  /** Filters that often name the image's own provider, source or os, so both reads and misses are common. */
  const imageWithFilter = image.chain((stored) =>
    fc
      .record(
        {
          presence: fc.constant<Presence>("all"),
          provider: fc.constantFrom(...providers),
          source: fc.oneof(fc.constant(stored.sourceId), sourceId),
          os: fc.oneof(fc.constant(stored.os), fc.constantFrom("smartos", "ubuntu")),
        },
        { requiredKeys: ["presence"] },
      )
      .map((imageFilter): [StoredImage, ImageFilter] => [stored, imageFilter]),
  );

  it("reads each matching image in exactly one segment and no other image at all", () => {
    const outcomes = new Set<boolean>();
    fc.assert(
      fc.property(imageWithFilter, ([stored, imageFilter]) => {
        const expected = keyMatches(imageFilter, stored);
        outcomes.add(expected);
        expect(segments(imageFilter).filter((segment) => reads(segment, stored)).length).toBe(expected ? 1 : 0);
      }),
      { numRuns: 500 },
    );
    expect(outcomes).toEqual(new Set([true, false]));
  });

  it("lists segments in the index's order, so pages follow one stable order", () => {
    fc.assert(
      fc.property(filter, (anyFilter) => {
        const all = segments(anyFilter);
        expect(new Set(all.map((segment) => segment.index.name)).size).toBe(1);
        const prefixes = all.map((segment) => segment.prefix ?? "");
        expect(prefixes).toEqual(prefixes.toSorted());
      }),
    );
  });
});

describe("filterExpression", () => {
  it("adds nothing when every item qualifies, so DynamoDB gets no empty maps", () => {
    expect(filterExpression({ presence: "all" })).toEqual({});
  });

  it("filters on presence alone without an ExpressionAttributeValues map", () => {
    expect(filterExpression({ presence: "present" })).toEqual({
      FilterExpression: "attribute_not_exists(#removedAt)",
      ExpressionAttributeNames: { "#removedAt": "removedAt" },
    });
    expect(filterExpression({ presence: "removed" }).FilterExpression).toBe("attribute_exists(#removedAt)");
  });
});

describe("filterExpression, for any filter", () => {
  // Values a caller might send, hostile ones included: they must stay data.
  const text = fc.oneof(fc.constantFrom("base", "x) OR (#name = :name", ":name", "#removedAt", "a AND b"), fc.string());
  const state = fc.constantFrom<CommonState>("active", "creating", "failed", "disabled", "unactivated", "unknown");
  const storedImage = fc
    .record(
      { name: text, version: text, type: text, owner: text, public: fc.boolean(), state, removedAt: fc.constant("2026-01-01T00:00:00.000Z") },
      { requiredKeys: ["name", "version", "state"] },
    )
    .map((fields): StoredImage => ({ provider: "triton", sourceId: "triton-a", upstreamId: "id", ...fields }));
  const filter = fc.record(
    {
      presence: fc.constantFrom<Presence>("present", "removed", "all"),
      name: text,
      nameContains: text,
      version: text,
      type: text,
      owner: text,
      public: fc.boolean(),
      state,
    },
    { requiredKeys: ["presence"] },
  );
  /** A filter whose values are often the image's own (or part of its name), so matches are as common as misses. */
  const imageWithFilter = storedImage.chain((image) =>
    fc
      .record(
        {
          presence: fc.constantFrom<Presence>("present", "removed", "all"),
          name: fc.oneof(fc.constant(image.name), text),
          nameContains: fc.oneof(fc.constant(image.name.slice(1, 3)), text),
          version: fc.oneof(fc.constant(image.version), text),
          type: fc.oneof(fc.constant(image.type), text),
          owner: fc.oneof(fc.constant(image.owner), text),
          public: fc.oneof(fc.constant(image.public), fc.boolean()),
          state: fc.oneof(fc.constant(image.state), state),
        },
        { requiredKeys: ["presence"] },
      )
      .map((imageFilter): [StoredImage, ImageFilter] => [image, imageFilter]),
  );

  it("keeps exactly the items that match the filter", () => {
    const outcomes = new Set<boolean>();
    fc.assert(
      fc.property(imageWithFilter, ([image, imageFilter]) => {
        const expected = attributesMatch(imageFilter, image);
        outcomes.add(expected);
        expect(passes(filterExpression(imageFilter), image)).toBe(expected);
      }),
      { numRuns: 500 },
    );
    // Both sides of the rule were exercised.
    expect(outcomes).toEqual(new Set([true, false]));
  });

  it("puts every value in a placeholder and declares exactly the names and values it uses", () => {
    fc.assert(
      fc.property(filter, (anyFilter) => {
        const { FilterExpression = "", ExpressionAttributeNames = {}, ExpressionAttributeValues = {} } = filterExpression(anyFilter);
        // Only fixed words, names and placeholders: no caller's text.
        expect(FilterExpression).toMatch(/^((attribute_exists|attribute_not_exists|contains)\(|#\w+|:\w+|[ =(),]|AND)*$/);
        expect(placeholders(FilterExpression, "#")).toEqual(new Set(Object.keys(ExpressionAttributeNames)));
        expect(placeholders(FilterExpression, ":")).toEqual(new Set(Object.keys(ExpressionAttributeValues)));
        // listImages adds its own #p_* names and :hash/:prefix values beside these; none may be overwritten.
        expect(Object.keys(ExpressionAttributeNames).filter((key) => key.startsWith("#p_"))).toEqual([]);
        expect(Object.keys(ExpressionAttributeValues).filter((key) => key === ":hash" || key === ":prefix")).toEqual([]);
      }),
    );
  });
});
