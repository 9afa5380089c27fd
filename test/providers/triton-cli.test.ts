/**
 * The real `triton` CLI (npm `triton`, TritonDataCenter/node-triton) as a test client of the simulated
 * cloud: two datacenters of one account. Each command here failed, or would have, against the earlier
 * simulator (GetAccount for the list's flags, export's body-borne action, copy's datacenter lookup).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sshpk from "sshpk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, startTritonSimulator, type TritonSimulator } from "../../packages/simulators/triton/simulator";

const run = promisify(execFile);
const tritonBin = join(process.cwd(), "node_modules", "triton", "bin", "triton");

let central: TritonSimulator;
let west: TritonSimulator;
let home: string;

beforeAll(async () => {
  // node-triton 7.17 finds the key in ~/.ssh by its fingerprint; it reads RSA keys in OpenSSH form.
  const { privateKeyPem } = generateKeyPair("rsa");
  central = await startTritonSimulator({ privateKey: privateKeyPem, images: 40, seed: 5 });
  west = await startTritonSimulator({ cloud: central.cloud });
  home = mkdtempSync(join(tmpdir(), "imagesync-triton-cli-"));
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  const key = sshpk.parsePrivateKey(privateKeyPem, "auto");
  writeFileSync(join(home, ".ssh", "id_rsa"), key.toString("ssh-private"), { mode: 0o600 });
  writeFileSync(join(home, ".ssh", "id_rsa.pub"), `${central.publicKey}\n`);
});

afterAll(async () => {
  await Promise.all([central.close(), west.close()]);
  rmSync(home, { recursive: true, force: true });
});

/** Runs `triton ARGS` against a datacenter of the simulated cloud; resolves with stdout or rejects with stderr. */
async function triton(sim: TritonSimulator, ...args: string[]): Promise<string> {
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    TRITON_URL: sim.url,
    TRITON_ACCOUNT: sim.account,
    TRITON_KEY_ID: sim.keyId,
  };
  try {
    const { stdout } = await run(process.execPath, [tritonBin, ...args], { env, timeout: 20_000 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`triton ${args.join(" ")} failed: ${stderr ?? ""}${stdout ?? ""}`, { cause: error });
  }
}

const ownImage = (name: string, fields = {}) => central.addImage({ name, owner: central.accountUuid, public: false, ...fields });

describe("the triton CLI against the simulator", () => {
  it("`image list` prints the table, which needs GetAccount for the flags of shared images", async () => {
    ownImage("cli-shared", { acl: ["99999999-9999-4999-8999-999999999999"] });
    const table = await triton(central, "image", "list");
    expect(table.split("\n")[0]).toMatch(/^SHORTID\s+NAME\s+VERSION\s+FLAGS\s+OS\s+TYPE\s+PUBDATE/);
    expect(table).toMatch(/cli-shared\s+1\.0\.0\s+I?\+/);
  });

  it("`image list -a` includes images in every state", async () => {
    const disabled = ownImage("cli-disabled", { state: "disabled" });
    const listed = (await triton(central, "image", "list", "-a", "-j")).trim().split("\n").map((line) => JSON.parse(line) as { id: string; state: string });
    expect(listed).toContainEqual(expect.objectContaining({ id: disabled.uuid, state: "disabled" }));
    expect((await triton(central, "image", "list", "-j")).includes(disabled.uuid)).toBe(false);
  });

  it("`image get NAME` resolves the name client-side to the latest image", async () => {
    ownImage("cli-named", { version: "1", published_at: "2024-01-01T00:00:00.000Z" });
    const latest = ownImage("cli-named", { version: "2", published_at: "2025-01-01T00:00:00.000Z" });
    expect(JSON.parse(await triton(central, "image", "get", "cli-named"))).toMatchObject({ id: latest.uuid, version: "2" });
  });

  it("`image export` sends its action in the body and prints where the files went", async () => {
    const image = ownImage("cli-export", { version: "3" });
    const output = await triton(central, "image", "export", image.uuid, `/${central.account}/stor/exports`);
    // Not an existing directory in the simulated Manta, so the files are named after the path itself.
    expect(output).toMatch(new RegExp(`Manifest path: /${central.account}/stor/exports\\.imgmanifest`));
  });

  it("`image create INSTANCE-NAME` finds the instance by name and `-w` waits for the image to be active", async () => {
    const machine = central.addMachine({ name: "cli-builder" });
    const output = await triton(central, "image", "create", "-w", "-j", "cli-builder", "cli-created", "1.0.0");
    const created = output.trim().split("\n").map((line) => JSON.parse(line) as { id: string; name: string; state?: string });
    expect(created[0]).toMatchObject({ name: "cli-created" });
    const record = central.getImageRecord(created[0]?.id ?? "");
    expect(record).toMatchObject({ name: "cli-created", state: "active", origin: machine.image });
  });

  it("`datacenters` and `image copy` replicate an image into the other datacenter", async () => {
    expect(await triton(central, "datacenters")).toMatch(/us-central-1[\s\S]*us-west-1/);
    const image = ownImage("cli-copy");
    const output = await triton(central, "image", "copy", image.uuid, "us-west-1");
    expect(output).toContain("Copied image");
    expect(west.getImageRecord(image.uuid)).toMatchObject({ name: "cli-copy", owner: central.accountUuid });
  });

  it("`image clone` and `image delete` work on shared and own images", async () => {
    const shared = central.addImage({ name: "cli-shared-in", owner: central.adminUuid, public: false, acl: [central.accountUuid] });
    const clone = JSON.parse(await triton(central, "image", "clone", "-j", shared.uuid)) as { id: string; owner: string };
    expect(clone.owner).toBe(central.accountUuid);
    await triton(central, "image", "delete", "-f", clone.id);
    expect(central.getImageRecord(clone.id)).toBeUndefined();
  });
});
