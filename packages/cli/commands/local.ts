/** `imagesync start` and `imagesync sim`: long-running local servers, stopped by Ctrl-C (SIGINT) or SIGTERM. */
import { resolve } from "node:path";
import { defineCommand, type OptionSpecs } from "../command";
import { print } from "../output";

const port = (help: string) => ({ type: "number", integer: true, min: 0, max: 65535, help }) as const;
const dataDir = { type: "string", value: "DIR", help: "where data and local credentials live (default .data)" } as const;

export const start = defineCommand({
  name: "start",
  summary: "Runs the whole system on this machine: DynamoDB Local, an SQS server, both simulators and the handlers.",
  options: {
    "in-memory": { type: "boolean", help: "throwaway DynamoDB data (default: persisted under --data-dir)" },
    "data-dir": dataDir,
    port: port("HTTP API port (default 3000; 0 = any free port)"),
    "dynamodb-port": port("DynamoDB Local port (default: any free port)"),
    "sqs-port": port("SQS server port (default: any free port)"),
    images: { type: "number", integer: true, min: 0, max: 200_000, help: "images each simulator starts with (default 50)" },
    "sync-every": { type: "number", integer: true, min: 1, max: 86_400, value: "SECONDS", unit: "seconds", help: "run the scheduled syncs this often" },
    "no-initial-sync": { type: "boolean", help: "don't sync once at start-up" },
  } satisfies OptionSpecs,
  async run({ options }) {
    const { startLocalRuntime } = await import("../../local/runtime");
    const runtime = await startLocalRuntime({
      inMemory: options["in-memory"],
      dataDir: resolve(options["data-dir"] ?? ".data"),
      port: options.port ?? 3000,
      dynamoPort: options["dynamodb-port"] || undefined,
      sqsPort: options["sqs-port"] || undefined,
      images: options.images ?? 50,
      syncEveryMs: options["sync-every"] && options["sync-every"] * 1000,
      initialSync: !options["no-initial-sync"],
    });
    print(runtime.banner);
    return untilSignal(runtime.stop);
  },
});

export const sim = defineCommand({
  name: "sim",
  summary: "Runs the simulators alone: two Triton datacenters of one account and Cox Edge, with their credentials.",
  options: {
    "triton-port": port("first Triton datacenter's port; the second takes the next (default: free ports)"),
    "coxedge-port": port("Cox Edge port (default: a free port)"),
    images: { type: "number", integer: true, min: 0, max: 200_000, help: "images each simulator starts with (default 100)" },
    "data-dir": dataDir,
  } satisfies OptionSpecs,
  async run({ options }) {
    const { startStandaloneSimulators } = await import("../../simulators/standalone");
    const simulators = await startStandaloneSimulators({
      tritonPort: options["triton-port"] ?? 0,
      coxedgePort: options["coxedge-port"] ?? 0,
      images: options.images ?? 100,
      dataDir: resolve(options["data-dir"] ?? ".data"),
    });
    print(simulators.banner);
    return untilSignal(simulators.stop);
  },
});

/**
 * Resolves with exit code 0 once `stop` has run after SIGINT or SIGTERM; a second signal forces exit 130.
 * Meanwhile an error that escapes every handler is logged with its cause and the servers keep running:
 * each adapter already isolates its requests, messages and timer runs, so such an error ended one of them.
 */
function untilSignal(stop: () => Promise<void>): Promise<number> {
  const report = (kind: string) => (error: unknown) =>
    console.error(`imagesync: ${kind} (the runtime keeps running):`, error instanceof Error ? (error.stack ?? error.message) : error);
  process.on("uncaughtException", report("uncaught exception"));
  process.on("unhandledRejection", report("unhandled promise rejection"));
  return new Promise((done) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        print("Forced exit.");
        process.exit(130);
      }
      stopping = true;
      print(`\n${signal}: stopping (Ctrl-C again to force) ...`);
      void stop().then(() => {
        print("Stopped.");
        done(0);
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
