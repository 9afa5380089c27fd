/** The job worker as a child process the soak starts, SIGKILLs and restarts; its output goes to a log file. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

export class WorkerProcess {
  /** SIGKILLs sent on purpose (the soak's kills, not its final stop). */
  kills = 0;
  /** Exits nobody asked for: a crash of the worker. */
  readonly crashes: string[] = [];
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly logPath: string,
  ) {}

  get running(): boolean {
    return this.#child !== undefined;
  }

  start(): void {
    if (this.#child) return;
    const log = openSync(this.logPath, "a");
    const child = spawn(process.execPath, ["--import", "tsx", entry], { env: this.env, stdio: ["ignore", log, log] });
    closeSync(log);
    this.#child = child;
    this.#exited = once(child, "exit");
    child.once("exit", (code, signal) => {
      if (this.#child !== child) return;
      // Not killed by us: record the crash and carry on with a fresh worker, as Lambda would.
      this.crashes.push(`${new Date().toISOString()} worker exited by itself (code ${code}, signal ${signal}); see ${this.logPath}`);
      this.#child = undefined;
      this.start();
    });
  }

  /** SIGKILL, in the middle of whatever it is doing. */
  async kill(): Promise<void> {
    if (!this.#child) return;
    this.kills++;
    await this.stop();
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill("SIGKILL");
    await this.#exited;
  }
}
