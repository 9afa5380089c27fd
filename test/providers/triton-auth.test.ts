/**
 * HTTP Signature auth: the client's signatures checked by Joyent's reference verifier
 * (`http-signature` 1.4.0) and by the simulator, plus every way the simulator rejects a request.
 */
import { guardSecret } from "../support/secrets";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import httpSignature from "http-signature";
import sshpk from "sshpk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upstreamFailure } from "../support/upstream";
import { UpstreamAuthError } from "../../packages/providers/http";
import { TritonClient } from "../../packages/providers/triton/client";
import { createTritonSigner } from "../../packages/providers/triton/signing";
import { generateKeyPair, startTritonSimulator, type TritonSimulator } from "../../packages/simulators/triton/simulator";

let sim: TritonSimulator;

beforeAll(async () => {
  sim = await startTritonSimulator({ images: 20, seed: 11 });
  guardSecret(sim.privateKeyPem);
});

afterAll(async () => {
  await sim.close();
});


function clientFor(privateKey: string, overrides: Partial<ConstructorParameters<typeof TritonClient>[0]> = {}) {
  return new TritonClient({ url: sim.url, account: sim.account, privateKey, maxAttempts: 1, ...overrides });
}

/** A raw request signed by the project's signer, optionally tampered with before sending. */
async function rawRequest(
  path: string,
  options: { privateKey?: string; account?: string; tamper?: (headers: Record<string, string>) => void } = {},
) {
  const signer = createTritonSigner({ account: options.account ?? sim.account, privateKey: options.privateKey ?? sim.privateKeyPem });
  const headers: Record<string, string> = { ...signer.sign({ method: "GET", path }), "accept-version": "~9" };
  options.tamper?.(headers);
  const response = await fetch(sim.url + path, { headers });
  return { status: response.status, body: (await response.json()) as { code: string; message: string } };
}

const p521Pem = () =>
  generateKeyPairSync("ec", { namedCurve: "P-521" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

const keyCases: [label: string, make: () => string, algorithm: string][] = [
  ["rsa", () => generateKeyPair("rsa").privateKeyPem, "rsa-sha256"],
  ["ecdsa P-256", () => generateKeyPair("ecdsa").privateKeyPem, "ecdsa-sha256"],
  ["ecdsa P-521", p521Pem, "ecdsa-sha512"],
  ["ed25519", () => generateKeyPair("ed25519").privateKeyPem, "ed25519-sha512"],
];

describe("Joyent's reference verifier (http-signature 1.4.0) accepts the client's signatures", () => {
  const captured: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    captured.push(request);
    response.setHeader("content-type", "application/json");
    response.end("[]");
  });
  let url = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it.each(keyCases)("%s", async (_label, makeKey, algorithm) => {
    const privateKeyPem = makeKey();
    const publicKey = sshpk.parsePrivateKey(privateKeyPem, "auto").toPublic().toString("ssh");
    const fingerprint = sshpk.parseKey(publicKey, "ssh").fingerprint("md5").toString("hex");
    const client = new TritonClient({ url, account: "alice", privateKey: privateKeyPem });
    await client.listImages({ name: "~base 64", state: "all" });
    await client.close();

    const request = captured.at(-1);
    if (!request) throw new Error("no request captured");
    const parsed = httpSignature.parseRequest(request, { clockSkew: 300 });
    expect(parsed.params.keyId).toBe(`/alice/keys/${fingerprint}`);
    expect(parsed.params.algorithm).toBe(algorithm);
    expect(parsed.params.headers).toEqual(["(request-target)", "date"]);
    expect(parsed.signingString).toBe(`(request-target): get ${request.url}\ndate: ${request.headers.date}`);
    expect(request.url).toContain("?name=");
    expect(httpSignature.verifySignature(parsed, publicKey)).toBe(true);

    // The verifier must also be able to say no: same signature, altered signing string or other key.
    expect(httpSignature.verifySignature({ ...parsed, signingString: `${parsed.signingString} ` }, publicKey)).toBe(false);
    expect(httpSignature.verifySignature(parsed, generateKeyPair("ed25519").publicKey)).toBe(false);
    expect(request.headers["accept-version"]).toBe("~9||~8");
    expect(request.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("the sub-user keyId form and date-only signing", async () => {
    const { privateKeyPem, publicKey, fingerprint } = generateKeyPair("rsa");
    const client = new TritonClient({ url, account: "alice", user: "bob", privateKey: privateKeyPem, signedHeaders: ["date"] });
    await client.listImages();
    await client.close();
    const request = captured.at(-1);
    if (!request) throw new Error("no request captured");
    const parsed = httpSignature.parseRequest(request);
    expect(parsed.params.keyId).toBe(`/alice/users/bob/keys/${fingerprint}`);
    expect(parsed.params.headers).toEqual(["date"]);
    expect(httpSignature.verifySignature(parsed, publicKey)).toBe(true);
  });
});

describe("simulator signature verification", () => {
  it.each(keyCases)("accepts the client's %s signatures", async (_label, makeKey) => {
    const privateKey = makeKey();
    sim.addKey(sshpk.parsePrivateKey(privateKey, "auto").toPublic().toString("ssh"));
    const client = clientFor(privateKey);
    expect((await client.listImages()).length).toBeGreaterThan(0);
    await client.close();
  });

  it("accepts OpenSSH private key text, date-only signing, key names and SHA256 fingerprints", async () => {
    const { privateKeyPem, publicKey } = generateKeyPair("ed25519");
    sim.addKey(publicKey, { name: "laptop" });
    const openssh = sshpk.parsePrivateKey(privateKeyPem, "auto").toString("openssh");
    const sha256 = sshpk.parseKey(publicKey, "ssh").fingerprint("sha256").toString();
    for (const overrides of [{ keyId: "laptop" }, { keyId: sha256 }, { signedHeaders: ["date" as const] }]) {
      const client = clientFor(openssh, overrides);
      expect((await client.listImages()).length).toBeGreaterThan(0);
      await client.close();
    }
    expect(() => clientFor(openssh, { keyId: sshpk.parseKey(sim.publicKey, "ssh").fingerprint("sha256").toString() })).toThrow(
      /not the fingerprint of the given private key/,
    );
  });

  it("accepts sub-user keys and resolves `my` to the parent account", async () => {
    const user = sim.addUser("ci");
    const client = clientFor(user.privateKeyPem ?? "", { user: "ci" });
    expect(client.keyId).toBe(`/${sim.account}/users/ci/keys/${user.fingerprint}`);
    expect((await client.listImages()).length).toBeGreaterThan(0);
    await client.close();
  });

  it("rejects a tampered signature, path or date with 401 InvalidCredentials", async () => {
    const path = `/${sim.account}/images`;
    const tampers: ((headers: Record<string, string>) => void)[] = [
      (headers) => {
        headers.authorization = (headers.authorization ?? "").replace(/signature="(.)/, (_match, first: string) => `signature="${first === "A" ? "B" : "A"}`);
      },
      (headers) => {
        headers.date = new Date(Date.parse(headers.date ?? "") + 1_000).toUTCString();
      },
    ];
    for (const tamper of tampers) {
      expect(await rawRequest(path, { tamper })).toEqual({
        status: 401,
        body: { code: "InvalidCredentials", message: "Invalid authorization credentials supplied" },
      });
    }
    // Signed for one request target, sent to another.
    const signer = createTritonSigner({ account: sim.account, privateKey: sim.privateKeyPem });
    const headers = { ...signer.sign({ method: "GET", path }), "accept-version": "~9" };
    expect((await fetch(`${sim.url}${path}?state=all`, { headers })).status).toBe(401);
  });

  it("rejects a Date skewed by more than 300 s either way", async () => {
    for (const offsetSeconds of [301, -301, -3_600]) {
      const client = clientFor(sim.privateKeyPem, { now: () => new Date(Date.now() + offsetSeconds * 1000) });
      const error = await upstreamFailure(client.listImages());
      expect(error).toBeInstanceOf(UpstreamAuthError);
      expect(error).toMatchObject({ status: 400, code: "InvalidHeader" });
      expect(error.upstreamMessage).toMatch(/^Authorization header invalid: clock skew of \d+(\.\d+)?s was greater than 300s$/);
      await client.close();
    }
    const slightlyOff = clientFor(sim.privateKeyPem, { now: () => new Date(Date.now() - 290_000) });
    expect((await slightlyOff.listImages()).length).toBeGreaterThan(0);
    await slightlyOff.close();
  });

  it("rejects unknown keys and unknown accounts", async () => {
    const stranger = clientFor(generateKeyPair("ed25519").privateKeyPem);
    const error = await upstreamFailure(stranger.listImages());
    expect(error).toBeInstanceOf(UpstreamAuthError);
    expect(error).toMatchObject({ status: 401, code: "InvalidCredentials", upstreamMessage: "Invalid authorization credentials supplied" });
    await stranger.close();
    const wrongAccount = clientFor(sim.privateKeyPem, { account: "nobody" });
    expect(await upstreamFailure(wrongAccount.listImages())).toMatchObject({ status: 401, code: "InvalidCredentials" });
    await wrongAccount.close();
  });

  it("keeps accounts apart: another account's valid key gets 403 on this account's path", async () => {
    const other = sim.addAccount("other-account");
    const otherClient = clientFor(other.privateKeyPem ?? "", { account: "other-account" });
    expect(await otherClient.listImages()).toBeInstanceOf(Array);
    await otherClient.close();
    const response = await rawRequest(`/${sim.account}/images`, { account: "other-account", privateKey: other.privateKeyPem });
    expect(response).toEqual({
      status: 403,
      body: { code: "NotAuthorized", message: `You do not have permission to access /${sim.account}/images (listimages)` },
    });
  });

  it("rejects missing, malformed and unsupported Authorization headers like CloudAPI", async () => {
    const path = `/${sim.account}/images`;
    const none = await fetch(sim.url + path, { headers: { "accept-version": "~9" } });
    expect(await none.json()).toEqual({ code: "InvalidCredentials", message: "You must make authenticated requests to use CloudAPI" });

    const cases: [(headers: Record<string, string>) => void, number, string, string][] = [
      // Another scheme is not parsed, so the request is unauthenticated (sdc-cloudapi lib/auth.js signatureAuth, assertAuthenticated).
      [(headers) => void (headers.authorization = "Bearer abc"), 401, "InvalidCredentials", "You must make authenticated requests to use CloudAPI"],
      [(headers) => void (headers.authorization = 'Signature keyId="x",algorithm=rsa-sha256'), 400, "InvalidHeader", "Authorization header invalid: bad param format"],
      [(headers) => void (headers.authorization = headers.authorization?.replace(/ed25519-sha512/, "rsa-sha384") ?? ""), 400, "InvalidHeader", "Authorization header invalid: rsa-sha384 is not supported"],
      // hmac passes http-signature's algorithm check but not CloudAPI's list (sdc-cloudapi lib/authorization.js OPTIONS).
      [(headers) => void (headers.authorization = headers.authorization?.replace(/ed25519-sha512/, "hmac-sha256") ?? ""), 400, "InvalidHeader", "Authorization header invalid: hmac-sha256 is not a supported algorithm"],
      [(headers) => void (headers.authorization = headers.authorization?.replace(/ed25519-sha512/, "rsa-sha256") ?? ""), 401, "InvalidCredentials", "Invalid authorization credentials supplied"],
      [(headers) => void (headers.authorization = headers.authorization?.replace(/keyId="[^"]+"/, 'keyId="/x/keyz/y"') ?? ""), 401, "InvalidCredentials", "Invalid KeyId /x/keyz/y in authorization header"],
      [(headers) => void delete headers.date, 400, "InvalidHeader", "Authorization header invalid: date was not in the request"],
    ];
    for (const [tamper, status, code, message] of cases) {
      expect(await rawRequest(path, { tamper })).toEqual({ status, body: { code, message } });
    }
  });
});

describe("secrets", () => {
  it("never shows the private key or the Authorization value in errors or the client", async () => {
    let sentAuthorization = "";
    const server = createServer((request, response) => {
      sentAuthorization = request.headers.authorization ?? "";
      response.statusCode = 401;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ code: "InvalidCredentials", message: "Invalid authorization credentials supplied" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { privateKeyPem } = generateKeyPair("rsa");
    const client = new TritonClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, account: "alice", privateKey: privateKeyPem });
    const error = await upstreamFailure(client.listImages());
    const signature = /signature="([^"]+)"/.exec(sentAuthorization)?.[1] ?? "";
    expect(signature.length).toBeGreaterThan(100);
    const keyBody = privateKeyPem.split("\n")[5] ?? "";
    for (const text of [String(error), error.stack ?? "", JSON.stringify(error), inspect(error, { depth: 8, showHidden: true }), inspect(client, { depth: 8, showHidden: true })]) {
      expect(text).not.toContain(signature);
      expect(text).not.toContain(keyBody);
    }
    await client.close();
    server.closeAllConnections();
    server.close();
  });

  it("does not echo key material when the key cannot be read", () => {
    const { privateKeyPem } = generateKeyPair("rsa");
    const damaged = privateKeyPem.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!");
    const keyBody = privateKeyPem.split("\n")[3] ?? "";
    let message = "";
    try {
      clientFor(damaged);
    } catch (error) {
      message = inspect(error, { depth: 8 });
    }
    expect(message).toContain("Triton private key could not be read");
    expect(message).not.toContain(keyBody);
  });
});
