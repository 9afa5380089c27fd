/**
 * Contract tests for the Triton behaviour the public sources pin down and an earlier simulator guessed
 * otherwise: each names its evidence (repository and path). The client and a two-datacenter simulated
 * cloud talk over loopback; raw requests are signed like the client's.
 */
import { guardSecret } from "../support/secrets";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UpstreamThrottledError } from "../../packages/providers/http";
import { TritonClient } from "../../packages/providers/triton/client";
import { createTritonSigner } from "../../packages/providers/triton/signing";
import { startTritonSimulator, type TritonSimulator } from "../../packages/simulators/triton/simulator";
import { upstreamFailure } from "../support/upstream";

let central: TritonSimulator;
let west: TritonSimulator;
let client: TritonClient;
let westClient: TritonClient;
let me: string;

beforeAll(async () => {
  central = await startTritonSimulator({ images: 60, seed: 11 });
  west = await startTritonSimulator({ cloud: central.cloud, images: 20 });
  guardSecret(central.privateKeyPem);
  me = central.accountUuid;
  client = clientOf(central);
  westClient = clientOf(west);
});

afterAll(async () => {
  await Promise.all([client.close(), westClient.close()]);
  await Promise.all([central.close(), west.close()]);
});

beforeEach(() => {
  central.setThrottle(false);
  west.setImportDelayMs(20);
});

function clientOf(sim: TritonSimulator): TritonClient {
  return new TritonClient({ url: sim.url, account: sim.account, keyId: sim.keyId, privateKey: sim.privateKeyPem, retry: { baseDelayMs: 5 } });
}

/** A raw request signed like the client's, for what the client never sends. */
async function signed(sim: TritonSimulator, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const signer = createTritonSigner({ account: sim.account, privateKey: sim.privateKeyPem });
  const response = await fetch(sim.url + path, {
    method,
    redirect: "manual",
    headers: { ...signer.sign({ method, path }), "accept-version": "~9||~8", "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const ownImage = (sim: TritonSimulator, name: string, fields = {}) => sim.addImage({ name, owner: me, public: false, ...fields });

// restify 4 merges query and body parameters, body winning (mapParams/overrideParams), so every action
// parameter may come in either (TritonDataCenter/sdc-cloudapi lib/datasets.js update/exportImage/cloneImage,
// lib/app.js bodyParser); node-triton sends ExportImage's in the body (lib/cloudapi2.js exportImage).
describe("actions from the query or the body", () => {
  it("exports with action and manta_path in the body, as node-triton sends it", async () => {
    const image = ownImage(central, "body-export", { version: "2" });
    const response = await signed(central, "POST", `/${central.account}/images/${image.uuid}`, { action: "export", manta_path: `/${central.account}/stor/x/` });
    expect(response).toMatchObject({ status: 200, body: { image_path: `/${central.account}/stor/x/body-export-2.zfs.gz` } });
  });

  it("updates and clones with the action in the body; the body's value wins over the query's", async () => {
    const image = ownImage(central, "body-update");
    const updated = await signed(central, "POST", `/${central.account}/images/${image.uuid}?action=clone`, { action: "update", description: "from the body" });
    expect(updated).toMatchObject({ status: 200, body: { id: image.uuid, description: "from the body" } });
    const shared = central.addImage({ name: "body-clone", owner: central.adminUuid, public: false, acl: [me] });
    const cloned = await signed(central, "POST", `/${central.account}/images/${shared.uuid}`, { action: "clone" });
    expect(cloned).toMatchObject({ status: 200, body: { name: "body-clone", owner: me } });
  });

  it("asks for an action when only the body names an unknown one, and names the query's unknown one", async () => {
    const image = ownImage(central, "bad-action");
    expect((await signed(central, "POST", `/${central.account}/images/${image.uuid}`, { action: "frob" })).body).toEqual({ code: "MissingParameter", message: "action is a required argument" });
    expect((await signed(central, "POST", `/${central.account}/images/${image.uuid}?action=frob`, {})).body).toEqual({ code: "InvalidArgument", message: "action frob is not a valid argument" });
  });

  it("imports with the action, datacenter and id in the body", async () => {
    const image = ownImage(central, "body-import");
    const response = await signed(west, "POST", `/${west.account}/images`, { action: "import-from-datacenter", datacenter: central.datacenterName, id: image.uuid });
    expect(response).toMatchObject({ status: 200, body: { id: image.uuid, name: "body-import" } });
  });
});

// What the `triton` CLI calls around image commands (TritonDataCenter/node-triton lib/do_image/do_list.js
// getAccount for the flags column, lib/tritonapi.js getInstance for `image create <name>`, copyImageToDatacenter).
describe("account, machines and datacenters", () => {
  it("serves GetAccount for the login and for `my`", async () => {
    for (const login of [central.account, "my"]) {
      expect((await signed(central, "GET", `/${login}`)).body).toMatchObject({ id: me, login: central.account });
    }
  });

  it("finds a machine by name with x-resource-count, pages with limit/offset, and gets it by id", async () => {
    const machine = central.addMachine({ name: "builder-1", state: "running" });
    central.addMachine({ name: "builder-2" });
    const byName = await signed(central, "GET", `/${central.account}/machines?name=builder-1`);
    expect(byName.headers.get("x-resource-count")).toBe("1");
    expect(byName.body).toEqual([expect.objectContaining({ id: machine.id, name: "builder-1", state: "running" })]);
    const page = await signed(central, "GET", `/${central.account}/machines?limit=1&offset=1`);
    expect(page.body).toHaveLength(1);
    expect(Number(page.headers.get("x-resource-count"))).toBeGreaterThanOrEqual(2);
    expect((await signed(central, "GET", `/${central.account}/machines/${machine.id}`)).body).toMatchObject({ id: machine.id, name: "builder-1" });
    expect((await signed(west, "GET", `/${west.account}/machines/${machine.id}`)).status).toBe(404);
  });

  it("lists the cloud's datacenters with Triton-Datacenter-Name, on ping too, and redirects GetDatacenter", async () => {
    const listed = await signed(west, "GET", `/${west.account}/datacenters`);
    expect(listed.body).toEqual({ [central.datacenterName]: central.url, [west.datacenterName]: west.url });
    expect(listed.headers.get("triton-datacenter-name")).toBe("us-west-1");
    expect((await fetch(`${central.url}/--ping`)).headers.get("triton-datacenter-name")).toBe("us-central-1");
    const moved = await signed(west, "GET", `/${west.account}/datacenters/us-central-1`);
    expect(moved).toMatchObject({ status: 302, body: { code: "ResourceMoved" } });
    expect(moved.headers.get("location")).toBe(central.url);
  });
});

// The order of checks (TritonDataCenter/sdc-cloudapi lib/app.js: bodyParser before the auth handlers;
// lib/datasets.js loadDatasets loads the image in the `before` chain, ahead of the throttle).
describe("order of checks", () => {
  it("parses the body before authenticating: bad JSON is 400 and a large body 413, even unsigned", async () => {
    const path = `/${central.account}/images`;
    const badJson = await fetch(central.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(badJson.status).toBe(400);
    const large = await fetch(central.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ x: "y".repeat(100_001) }) });
    expect(large.status).toBe(413);
    expect((await fetch(central.url + path, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status).toBe(401);
  });

  it("answers 404 for a missing image before 429 for an empty bucket", async () => {
    central.setThrottle({ burst: 1, rate: 0.001 });
    await signed(central, "GET", `/${central.account}/images?name=x`);
    expect((await signed(central, "GET", `/${central.account}/images/00000000-0000-4000-8000-000000000001`)).status).toBe(404);
    expect((await signed(central, "GET", `/${central.account}/images`)).status).toBe(429);
  });
});

describe("clone and image objects", () => {
  // sdc-imgapi lib/images.js apiCloneImage: `docker images cannot be cloned`, 422 ValidationFailed.
  it("refuses to clone a Docker image with 422 ValidationFailed naming the field", async () => {
    const docker = central.addImage({ name: "dockerish", type: "docker", owner: central.adminUuid, public: false, acl: [me] });
    expect(await upstreamFailure(client.cloneImage(docker.uuid))).toMatchObject({
      status: 422,
      code: "ValidationFailed",
      upstreamMessage: "docker images cannot be cloned",
      fieldErrors: [{ field: "type", code: "Invalid" }],
    });
  });

  // sdc-imgapi lib/images.js apiCloneImage copies the image's `disabled`; only intermediate origins are forced disabled.
  it("keeps a cloned disabled image disabled", async () => {
    const disabled = central.addImage({ name: "disabled-shared", owner: central.adminUuid, public: false, acl: [me], state: "disabled" });
    expect((await client.cloneImage(disabled.uuid)).state).toBe("disabled");
  });

  // sdc-cloudapi lib/datasets.js translate(): `if (dataset.description)`; empty homepage and eula are dropped as well.
  it("drops empty description, homepage and eula from image objects", async () => {
    const image = central.addImage({ name: "empty-fields", description: "", homepage: "", eula: "" });
    const fetched = await client.getImage(image.uuid);
    expect(Object.keys(fetched)).not.toEqual(expect.arrayContaining(["description"]));
    expect(fetched).not.toHaveProperty("homepage");
    expect(fetched).not.toHaveProperty("eula");
  });
});

// ImportImageFromDatacenter: CloudAPI's own checks (sdc-cloudapi lib/datasets.js importFromDatacenter), then
// IMGAPI's (sdc-imgapi lib/images.js apiImportImageFromDatacenter); the answer is the image (200) once copied.
describe("ImportImageFromDatacenter", () => {
  it("copies the account's own image and its own origins, keeping uuid and published_at", async () => {
    const base = ownImage(central, "chain-base");
    const app = ownImage(central, "chain-app", { origin: base.uuid });
    const copied = await westClient.importImageFromDatacenter(central.datacenterName, app.uuid);
    expect(copied).toMatchObject({ id: app.uuid, name: "chain-app", published_at: app.published_at, origin: base.uuid, state: "active" });
    expect((await westClient.getImage(base.uuid)).id).toBe(base.uuid);
  });

  it("copies an image built on a base image, which every datacenter of the cloud holds", async () => {
    const base = central.imageRecords().find((image) => image.owner === central.adminUuid && image.public && image.state === "active");
    expect(base && west.getImageRecord(base.uuid)?.name).toBe(base?.name);
    const app = ownImage(central, "on-base", { origin: base?.uuid });
    expect((await westClient.importImageFromDatacenter(central.datacenterName, app.uuid)).origin).toBe(base?.uuid);
  });

  it("checks the datacenter and id parameters like CloudAPI and IMGAPI", async () => {
    const image = ownImage(central, "checks");
    const cases: [string, string, unknown][] = [
      ["", image.uuid, { status: 409, code: "MissingParameter", upstreamMessage: "datacenter is a required argument" }],
      [central.datacenterName, "not-a-uuid", { status: 409, code: "InvalidArgument", upstreamMessage: "id not-a-uuid must be a UUID" }],
      ["eu-nowhere-1", image.uuid, { status: 422, code: "ValidationFailed", upstreamMessage: 'datacenter "eu-nowhere-1" is not supported, valid datacenters names are: us-central-1' }],
      [west.datacenterName, image.uuid, { status: 422, code: "ValidationFailed", upstreamMessage: "cannot import into the same datacenter, valid datacenters names are: us-central-1" }],
    ];
    for (const [datacenter, id, expected] of cases) {
      expect(await upstreamFailure(westClient.importImageFromDatacenter(datacenter, id))).toMatchObject(expected as object);
    }
  });

  it("refuses others' images, inactive images, uuids already here and admin origins missing here", async () => {
    const publicImage = central.addImage({ name: "public" });
    expect(await upstreamFailure(westClient.importImageFromDatacenter("us-central-1", publicImage.uuid))).toMatchObject({ status: 401, code: "Unauthorized" });
    const inactive = ownImage(central, "inactive", { state: "unactivated" });
    expect(await upstreamFailure(westClient.importImageFromDatacenter("us-central-1", inactive.uuid))).toMatchObject({ status: 422, upstreamMessage: `Cannot import image ${inactive.uuid} - image is not active.` });
    const twice = ownImage(central, "twice");
    await westClient.importImageFromDatacenter("us-central-1", twice.uuid);
    expect(await upstreamFailure(westClient.importImageFromDatacenter("us-central-1", twice.uuid))).toMatchObject({ status: 409, code: "ImageUuidAlreadyExists" });
    const adminBase = central.addImage({ name: "admin-base" });
    const onAdminBase = ownImage(central, "on-admin-base", { origin: adminBase.uuid });
    expect(await upstreamFailure(westClient.importImageFromDatacenter("us-central-1", onAdminBase.uuid))).toMatchObject({ status: 404, upstreamMessage: expect.stringContaining(`origin image ${adminBase.uuid} must already exist`) });
  });

  it("holds the request until the copy is done; a client that stops waiting finds the image there later", async () => {
    const image = ownImage(central, "slow");
    west.setImportDelayMs(600);
    const error = await upstreamFailure(westClient.importImageFromDatacenter("us-central-1", image.uuid, { timeoutMs: 100 }));
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
    expect(await upstreamFailure(westClient.getImage(image.uuid))).toMatchObject({ status: 404 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await westClient.getImage(image.uuid)).id).toBe(image.uuid);
  });
});

describe("client", () => {
  // CloudAPI lists ecdsa-sha384, but verifies with http-signature 1.4, whose hash table has only sha1, sha256
  // and sha512 (TritonDataCenter/node-http-signature lib/utils.js): every P-384 signature would be refused.
  it("refuses an ECDSA P-384 key when it is configured, before any request", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => new TritonClient({ url: central.url, account: central.account, privateKey: p384 })).toThrow(/ECDSA P-384.*use an RSA, ECDSA P-256\/P-521 or Ed25519 key/);
  });

  // The docs name 420 RequestThrottled where restify 4 sends 429 (sdc-cloudapi docs/index.md, lib/throttle.js).
  it("treats 420 like 429: a throttled create is retried, as the upstream did not act on it", async () => {
    let calls = 0;
    const server: Server = createServer((_request, response) => {
      calls++;
      response.setHeader("content-type", "application/json");
      if (calls === 1) {
        response.statusCode = 420;
        response.end(JSON.stringify({ code: "RequestThrottled", message: "slow down" }));
        return;
      }
      response.statusCode = 201;
      response.end(JSON.stringify({ id: "11111111-1111-4111-8111-111111111111", name: "n", version: "1", requirements: {}, state: "creating" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const local = new TritonClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, account: "a", privateKey: central.privateKeyPem, retry: { baseDelayMs: 1 } });
    const once = new TritonClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, account: "a", privateKey: central.privateKeyPem, maxAttempts: 1 });
    try {
      expect((await local.createImageFromMachine({ machine: "22222222-2222-4222-8222-222222222222", name: "n", version: "1" })).state).toBe("creating");
      expect(calls).toBe(2);
      calls = 0;
      expect(await upstreamFailure(once.createImageFromMachine({ machine: "22222222-2222-4222-8222-222222222222", name: "n", version: "1" }))).toBeInstanceOf(UpstreamThrottledError);
    } finally {
      await Promise.all([local.close(), once.close()]);
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
