import { describe, expect, it } from "vitest";
import { stackpathStackId } from "../../packages/providers/coxedge/schemas";
import { environmentStack, generateCatalog } from "../../packages/simulators/coxedge/catalog";
import { CoxEdgeImageSchema } from "../../packages/providers/coxedge/schemas";
import { checkCreateImageRequest, ImageFamilySchema, ImageTagSchema } from "../../packages/providers/coxedge/validation";

const validRequest = {
  family: "ubuntu",
  tag: "v2021-01-01",
  workloadId: "c23652ed-0f15-47cf-a9b8-63e1e3aacb3c",
  instanceName: "w-john-ahd-wi-john-jsr-phx-0",
};

describe("Cox Edge family/tag rules", () => {
  it.each(["ubuntu", "centos7", "web-server", "a", "0", "a-b-c"])("accepts family %j", (family) => {
    expect(ImageFamilySchema.safeParse(family).success).toBe(true);
  });

  it.each(["Ubuntu", "-web", "web-", "web_server", "web.server", "", "wéb"])("rejects family %j", (family) => {
    expect(ImageFamilySchema.safeParse(family).success).toBe(false);
  });

  it.each(["v20201110", "V2021-01-01", "_build", "1.2.3", "release_2024.01.05", "a".repeat(128)])("accepts tag %j", (tag) => {
    expect(ImageTagSchema.safeParse(tag).success).toBe(true);
  });

  it.each([".hidden", "-dash", "", "a".repeat(129), "has space", "tag/slash", "tägg"])("rejects tag %j", (tag) => {
    expect(ImageTagSchema.safeParse(tag).success).toBe(false);
  });

  it("rejects the API documentation's own example family 'Ubuntu', naming the field", () => {
    const check = checkCreateImageRequest({ ...validRequest, family: "Ubuntu", description: "Ubuntu OS v4" });
    expect(check).toEqual({
      ok: false,
      problems: [{ field: "family", message: expect.stringMatching(/^family "Ubuntu" must consist of lower case/) }],
    });
  });

  it("reports every broken field once", () => {
    const check = checkCreateImageRequest({ tag: ".x", workloadId: 7, instanceName: "" });
    if (check.ok) throw new Error("expected problems");
    expect(check.problems.map((problem) => problem.field)).toEqual(["family", "tag", "workloadId", "instanceName"]);
    expect(check.problems[0]?.message).toBe("family is required");
  });

  it("accepts a valid request with or without description, dropping unknown keys", () => {
    expect(checkCreateImageRequest(validRequest)).toEqual({ ok: true, request: validRequest });
    expect(checkCreateImageRequest({ ...validRequest, description: "x", extra: 1 })).toEqual({
      ok: true,
      request: { ...validRequest, description: "x" },
    });
  });
});

describe("generated Cox Edge catalogs", () => {
  const stack = environmentStack("test-area");

  it("is deterministic for a seed and differs across seeds", () => {
    expect(generateCatalog({ images: 200, seed: 7 }, stack)).toEqual(generateCatalog({ images: 200, seed: 7 }, stack));
    expect(generateCatalog({ images: 200, seed: 8 }, stack)).not.toEqual(generateCatalog({ images: 200, seed: 7 }, stack));
  });

  it("produces unique, schema-valid, rule-abiding images split between the two stacks", () => {
    const images = generateCatalog({ images: 20_000, defaultShare: 0.25 }, stack);
    expect(images).toHaveLength(20_000);
    expect(new Set(images.map((image) => image.id)).size).toBe(20_000);
    for (const image of images) {
      expect(CoxEdgeImageSchema.parse(image)).toEqual(image);
      expect(image.id).toBe(`${image.stackId}/${image.family}/${image.tag}`);
      expect(image.reference).toBe(`${image.slug}/${image.family}:${image.tag}`);
      expect(ImageFamilySchema.safeParse(image.family).success).toBe(true);
      expect(ImageTagSchema.safeParse(image.tag).success).toBe(true);
    }
    const defaults = images.filter((image) => image.stackId === stackpathStackId);
    expect(defaults).toHaveLength(5_000);
    expect(images.filter((image) => image.stackId === stack.stackId)).toHaveLength(15_000);
    expect(new Set(images.map((image) => image.status))).toEqual(
      new Set(["READY", "PENDING", "PROCESSING", "FAILED", "IMAGE_STATUS_UNKNOWN"]),
    );
    expect(Math.max(...images.map((image) => Date.parse(image.createdAt)))).toBeLessThan(Date.now());
  }, 30_000); // 20,000 images: about a second alone, several on a loaded machine

  it("gives each environment its own stable stack", () => {
    expect(environmentStack("test-area")).toEqual(stack);
    expect(environmentStack("prod").stackId).not.toBe(stack.stackId);
    expect(stack.stackId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
