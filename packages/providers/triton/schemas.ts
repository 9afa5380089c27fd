import * as z from "../../core/zod";

/** Image states CloudAPI returns (IMGAPI's internal `destroyed` surfaces as 404). */
export const imageStates = ["active", "unactivated", "disabled", "creating", "failed"] as const;
export type ImageState = (typeof imageStates)[number];

/** Lenient UUID check: IMGAPI uuids are not always RFC 4122 variant-conformant. */
const UuidSchema = z.guid();

/**
 * An image as CloudAPI's translate() emits it (API version 8 and later). Unknown keys are kept, so
 * the inventory stores the whole upstream document; a known key with a changed type fails validation.
 */
export const TritonImageSchema = z.looseObject({
  id: UuidSchema,
  name: z.string(),
  version: z.string(),
  os: z.optional(z.string()),
  requirements: z.object({
    min_memory: z.optional(z.number()),
    max_memory: z.optional(z.number()),
    min_ram: z.optional(z.number()),
    max_ram: z.optional(z.number()),
    brand: z.optional(z.string()),
    bootrom: z.optional(z.string()),
  }),
  type: z.optional(z.string()),
  image_size: z.optional(z.number()),
  description: z.optional(z.string()),
  files: z.optional(
    z.array(
      z.object({
        compression: z.enum(["bzip2", "gzip", "none", "xz"]),
        sha1: z.string(),
        size: z.number().check(z.int(), z.nonnegative()),
      }),
    ),
  ),
  tags: z.optional(z.record(z.string(), z.unknown())),
  homepage: z.optional(z.string()),
  published_at: z.optional(z.iso.datetime()),
  owner: z.optional(UuidSchema),
  public: z.optional(z.boolean()),
  state: z.optional(z.enum(imageStates)),
  eula: z.optional(z.string()),
  acl: z.optional(z.array(UuidSchema)),
  origin: z.optional(UuidSchema),
  error: z.optional(z.object({ code: z.string(), message: z.string() })),
});
export type TritonImage = z.output<typeof TritonImageSchema>;

export const TritonImageListSchema = z.array(TritonImageSchema);

export const ExportImageResultSchema = z.object({
  manta_url: z.string(),
  image_path: z.string(),
  manifest_path: z.string(),
});
export type ExportImageResult = z.output<typeof ExportImageResultSchema>;

/** CloudAPI error body; IMGAPI pass-through errors may add per-field `errors`. */
export const TritonErrorBodySchema = z.object({
  code: z.optional(z.string()),
  message: z.optional(z.string()),
  errors: z.optional(z.array(z.object({ field: z.string(), code: z.optional(z.string()), message: z.optional(z.string()) }))),
});
export type TritonErrorBody = z.output<typeof TritonErrorBodySchema>;
