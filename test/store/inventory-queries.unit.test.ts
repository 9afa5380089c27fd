/**
 * The image listing's query planner, checked against the keys the store writes: the partitions read
 * (`segments`, one per source) cover exactly the images of the filter's provider, source and os, in index
 * order, and the FilterExpression keeps exactly the matching items, with every caller's value in a placeholder.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { providers, type Provider } from "../../packages/core/resources";
import { imageIndexAttributes, type ImageKey, type SourceRef } from "../../packages/store/inventory";
import { filterExpression, segments, type ImageFilter, type Presence } from "../../packages/store/inventory-queries";
import { itemKeys } from "../../packages/store/keys";
import type { CommonState, ImageView } from "../../packages/store/normalise";

type Segment = ReturnType<typeof segments>[number];
type StoredImage = ImageKey & ImageView & { removedAt?: string };

/** Whether DynamoDB reads the image's item for this segment (the item's index attributes as written). */
function reads(segment: Segment, image: StoredImage): boolean {
  const attributes = imageIndexAttributes(image);
  const sortKey = attributes[segment.index.sk] ?? "";
  return attributes[segment.index.pk] === segment.hash && sortKey > segment.start && sortKey < segment.end;
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

const synced: SourceRef[] = [
  { provider: "triton", sourceId: "triton-b" },
  { provider: "coxedge", sourceId: "coxedge-a" },
  { provider: "triton", sourceId: "triton-a-b" },
  { provider: "triton", sourceId: "triton-a" },
];

describe("segments", () => {
  it("reads each synced source's listing partition, in sort-key order, when nothing narrows it", () => {
    expect(segments({ presence: "present" }, synced)).toEqual(
      ["coxedge#coxedge-a", "triton#triton-a", "triton#triton-a-b", "triton#triton-b"].map((source) => ({
        index: expect.objectContaining({ name: "gsi1" }),
        hash: `IMAGES#${source}`,
        start: `${source}#`,
        end: `${source}$`,
      })),
    );
  });

  it("reads each source's own os partition for an os, and only the provider's sources for a provider", () => {
    expect(segments({ presence: "present", os: "ubuntu", provider: "triton" }, synced).map((segment) => [segment.index.name, segment.hash])).toEqual([
      ["gsi2", "IMAGEOS#triton#triton-a#ubuntu"],
      ["gsi2", "IMAGEOS#triton#triton-a-b#ubuntu"],
      ["gsi2", "IMAGEOS#triton#triton-b#ubuntu"],
    ]);
  });

  it("reads a named source under its own provider, or under every provider before it has synced", () => {
    expect(segments({ presence: "all", source: "triton-a" }, synced).map((segment) => segment.hash)).toEqual(["IMAGES#triton#triton-a"]);
    expect(segments({ presence: "all", source: "triton-new" }, synced).map((segment) => segment.hash)).toEqual(["IMAGES#coxedge#triton-new", "IMAGES#triton#triton-new"]);
    expect(segments({ presence: "all", source: "triton-new", provider: "triton" }, []).map((segment) => segment.hash)).toEqual(["IMAGES#triton#triton-new"]);
  });
});

describe("segments, for any filter, synced sources and stored image", () => {
  // Source ids start with their provider and never hold '#' (the config and the API both restrict them).
  const sourceRef = fc.stringMatching(/^(triton|coxedge)-[a-z0-9._-]{1,6}$/).map((sourceId): SourceRef => ({ provider: sourceId.split("-")[0] as Provider, sourceId }));
  const image = fc.record(
    {
      source: sourceRef,
      upstreamId: fc.string({ minLength: 1 }),
      name: fc.constant("base"),
      version: fc.constant("1"),
      state: fc.constant<CommonState>("active"),
      os: fc.constantFrom("smartos", "ubuntu", "ubuntu-2"),
    },
    { requiredKeys: ["source", "upstreamId", "name", "version", "state"] },
  ).map(({ source, ...rest }): StoredImage => ({ ...source, ...rest }));
  const filter = fc.record(
    { presence: fc.constant<Presence>("all"), provider: fc.constantFrom(...providers), source: sourceRef.map((s) => s.sourceId), os: fc.constantFrom("smartos", "ubuntu") },
    { requiredKeys: ["presence"] },
  );
  /** Filters and synced sources that often name the image's own provider, source or os, so both reads and misses are common. */
  const imageWithFilter = image.chain((stored) =>
    fc
      .tuple(
        fc.record(
          {
            presence: fc.constant<Presence>("all"),
            provider: fc.constantFrom(...providers),
            source: fc.oneof(fc.constant(stored.sourceId), sourceRef.map((s) => s.sourceId)),
            os: fc.oneof(fc.constant(stored.os), fc.constantFrom("smartos", "ubuntu")),
          },
          { requiredKeys: ["presence"] },
        ),
        fc.array(sourceRef, { maxLength: 4 }),
        fc.boolean(),
      )
      .map(([imageFilter, others, hasSynced]): [StoredImage, ImageFilter, SourceRef[]] => [stored, imageFilter, hasSynced ? [...others, stored] : others]),
  );

  it("reads each matching image in exactly one segment and no other image at all", () => {
    const outcomes = new Set<boolean>();
    fc.assert(
      fc.property(imageWithFilter, ([stored, imageFilter, sources]) => {
        // Without a source named, the listing covers the synced sources only.
        const listed = imageFilter.source !== undefined || sources.some((source) => source.sourceId === stored.sourceId);
        const expected = listed && keyMatches(imageFilter, stored);
        outcomes.add(expected);
        expect(segments(imageFilter, sources).filter((segment) => reads(segment, stored)).length).toBe(expected ? 1 : 0);
      }),
      { numRuns: 500 },
    );
    expect(outcomes).toEqual(new Set([true, false]));
  });

  it("lists segments in the index's order, each source's sort keys within its own bounds", () => {
    fc.assert(
      fc.property(filter, fc.array(sourceRef, { maxLength: 6 }), (anyFilter, sources) => {
        const all = segments(anyFilter, sources);
        expect(new Set(all.map((segment) => segment.index.name)).size).toBeLessThanOrEqual(1);
        for (const [i, segment] of all.entries()) {
          expect(segment.start < segment.end).toBe(true);
          if (i > 0) expect((all[i - 1] as Segment).end < segment.start).toBe(true);
        }
      }),
    );
  });

  it("bounds a source's images by its start and end and no other source's", () => {
    fc.assert(
      fc.property(sourceRef, sourceRef, fc.string({ minLength: 1 }), (own, other, upstreamId) => {
        const sort = itemKeys.imageSort({ ...own, upstreamId });
        const within = (source: SourceRef) => sort > itemKeys.imageSortStart(source) && sort < itemKeys.imageSortEnd(source);
        expect(within(own)).toBe(true);
        if (other.sourceId !== own.sourceId) expect(within(other)).toBe(false);
      }),
      { numRuns: 1000 },
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
        // listImages adds its own #p_* names and :hash/:after values beside these; none may be overwritten.
        expect(Object.keys(ExpressionAttributeNames).filter((key) => key.startsWith("#p_"))).toEqual([]);
        expect(Object.keys(ExpressionAttributeValues).filter((key) => key === ":hash" || key === ":after")).toEqual([]);
      }),
    );
  });
});
