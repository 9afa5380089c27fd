// `npm run sim`: starts the Triton CloudAPI and Cox Edge simulators on 127.0.0.1 with seeded catalogs and
// prints what a client (or IMAGESYNC_*_SOURCES) needs to talk to them. Ctrl-C stops both.
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_SIM_WORKLOADS } from "./coxedge/state";
import { startCoxEdgeSimulator } from "./coxedge/simulator";
import { startTritonSimulator } from "./triton/simulator";

/** Long enough to watch an image build and poll its task by hand. */
const MANUAL_TASK_DELAY_MS = 5_000;

const { values } = parseArgs({
  options: {
    "triton-port": { type: "string", default: "0" },
    "coxedge-port": { type: "string", default: "0" },
    images: { type: "string", default: "100" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log("usage: npm run sim -- [--triton-port N] [--coxedge-port N] [--images N]   (ports default to free ones)");
  process.exit(0);
}

const tritonPort = parseCount(values["triton-port"], "--triton-port");
const coxedgePort = parseCount(values["coxedge-port"], "--coxedge-port");
const images = parseCount(values.images, "--images");

const triton = await startTritonSimulator({ port: tritonPort, images, createDelayMs: MANUAL_TASK_DELAY_MS, keyType: "rsa" });
// A second datacenter of the same account (next port when one was given), for `triton image copy` and copy jobs.
const tritonWest = await startTritonSimulator({ cloud: triton.cloud, port: tritonPort && tritonPort + 1, images: Math.ceil(images / 5), createDelayMs: MANUAL_TASK_DELAY_MS });
const coxedge = await startCoxEdgeSimulator({
  port: coxedgePort,
  catalog: { images },
  taskDelayMs: MANUAL_TASK_DELAY_MS,
}).catch(async (error: unknown) => {
  await Promise.all([triton.close(), tritonWest.close()]);
  throw error;
});
const machine = triton.addMachine({ name: "builder" });

// The key file lives under the git-ignored .data/ so a client can be configured with a path, as in production.
const keyDir = resolve(".data", "sim");
mkdirSync(keyDir, { recursive: true });
const privateKeyPath = resolve(keyDir, `triton-${triton.account}.pem`);
writeFileSync(privateKeyPath, triton.privateKeyPem, { mode: 0o600 });
writeFileSync(`${privateKeyPath}.pub`, `${triton.publicKey}\n`);

const vmWorkload = DEFAULT_SIM_WORKLOADS.find((workload) => workload.type === "VM");
const tritonSources = [triton, tritonWest].map((dc) => ({
  datacenter: dc.datacenterName,
  url: dc.url,
  account: dc.account,
  keyId: dc.keyId,
  privateKeyPath,
}));
const coxedgeSources = [
  { baseUrl: coxedge.url, service: coxedge.service, environment: coxedge.environment, apiKey: coxedge.apiKey },
];

console.log(`Triton CloudAPI simulator  ${triton.url} (${triton.datacenterName}), ${tritonWest.url} (${tritonWest.datacenterName})
  account          ${triton.account}
  key id           ${triton.keyId}  (signs as ${triton.signatureKeyId})
  private key      ${privateKeyPath}  (RSA; public key beside it, .pub)
  stopped machine  ${machine.name}  ${machine.id}  (for CreateImageFromMachine)
  triton CLI       cp ${privateKeyPath} ~/.ssh/imagesync-sim && cp ${privateKeyPath}.pub ~/.ssh/imagesync-sim.pub
                   TRITON_URL=${triton.url} TRITON_ACCOUNT=${triton.account} TRITON_KEY_ID=${triton.keyId} npx triton image list

Cox Edge simulator         ${coxedge.url}
  service          ${coxedge.service}
  environment      ${coxedge.environment}
  MC-Api-Key       ${coxedge.apiKey}
  VM workload      ${vmWorkload?.id}  instance ${vmWorkload?.instances[0]}

${images} images each; image creation takes ${MANUAL_TASK_DELAY_MS / 1000} s.
IMAGESYNC_TRITON_SOURCES='${JSON.stringify(tritonSources)}'
IMAGESYNC_COXEDGE_SOURCES='${JSON.stringify(coxedgeSources)}'

Ctrl-C to stop.`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([triton.close(), tritonWest.close(), coxedge.close()]);
  console.log("simulators stopped");
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

function parseCount(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${flag} must be a non-negative integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}
