/**
 * The simulators on their own (`imagesync sim`, `npm run sim`): two Triton datacenters of one account and
 * Cox Edge on 127.0.0.1 with seeded catalogs, and what a client (or IMAGESYNC_*_SOURCES, or the `triton`
 * CLI) needs to talk to them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { defaultSimWorkloads } from "./coxedge/state";
import { startCoxEdgeSimulator } from "./coxedge/simulator";
import { startTritonSimulator } from "./triton/simulator";

/** Long enough to watch an image build and poll its task by hand. */
const manualTaskDelayMs = 5_000;

export interface StandaloneOptions {
  /** 0: any free port; the second Triton datacenter takes the next one when a port is given. */
  tritonPort: number;
  coxedgePort: number;
  images: number;
  /** Where the Triton key is written (the git-ignored data dir). */
  dataDir: string;
}

export async function startStandaloneSimulators(options: StandaloneOptions): Promise<{ banner: string; stop(): Promise<void> }> {
  const { images } = options;
  // RSA, so the triton CLI (which reads keys from ~/.ssh) can use it too.
  const triton = await startTritonSimulator({ port: options.tritonPort, images, createDelayMs: manualTaskDelayMs, keyType: "rsa" });
  const others = await Promise.all([
    startTritonSimulator({ cloud: triton.cloud, port: options.tritonPort && options.tritonPort + 1, images: Math.ceil(images / 5), createDelayMs: manualTaskDelayMs }),
    startCoxEdgeSimulator({ port: options.coxedgePort, catalog: { images }, taskDelayMs: manualTaskDelayMs }),
  ]).catch(async (error: unknown) => {
    await triton.close();
    throw error;
  });
  const [tritonWest, coxedge] = others;
  const machine = triton.addMachine({ name: "builder" });

  const keyDir = resolve(options.dataDir, "sim");
  mkdirSync(keyDir, { recursive: true });
  const privateKeyPath = resolve(keyDir, `triton-${triton.account}.pem`);
  writeFileSync(privateKeyPath, triton.privateKeyPem, { mode: 0o600 });
  writeFileSync(`${privateKeyPath}.pub`, `${triton.publicKey}\n`);

  const vmWorkload = defaultSimWorkloads.find((workload) => workload.type === "VM");
  const tritonSources = [triton, tritonWest].map((dc) => ({ datacenter: dc.datacenterName, url: dc.url, account: dc.account, keyId: dc.keyId, privateKeyPath }));
  const coxedgeSources = [{ baseUrl: coxedge.url, service: coxedge.service, environment: coxedge.environment, apiKey: coxedge.apiKey }];
  const banner = `Triton CloudAPI simulator  ${triton.url} (${triton.datacenterName}), ${tritonWest.url} (${tritonWest.datacenterName})
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

${images} images each; image creation takes ${manualTaskDelayMs / 1000} s.
IMAGESYNC_TRITON_SOURCES='${JSON.stringify(tritonSources)}'
IMAGESYNC_COXEDGE_SOURCES='${JSON.stringify(coxedgeSources)}'

Ctrl-C to stop.`;
  return { banner, stop: async () => void (await Promise.all([triton.close(), tritonWest.close(), coxedge.close()])) };
}
