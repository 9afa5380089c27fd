/**
 * Contract suite: TritonClient against the CloudAPI simulator over loopback, endpoint by endpoint.
 * Expected results are computed from the simulator's raw IMGAPI records with IMGAPI's visibility rules
 * (TritonDataCenter/sdc-imgapi lib/images.js apiListImages), independently of the simulator's own filter code.
 */
import { guardSecret } from "../support/secrets";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { upstreamFailure } from "../support/upstream";
import {
  UpstreamAuthError,
  UpstreamConflictError,
  UpstreamError,
  UpstreamNetworkError,
  UpstreamNotFoundError,
  UpstreamPermissionError,
  UpstreamResponseError,
  UpstreamServerError,
  UpstreamThrottledError,
  UpstreamValidationError,
} from "../../packages/providers/http";
import { TritonClient, type ListImagesFilters } from "../../packages/providers/triton/client";
import type { TritonImage } from "../../packages/providers/triton/schemas";
import { createTritonSigner } from "../../packages/providers/triton/signing";
import { startTritonSimulator, type ImageRecord, type TritonSimulator } from "../../packages/simulators/triton/simulator";

let sim: TritonSimulator;
let client: TritonClient;
let me: string;

beforeAll(async () => {
  sim = await startTritonSimulator({ images: 400, seed: 7, createDelayMs: 40 });
  guardSecret(sim.privateKeyPem);
  me = sim.accountUuid;
  client = newClient();
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

beforeEach(() => {
  sim.faults.clear();
  sim.setThrottle(false);
  sim.setCreateOutcome("active");
});

function newClient(overrides: Partial<ConstructorParameters<typeof TritonClient>[0]> = {}): TritonClient {
  return new TritonClient({
    url: sim.url,
    account: sim.account,
    keyId: sim.keyId,
    privateKey: sim.privateKeyPem,
    retry: { baseDelayMs: 5 },
    ...overrides,
  });
}


/** A request signed like the client's, for what the client cannot send (bad actions, HEAD, raw headers). */
async function signedFetch(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const signer = createTritonSigner({ account: sim.account, privateKey: sim.privateKeyPem });
  const signed = signer.sign({ method, path });
  return fetch(sim.url + path, {
    method,
    headers: { ...signed, "accept-version": "~9", "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const activated = (image: ImageRecord) => image.state === "active" || image.state === "disabled";
const ids = (images: { id: string }[]) => images.map((image) => image.id);
const uuids = (images: ImageRecord[]) => images.map((image) => image.uuid);

/** Active images the account may see, oldest first. */
function visibleActive(): ImageRecord[] {
  return sim
    .imageRecords()
    .filter((image) => image.state === "active")
    .filter((image) => image.owner === me || image.public || image.acl.includes(me));
}

/** What ListImages returns with no filters: CloudAPI adds type=!docker when no type is given. */
function defaultListing(): ImageRecord[] {
  return visibleActive().filter((image) => image.type !== "docker");
}

function record(predicate: (image: ImageRecord) => boolean): ImageRecord {
  const found = sim.imageRecords().find(predicate);
  if (!found) throw new Error("seeded catalog lacks a needed image");
  return found;
}

describe("ListImages", () => {
  it("defaults to active, visible, non-docker images in published_at order", async () => {
    const images = await client.listImages();
    expect(images.length).toBeGreaterThan(100);
    expect(ids(images)).toEqual(uuids(defaultListing()));
    const published = images.map((image) => image.published_at ?? "");
    expect(published).toEqual(published.toSorted());
  });

  const filterCases: [string, ListImagesFilters, (image: ImageRecord) => boolean][] = [
    ["name exact", { name: "debian-12" }, (image) => image.name === "debian-12"],
    ["name ~substring", { name: "~ubuntu" }, (image) => image.name.includes("ubuntu")],
    ["version ~substring", { version: "~201401" }, (image) => image.version.includes("201401")],
    ["os", { os: "linux" }, (image) => image.os === "linux"],
    ["public=true", { public: true }, (image) => image.public],
    ["public=false", { public: false }, (image) => !image.public],
    ["owner", { owner: "930896af-bf8c-48d4-885c-6573a94b1853" }, (image) => image.owner === sim.adminUuid],
    ["type", { type: "zvol" }, (image) => image.type === "zvol"],
    ["type exclusion (replaces the default !docker)", { type: "!zvol" }, (image) => image.type !== "zvol"],
    ["combined", { os: "linux", type: "lx-dataset", public: true }, (image) => image.os === "linux" && image.type === "lx-dataset" && image.public],
  ];
  it.each(filterCases)("filters by %s", async (_label, filters, predicate) => {
    const expected = (filters.type === undefined ? defaultListing() : visibleActive()).filter(predicate);
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(await client.listImages(filters))).toEqual(uuids(expected));
  });

  it("matches version exactly", async () => {
    const sample = defaultListing()[5];
    if (!sample) throw new Error("catalog too small");
    const images = await client.listImages({ version: sample.version });
    expect(images.every((image) => image.version === sample.version)).toBe(true);
    expect(ids(images)).toContain(sample.uuid);
  });

  it("lists docker images only when asked for by type", async () => {
    const docker = await client.listImages({ type: "docker" });
    expect(docker.length).toBeGreaterThan(0);
    expect(docker.every((image) => image.type === "docker")).toBe(true);
    expect((await client.listImages()).some((image) => image.type === "docker")).toBe(false);
  });

  it.each(["disabled", "unactivated", "creating", "failed"] as const)("state=%s returns only the account's own images", async (state) => {
    const expected = sim.imageRecords().filter((image) => image.state === state && image.owner === me && image.type !== "docker");
    expect(expected.length).toBeGreaterThan(0);
    const images = await client.listImages({ state });
    expect(ids(images)).toEqual(uuids(expected));
  });

  it("state=all adds others' activated public or shared images, including disabled ones", async () => {
    const expected = sim
      .imageRecords()
      .filter((image) => image.type !== "docker")
      .filter((image) => image.owner === me || (activated(image) && (image.public || image.acl.includes(me))));
    const images = await client.listImages({ state: "all" });
    expect(ids(images)).toEqual(uuids(expected));
    expect(images.some((image) => image.state === "disabled" && image.owner !== me)).toBe(true);
  });

  it("rejects an unknown state with 422 InvalidParameter", async () => {
    const error = await upstreamFailure(client.listImages({ state: "bogus" as "all" }));
    expect(error).toBeInstanceOf(UpstreamValidationError);
    expect(error).toMatchObject({ status: 422, code: "InvalidParameter", upstreamMessage: 'invalid state: "bogus"' });
  });

  it("returns an unknown type as an empty list", async () => {
    expect(await client.listImages({ type: "meep" })).toEqual([]);
  });

  it("scales to a large catalog", async () => {
    const large = await startTritonSimulator({ images: 20_000, seed: 3 });
    const largeClient = new TritonClient({ url: large.url, account: large.account, privateKey: large.privateKeyPem });
    const images = await largeClient.listImages({ state: "all" });
    expect(images.length).toBeGreaterThan(10_000);
    await largeClient.close();
    await large.close();
  });
});

describe("image shape (translate)", () => {
  it("emits only whitelisted keys in CloudAPI's order", async () => {
    const order = ["id", "name", "version", "os", "requirements", "type", "image_size", "description", "files", "tags", "homepage", "published_at", "owner", "public", "state", "eula", "acl", "origin", "error"];
    const images = await client.listImages({ state: "all" });
    for (const image of images) {
      const keys = Object.keys(image);
      expect(keys).toEqual(order.filter((key) => keys.includes(key)));
    }
  });

  it("maps requirements and drops IMGAPI-only fields", async () => {
    const source = record((image) => image.state === "active" && image.public && image.type === "zvol" && image.requirements.max_ram !== undefined);
    sim.modifyImage(source.uuid, { requirements: { ...source.requirements, networks: [{ name: "net0" }], min_platform: { "7.0": "x" } } });
    const image = await client.getImage(source.uuid);
    expect(image.requirements).toMatchObject({ max_memory: 65536, max_ram: 65536, min_memory: source.requirements.min_ram });
    const exposed = ["max_memory", "max_ram", "min_memory", "min_ram", "brand", "bootrom"];
    expect(Object.keys(image.requirements).filter((key) => !exposed.includes(key))).toEqual([]);
    expect(image.image_size).toBe(source.image_size);
    expect(image.files).toEqual([{ compression: source.files[0]?.compression, sha1: source.files[0]?.sha1, size: source.files[0]?.size }]);
  });

  it("keeps bool, number and object tag values", async () => {
    const image = sim.addImage({ name: "tagged", tags: { role: "web", build: 42, certified: true, meta: { a: 1 } } });
    expect((await client.getImage(image.uuid)).tags).toEqual({ role: "web", build: 42, certified: true, meta: { a: 1 } });
  });

  it("hides unknown failure codes behind InternalError", async () => {
    const failed = sim.addImage({ name: "broken", owner: me, public: false, state: "failed", error: { code: "WorkflowBoom", message: "x" } });
    const image = await client.getImage(failed.uuid);
    expect(image.error).toEqual({ code: "InternalError", message: "an unexpected error occurred (Contact support for assistance.)" });
  });
});

describe("GetImage", () => {
  it("returns own images in any state and others' activated public or shared ones", async () => {
    const own = record((image) => image.owner === me && image.state === "unactivated");
    expect((await client.getImage(own.uuid)).state).toBe("unactivated");
    const shared = record((image) => image.owner !== me && !image.public && image.acl.includes(me) && image.state === "active");
    expect((await client.getImage(shared.uuid)).id).toBe(shared.uuid);
    const disabledPublic = record((image) => image.owner !== me && image.public && image.state === "disabled");
    expect((await client.getImage(disabledPublic.uuid)).state).toBe("disabled");
  });

  it("answers 404 with CloudAPI's wording for missing and invisible images", async () => {
    const missing = await upstreamFailure(client.getImage("00000000-0000-4000-8000-000000000000"));
    expect(missing).toBeInstanceOf(UpstreamNotFoundError);
    expect(missing.upstreamMessage).toBe("image 00000000-0000-4000-8000-000000000000 not found");
    const hidden = record((image) => image.owner !== me && !image.public && !image.acl.includes(me));
    const invisible = await upstreamFailure(client.getImage(hidden.uuid));
    expect(invisible).toMatchObject({ status: 404, code: "ResourceNotFound", upstreamMessage: "image not found" });
    const unactivatedPublic = sim.addImage({ name: "pending-public", state: "unactivated", published_at: undefined });
    expect((await upstreamFailure(client.getImage(unactivatedPublic.uuid))).status).toBe(404);
  });

  // Only a lower-case UUID is an id (sdc-cloudapi lib/datasets.js UUID_RE): names and upper-case UUIDs are
  // compared with the account's uuids and never match; node-triton resolves names itself (lib/tritonapi.js getImage).
  it("answers 404 for a name or an upper-case UUID, as CloudAPI never resolves names", async () => {
    const named = sim.addImage({ name: "unique-name-lookup", owner: me, public: false });
    expect((await upstreamFailure(client.getImage("unique-name-lookup"))).upstreamMessage).toBe("unique-name-lookup not found");
    const upper = named.uuid.toUpperCase();
    // Each failure is caught as soon as its call starts: they settle in any order.
    const failures = [client.getImage(upper), client.updateImage(upper, { description: "x" }), client.cloneImage(upper), client.exportImage(upper, `/${sim.account}/stor/x`), client.deleteImage(upper)].map(upstreamFailure);
    for (const failure of failures) {
      expect(await failure).toMatchObject({ status: 404, code: "ResourceNotFound", upstreamMessage: `${upper} not found` });
    }
    expect(sim.getImageRecord(named.uuid)?.description).toBeUndefined();
  });
});

describe("CreateImageFromMachine", () => {
  it("creates a placeholder that becomes active with os, type, files and origin", async () => {
    const origin = record((image) => image.public && image.state === "active" && image.type === "lx-dataset");
    const machine = sim.addMachine({ image: origin.uuid, brand: "lx" });
    const created = await client.createImageFromMachine({
      machine: machine.id,
      name: "my-app",
      version: "1.0.0",
      description: "web tier",
      tags: { role: "web" },
      acl: [sim.adminUuid],
    });
    expect(Object.keys(created)).toEqual(["id", "name", "version", "requirements", "description", "tags", "state", "acl"]);
    expect(created).toMatchObject({ requirements: {}, state: "creating" });

    const placeholder = await client.getImage(created.id);
    expect(placeholder).toMatchObject({ state: "creating", owner: me, public: false });
    expect(placeholder.os).toBeUndefined();
    expect(placeholder.type).toBeUndefined();
    expect(placeholder.published_at).toBeUndefined();
    expect(ids(await client.listImages())).not.toContain(created.id);
    expect(ids(await client.listImages({ state: "creating" }))).toContain(created.id);

    await new Promise((resolve) => setTimeout(resolve, 60));
    const active = await client.getImage(created.id);
    expect(active).toMatchObject({ state: "active", os: origin.os, type: "lx-dataset", origin: origin.uuid });
    expect(active.files).toHaveLength(1);
    expect(active.published_at).toMatch(/Z$/);
    expect(active.tags).toMatchObject({ role: "web", kernel_version: expect.any(String) });
    expect(ids(await client.listImages())).toContain(created.id);
  });

  it("ends as failed with an error when the simulator says so", async () => {
    sim.setCreateOutcome("failed");
    sim.setCreateDelayMs(0);
    const created = await client.createImageFromMachine({ machine: sim.addMachine().id, name: "doomed", version: "1" });
    const failed = await client.getImage(created.id);
    expect(failed.state).toBe("failed");
    expect(failed.error?.code).toBe("PrepareImageDidNotRun");
    sim.setCreateDelayMs(40);
  });

  it("accepts a running instance, as CloudAPI does", async () => {
    const created = await client.createImageFromMachine({ machine: sim.addMachine({ state: "running" }).id, name: "live", version: "1" });
    expect(created.state).toBe("creating");
  });

  it("rejects missing parameters with 409 MissingParameter", async () => {
    const machine = sim.addMachine().id;
    const cases: [Record<string, string>, string][] = [
      [{ name: "a", version: "1" }, "machine is a required argument"],
      [{ machine, version: "1" }, "Image name is a required argument"],
      [{ machine, name: "a" }, "Image version is a required argument"],
    ];
    for (const [input, message] of cases) {
      const error = await upstreamFailure(client.createImageFromMachine(input as never));
      expect(error).toBeInstanceOf(UpstreamValidationError);
      expect(error).toMatchObject({ status: 409, code: "MissingParameter", upstreamMessage: message });
    }
  });

  it("rejects unknown, foreign and docker machines with 422 InvalidParameter", async () => {
    const unknown = await upstreamFailure(client.createImageFromMachine({ machine: "11111111-1111-4111-8111-111111111111", name: "a", version: "1" }));
    expect(unknown).toMatchObject({ status: 422, code: "InvalidParameter", upstreamMessage: 'could not get VM "11111111-1111-4111-8111-111111111111" details' });
    expect(unknown.fieldErrors).toEqual([{ field: "vm_uuid", code: "Invalid" }]);
    const foreign = sim.addMachine({ owner: sim.adminUuid });
    expect((await upstreamFailure(client.createImageFromMachine({ machine: foreign.id, name: "a", version: "1" }))).code).toBe("InvalidParameter");
    const docker = sim.addMachine({ docker: true });
    const dockerError = await upstreamFailure(client.createImageFromMachine({ machine: docker.id, name: "a", version: "1" }));
    expect(dockerError.upstreamMessage).toBe("cannot create an image from a Docker container");
  });

  it("rejects invalid fields with 422 ValidationFailed and per-field errors", async () => {
    const error = await upstreamFailure(
      client.createImageFromMachine({ machine: sim.addMachine().id, name: "bad name!", version: "1", homepage: "ftp://x", acl: ["nope"] }),
    );
    expect(error).toBeInstanceOf(UpstreamValidationError);
    expect(error).toMatchObject({ status: 422, code: "ValidationFailed" });
    expect(error.fieldErrors.map((fieldError) => fieldError.field)).toEqual(["name", "homepage", "acl"]);
  });
});

describe("UpdateImage", () => {
  it("replaces fields, removes null ones and shares/unshares through acl", async () => {
    const image = sim.addImage({ name: "updatable", owner: me, public: false, description: "old", tags: { a: 1, b: 2 } });
    const updated = await client.updateImage(image.uuid, { tags: { c: 3 }, description: null, acl: [sim.adminUuid], version: "2.0.0" });
    expect(updated).toMatchObject({ id: image.uuid, tags: { c: 3 }, version: "2.0.0", acl: [sim.adminUuid] });
    expect(updated.description).toBeUndefined();
    const unshared = await client.updateImage(image.uuid, { acl: [] });
    expect("acl" in unshared).toBe(false);
    expect((await client.getImage(image.uuid)).tags).toEqual({ c: 3 });
  });

  it("requires parameters, ownership and visibility", async () => {
    const own = sim.addImage({ name: "own", owner: me, public: false });
    const empty = await upstreamFailure(client.updateImage(own.uuid, {}));
    expect(empty).toMatchObject({ status: 422, code: "ValidationFailed", upstreamMessage: "invalid image update data: no parameters provided" });
    const publicImage = record((image) => image.public && image.state === "active" && image.owner === sim.adminUuid);
    const notOwner = await upstreamFailure(client.updateImage(publicImage.uuid, { name: "mine" }));
    expect(notOwner).toBeInstanceOf(UpstreamPermissionError);
    expect(notOwner).toMatchObject({ status: 422, code: "NotImageOwner", upstreamMessage: `account ${me} is not the owner of image ${publicImage.uuid}` });
    const hidden = record((image) => image.owner !== me && !image.public && !image.acl.includes(me));
    expect(await upstreamFailure(client.updateImage(hidden.uuid, { name: "x" }))).toBeInstanceOf(UpstreamNotFoundError);
    expect((await upstreamFailure(client.updateImage(own.uuid, { homepage: "not a url" }))).code).toBe("ValidationFailed");
  });
});

describe("CloneImage", () => {
  it("copies a shared image into the account, cloning non-admin origins as disabled", async () => {
    const otherOwner = "22222222-2222-4222-8222-222222222222";
    const base = sim.addImage({ name: "their-base", owner: otherOwner, public: false, acl: [me] });
    const shared = sim.addImage({ name: "their-app", owner: otherOwner, public: false, acl: [me], origin: base.uuid, tags: { x: true } });
    const clone = await client.cloneImage(shared.uuid);
    expect(clone.id).not.toBe(shared.uuid);
    expect(clone).toMatchObject({ name: "their-app", owner: me, public: false, state: "active", tags: { x: true } });
    expect(clone.acl).toBeUndefined();
    expect(clone.origin).not.toBe(base.uuid);
    const clonedOrigin = await client.getImage(clone.origin ?? "");
    expect(clonedOrigin).toMatchObject({ name: "their-base", owner: me, state: "disabled" });
    expect(ids(await client.listImages())).toContain(clone.id);
  });

  it("requires the image to be shared with the caller and active", async () => {
    const publicImage = record((image) => image.public && image.state === "active" && image.acl.length === 0 && image.owner === sim.adminUuid);
    const notShared = await upstreamFailure(client.cloneImage(publicImage.uuid));
    // IMGAPI names the account first and the image second (sdc-imgapi lib/errors.js ImageNotSharedError).
    expect(notShared).toMatchObject({ status: 422, code: "ImageNotShared", upstreamMessage: `Image ${me} is not shared with account ${publicImage.uuid}` });
    const inactive = sim.addImage({ name: "inactive", owner: me, public: false, state: "unactivated", acl: [me] });
    expect(await upstreamFailure(client.cloneImage(inactive.uuid))).toMatchObject({ code: "ValidationFailed", upstreamMessage: "image is not active" });
    const hidden = record((image) => image.owner !== me && !image.public && !image.acl.includes(me));
    expect((await upstreamFailure(client.cloneImage(hidden.uuid))).status).toBe(404);
  });
});

describe("ExportImage", () => {
  it("exports an owned image to a Manta path or directory", async () => {
    const image = sim.addImage({ name: "exportable", version: "1.2", owner: me, public: false });
    expect(await client.exportImage(image.uuid, `/${sim.account}/stor/backups/exportable`)).toEqual({
      manta_url: "https://us-central.manta.mnx.io",
      image_path: `/${sim.account}/stor/backups/exportable.zfs.gz`,
      manifest_path: `/${sim.account}/stor/backups/exportable.imgmanifest`,
    });
    expect((await client.exportImage(image.uuid, `/${sim.account}/stor`)).image_path).toBe(`/${sim.account}/stor/exportable-1.2.zfs.gz`);
  });

  it("requires ownership of the image and of the Manta path", async () => {
    const image = sim.addImage({ name: "exportable", owner: me, public: false });
    const wrongPath = await upstreamFailure(client.exportImage(image.uuid, "/someone-else/stor/x"));
    expect(wrongPath).toBeInstanceOf(UpstreamPermissionError);
    expect(wrongPath).toMatchObject({ status: 422, code: "NotMantaPathOwner" });
    const publicImage = record((candidate) => candidate.public && candidate.state === "active" && candidate.owner === sim.adminUuid);
    expect((await upstreamFailure(client.exportImage(publicImage.uuid, `/${sim.account}/stor/x`))).code).toBe("NotImageOwner");
  });

  it("requires manta_path", async () => {
    const image = sim.addImage({ name: "exportable", owner: me, public: false });
    const response = await signedFetch("POST", `/${sim.account}/images/${image.uuid}?action=export`);
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ code: "MissingParameter", message: "Image destination manta_path is a required argument" });
  });

  it("answers 503 StorageUnsupported without Manta storage", async () => {
    const noManta = await startTritonSimulator({ mantaStorage: false });
    const noMantaClient = new TritonClient({ url: noManta.url, account: noManta.account, privateKey: noManta.privateKeyPem, maxAttempts: 1 });
    const image = noManta.addImage({ name: "x", owner: noManta.accountUuid, public: false });
    const error = await upstreamFailure(noMantaClient.exportImage(image.uuid, `/${noManta.account}/stor/x`));
    expect(error).toBeInstanceOf(UpstreamServerError);
    expect(error).toMatchObject({ status: 503, code: "StorageUnsupported" });
    await noMantaClient.close();
    await noManta.close();
  });
});

describe("DeleteImage", () => {
  it("deletes an owned image at once", async () => {
    const image = sim.addImage({ name: "doomed", owner: me, public: false });
    expect(ids(await client.listImages({ name: "doomed" }))).toContain(image.uuid);
    await client.deleteImage(image.uuid);
    expect(await upstreamFailure(client.getImage(image.uuid))).toBeInstanceOf(UpstreamNotFoundError);
    expect(ids(await client.listImages({ name: "doomed" }))).not.toContain(image.uuid);
  });

  it("refuses images with dependents, others' images and invisible ones", async () => {
    const parent = sim.addImage({ name: "parent", owner: me, public: false });
    const child = sim.addImage({ name: "child", owner: me, public: false, origin: parent.uuid });
    const dependents = await upstreamFailure(client.deleteImage(parent.uuid));
    expect(dependents).toBeInstanceOf(UpstreamConflictError);
    expect(dependents).toMatchObject({ status: 422, code: "ImageHasDependentImages", upstreamMessage: `image "${parent.uuid}" has 1 dependent incremental image(s): ${child.uuid}` });
    const publicImage = record((image) => image.public && image.state === "active" && image.owner === sim.adminUuid);
    expect(await upstreamFailure(client.deleteImage(publicImage.uuid))).toBeInstanceOf(UpstreamPermissionError);
    expect((await upstreamFailure(client.deleteImage("33333333-3333-4333-8333-333333333333"))).status).toBe(404);
  });
});

describe("routing, actions, versions and headers", () => {
  it("rejects missing and unknown actions", async () => {
    const image = sim.addImage({ name: "x", owner: me, public: false });
    const missing = await signedFetch("POST", `/${sim.account}/images/${image.uuid}`, {}, {});
    expect(missing.status).toBe(409);
    expect(await missing.json()).toEqual({ code: "MissingParameter", message: "action is a required argument" });
    const unknown = await signedFetch("POST", `/${sim.account}/images/${image.uuid}?action=frob`, {}, {});
    expect(await unknown.json()).toEqual({ code: "InvalidArgument", message: "action frob is not a valid argument" });
  });

  it("serves the `my` alias and restify response headers with a correct Content-MD5", async () => {
    const response = await signedFetch("GET", "/my/images?os=smartos", { "x-request-id": "trace-123" });
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("server")).toBe("cloudapi/9.20.0");
    expect(response.headers.get("api-version")).toBe("9.0.0");
    expect(response.headers.get("request-id")).toBe("trace-123");
    expect(response.headers.get("response-time")).toMatch(/^\d+$/);
    expect(response.headers.get("content-md5")).toBe(createHash("md5").update(body).digest("base64"));
    expect(response.headers.get("content-length")).toBe(String(Buffer.byteLength(body)));
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toBe("GET, HEAD, POST");
    expect((JSON.parse(body) as TritonImage[]).every((image) => image.os === "smartos")).toBe(true);
  });

  it("answers HEAD with headers and no body", async () => {
    const response = await signedFetch("HEAD", `/${sim.account}/images`);
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await response.text()).toBe("");
  });

  it("maps types for Accept-Version ~7 and rejects unsupported versions", async () => {
    const v7 = await signedFetch("GET", `/${sim.account}/images?state=all`, { "accept-version": "~7" });
    const types = new Set(((await v7.json()) as TritonImage[]).map((image) => image.type).filter(Boolean));
    expect(types).toEqual(new Set(["smartmachine", "virtualmachine"]));
    const v10 = await signedFetch("GET", `/${sim.account}/images`, { "accept-version": "~10" });
    expect(v10.status).toBe(400);
    expect(await v10.json()).toEqual({ code: "InvalidVersion", message: `~10 is not supported by GET /${sim.account}/images` });
  });

  it("answers unknown routes, wrong methods and ping like restify", async () => {
    const unknown = await signedFetch("GET", `/${sim.account}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ code: "ResourceNotFound", message: `/${sim.account}/nowhere does not exist` });
    // Another account in the path is loaded before it is refused (sdc-cloudapi lib/auth.js loadAccount).
    expect(await (await signedFetch("GET", "/nobody/images")).json()).toEqual({ code: "ResourceNotFound", message: "nobody does not exist" });
    const wrongMethod = await signedFetch("PUT", `/${sim.account}/images`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET, HEAD, POST");
    const ping = await fetch(`${sim.url}/--ping`);
    expect(await ping.json()).toEqual({ ping: "pong", cloudapi: { versions: ["7.0.0", "7.1.0", "7.2.0", "7.3.0", "8.0.0", "9.0.0"] } });
  });

  it("rejects bodies over 100 kB with 413", async () => {
    const image = sim.addImage({ name: "x", owner: me, public: false });
    const error = await upstreamFailure(client.updateImage(image.uuid, { description: "x".repeat(100_001) }));
    expect(error).toMatchObject({ status: 413, code: "RequestEntityTooLarge" });
  });
});

describe("resilience against the simulator's faults", () => {
  it("retries 5xx and resets, then succeeds", async () => {
    sim.counters.reset();
    sim.faults.status(503, { times: 1, method: "GET" });
    sim.faults.reset({ times: 1, method: "GET" });
    sim.faults.truncate({ times: 1, method: "GET" });
    expect((await client.listImages()).length).toBeGreaterThan(0);
    expect(sim.counters.get("ListImages")).toBe(4);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const limited = newClient({ maxAttempts: 3 });
    sim.counters.reset();
    sim.faults.status(500);
    const error = await upstreamFailure(limited.listImages());
    expect(error).toBeInstanceOf(UpstreamServerError);
    expect(error).toMatchObject({ status: 500, code: "InternalError", upstreamMessage: "Internal Error" });
    expect(sim.counters.get("ListImages")).toBe(3);
    await limited.close();
  });

  it("surfaces malformed JSON and persistent resets as typed errors", async () => {
    const once = newClient({ maxAttempts: 1 });
    sim.faults.malformed({ times: 1 });
    expect(await upstreamFailure(once.listImages())).toBeInstanceOf(UpstreamResponseError);
    sim.faults.reset({ times: 1 });
    expect(await upstreamFailure(once.listImages())).toBeInstanceOf(UpstreamNetworkError);
    await once.close();
  });

  it("is throttled by the token bucket with CloudAPI's 429 body", async () => {
    const once = newClient({ maxAttempts: 1 });
    sim.setThrottle({ burst: 2, rate: 1 });
    await once.listImages({ name: "debian-12" });
    await once.listImages({ name: "debian-12" });
    const error = await upstreamFailure(once.listImages({ name: "debian-12" }));
    expect(error).toBeInstanceOf(UpstreamThrottledError);
    expect(error).toMatchObject({ status: 429, code: "TooManyRequestsError", upstreamMessage: "You have exceeded your request rate of 1 r/s." });
    await once.close();
  });

  it("rides out throttling with backoff", async () => {
    const patient = newClient({ maxAttempts: 6, retry: { baseDelayMs: 100 } });
    sim.setThrottle({ burst: 1, rate: 20 });
    const results = await Promise.all([1, 2, 3].map(() => patient.listImages({ name: "debian-12" })));
    expect(results.every((images) => images.length > 0)).toBe(true);
    await patient.close();
  });

  const errorCases: [number, string, new (...args: never[]) => UpstreamError, boolean][] = [
    [400, "InvalidHeader", UpstreamAuthError, false],
    [401, "InvalidCredentials", UpstreamAuthError, false],
    [403, "NotAuthorized", UpstreamPermissionError, false],
    [404, "ResourceNotFound", UpstreamNotFoundError, false],
    [409, "ImageUuidAlreadyExists", UpstreamConflictError, false],
    [409, "InvalidArgument", UpstreamValidationError, false],
    [420, "RequestThrottled", UpstreamThrottledError, true],
    [422, "OriginIsNotActive", UpstreamConflictError, false],
    [501, "NotAvailable", UpstreamServerError, false],
    [503, "ServiceUnavailable", UpstreamServerError, true],
  ];
  it.each(errorCases)("maps %i %s to its error class", async (status, code, errorClass, retryable) => {
    const once = newClient({ maxAttempts: 1 });
    sim.faults.inject({ kind: "status", status, body: { code, message: `simulated ${code}`, errors: [{ field: "f", code: "Invalid" }] }, times: 1 });
    const error = await upstreamFailure(once.listImages());
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ status, code, upstreamMessage: `simulated ${code}`, retryable, fieldErrors: [{ field: "f", code: "Invalid" }] });
    await once.close();
  });

  it("reports an upstream field change as a response error naming the field", async () => {
    const image = sim.addImage({ name: "drifted", owner: me, public: false });
    sim.modifyImage(image.uuid, { files: [{ compression: "lz4" as "gzip", sha1: "x", size: 1 }] });
    const error = await upstreamFailure(client.getImage(image.uuid));
    expect(error).toBeInstanceOf(UpstreamResponseError);
    expect((error as UpstreamResponseError).issuePath).toBe("files[0].compression");
    const listError = await upstreamFailure(client.listImages({ name: "drifted" }));
    expect((listError as UpstreamResponseError).issuePath).toBe("[0].files[0].compression");
    sim.removeImage(image.uuid);
  });

  it("keeps image fields it does not know, so the stored upstream document is complete", async () => {
    const image = sim.addImage({ name: "extended", owner: me, public: false });
    const served = await client.getImage(image.uuid);
    sim.faults.inject({ kind: "status", status: 200, body: { ...served, nic_tag_requirements: ["external"] }, times: 1 });
    expect(await client.getImage(image.uuid)).toEqual({ ...served, nic_tag_requirements: ["external"] });
    sim.removeImage(image.uuid);
  });

  it("counts requests per endpoint", async () => {
    sim.counters.reset();
    const image = sim.addImage({ name: "counted", owner: me, public: false });
    await client.getImage(image.uuid);
    await client.updateImage(image.uuid, { name: "counted2" });
    await client.deleteImage(image.uuid);
    expect(sim.counters.snapshot()).toEqual({ GetImage: 1, UpdateImage: 1, DeleteImage: 1 });
  });
});

describe("seeding and catalog changes", () => {
  it("builds the same catalog for the same seed", async () => {
    const a = await startTritonSimulator({ images: 50, seed: 42, privateKey: sim.privateKeyPem });
    const b = await startTritonSimulator({ images: 50, seed: 42, privateKey: sim.privateKeyPem });
    expect(a.imageRecords()).toEqual(b.imageRecords());
    const kinds = new Set(a.imageRecords().map((image) => `${image.state}/${image.public}`));
    expect(kinds.size).toBeGreaterThan(4);
    await a.close();
    await b.close();
  });

  it("changes a fraction of images as upstream would", async () => {
    const before = new Map((await client.listImages({ state: "all" })).map((image) => [image.id, JSON.stringify(image)]));
    const changed = sim.mutateImages(0.05, { seed: 9 });
    expect(changed.length).toBeGreaterThan(0);
    const after = await client.listImages({ state: "all" });
    const differing = after.filter((image) => before.get(image.id) !== JSON.stringify(image)).map((image) => image.id);
    expect(new Set(differing)).toEqual(new Set(changed.filter((uuid) => before.has(uuid))));
  });
});
