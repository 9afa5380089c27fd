import { z } from "zod";

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
  os: z.string().optional(),
  requirements: z.object({
    min_memory: z.number().optional(),
    max_memory: z.number().optional(),
    min_ram: z.number().optional(),
    max_ram: z.number().optional(),
    brand: z.string().optional(),
    bootrom: z.string().optional(),
  }),
  type: z.string().optional(),
  image_size: z.number().optional(),
  description: z.string().optional(),
  files: z
    .array(
      z.object({
        compression: z.enum(["bzip2", "gzip", "none", "xz"]),
        sha1: z.string(),
        size: z.number().int().nonnegative(),
      }),
    )
    .optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  homepage: z.string().optional(),
  published_at: z.iso.datetime().optional(),
  owner: UuidSchema.optional(),
  public: z.boolean().optional(),
  state: z.enum(imageStates).optional(),
  eula: z.string().optional(),
  acl: z.array(UuidSchema).optional(),
  origin: UuidSchema.optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
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
  code: z.string().optional(),
  message: z.string().optional(),
  errors: z
    .array(z.object({ field: z.string(), code: z.string().optional(), message: z.string().optional() }))
    .optional(),
});
export type TritonErrorBody = z.output<typeof TritonErrorBodySchema>;
