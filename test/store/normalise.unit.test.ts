/** Normalisation of upstream documents: the content hash and the common view, without DynamoDB. */
import { describe, expect, it } from "vitest";
import type { CoxEdgeImage } from "../../packages/providers/coxedge/schemas";
import type { TritonImage } from "../../packages/providers/triton/schemas";
import { contentHash, normaliseImage } from "../../packages/store/normalise";
import { tritonImage } from "./fixtures";

describe("normalisation", () => {
  it("hashes content, not key order", () => {
    const reordered = Object.fromEntries(Object.entries(tritonImage).toReversed()) as TritonImage;
    expect(contentHash(reordered)).toBe(contentHash(tritonImage));
    expect(contentHash({ ...tritonImage, tags: { group: "base-32", role: "os" } })).toBe(contentHash(tritonImage));
    expect(contentHash({ ...tritonImage, description: "other" })).not.toBe(contentHash(tritonImage));
  });

  it("fingerprints the document as listed: key order counts there, and any other difference too", () => {
    const fingerprint = (image: TritonImage) => normaliseImage({ provider: "triton", image }).fingerprint;
    const reordered = Object.fromEntries(Object.entries(tritonImage).toReversed()) as TritonImage;
    expect(fingerprint({ ...tritonImage })).toBe(fingerprint(tritonImage));
    expect(fingerprint(reordered)).not.toBe(fingerprint(tritonImage));
    expect(fingerprint({ ...tritonImage, description: "other" })).not.toBe(fingerprint(tritonImage));
    expect(fingerprint(tritonImage)).toHaveLength(16);
  });

  it("keeps every stored hash valid: the canonical form and the hash never change for the same content", () => {
    // Pinned from the first implementation: a different value would make every sync rewrite every image.
    const document = { z: 1, a: [1, null, { "b c": 'x"y', é: true, u: undefined }], "key\nline": { nested: [[], {}] }, n: -0.5e-7, s: "tab\t" };
    expect(contentHash(document)).toBe("bCyQ4_KibSwyv2nUJIpILywPDvIDxtlkqDe0P1Vy19g");
  });

  it("maps Cox Edge fields onto the common view", () => {
    const image: CoxEdgeImage = {
      id: "a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110",
      stackId: "a8050b2b-39eb-4929-bce5-1af42055903e",
      family: "ubuntu",
      tag: "v20201110",
      slug: "stackpath-edge",
      createdAt: "2020-11-10T20:34:11.328575Z",
      description: "Image using ubuntu",
      reference: "stackpath-edge/ubuntu:v20201110",
      status: "PROCESSING",
    };
    expect(normaliseImage({ provider: "coxedge", image }).view).toEqual({
      name: "ubuntu",
      version: "v20201110",
      os: "ubuntu",
      type: "default",
      state: "creating",
      status: "PROCESSING",
      public: true,
      owner: image.stackId,
      description: "Image using ubuntu",
      createdAt: "2020-11-10T20:34:11.328Z",
    });
  });
});
