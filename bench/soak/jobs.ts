/**
 * The steady stream of jobs: every action of both providers, each job with a unique name, tag or target
 * image, so each job maps to exactly one effect key in its simulator's ledger; some jobs are delivered
 * twice (the same message sent again straight to the queue, as SQS may).
 */
import { enqueue } from "../../packages/jobs/context";
import type { JobMessage } from "../../packages/jobs/schema";
import { submitJob } from "../../packages/jobs/submit";
import { defaultSimWorkloads } from "../../packages/simulators/coxedge/state";
import type { EffectLedger, SeededRandom } from "../../packages/simulators/kit";
import { sourceIds, type SoakStack } from "./stack";

export const jobActions = [
  ["triton", "create"],
  ["triton", "clone"],
  ["triton", "update"],
  ["triton", "export"],
  ["triton", "delete"],
  ["triton", "copy"],
  ["coxedge", "create"],
  ["coxedge", "delete"],
] as const;
type JobAction = (typeof jobActions)[number];

/** A job message without its id, as it is planned. */
type Request = { provider: string; source: string; action: string; params: Record<string, unknown> };
type Planned = { request: Request; effect: SoakJob["effect"] };

/** Share of jobs whose message is sent a second time. */
const duplicateShare = 0.15;

export interface SoakJob {
  jobId: string;
  /** `triton create`, `coxedge delete`, ... */
  action: string;
  message: JobMessage;
  /** Where the job's upstream effect is recorded, and under which kind and key. */
  effect: { effects: EffectLedger; kind: string; key: string };
}

export class JobStream {
  readonly jobs: SoakJob[] = [];
  readonly errors: string[] = [];
  duplicatesSent = 0;
  readonly #stack: SoakStack;
  readonly #random: SeededRandom;
  readonly #pending = new Set<Promise<void>>();
  /** Images each used by one job only (cloned, updated, exported, deleted or copied once). */
  readonly #tritonTargets: string[];
  readonly #coxedgeTargets: string[];
  readonly #machine: string;
  #count = 0;

  /** Adds the images the jobs will act on upstream; do it before the first sync so they are part of the catalogs. */
  constructor(stack: SoakStack, random: SeededRandom, expectedJobs: number) {
    this.#stack = stack;
    this.#random = random;
    const { triton, coxedge } = stack;
    const targets = (share: number) => Array.from({ length: Math.ceil(expectedJobs * share * 1.3) + 5 }, (_, i) => i);
    this.#tritonTargets = targets(5 / jobActions.length).map((i) => {
      const owner = triton.accountUuid;
      return triton.addImage({ name: `soak-target-${i}`, owner, public: false, acl: [owner], description: "soak job target" }).uuid;
    });
    this.#coxedgeTargets = targets(1 / jobActions.length).map((i) => coxedge.state.putImage({ family: "soak-target", tag: `t${i}` }).id);
    this.#machine = triton.addMachine({ name: "soak-builder" }).id;
  }

  /** Submits the next job in the background (and maybe sends it again a little later). */
  submitNext(): void {
    const job = this.#nextJob();
    this.#track(
      submitJob(job.message, this.#stack.jobs).then(
        () => {
          this.jobs.push(job);
          if (this.#random.chance(duplicateShare)) this.#track(this.#sendAgain(job.message, this.#random.int(0, 3000)));
        },
        (error: unknown) => void this.errors.push(`submitting ${job.jobId}: ${String(error)}`),
      ),
    );
  }

  /** Waits for submissions and duplicate sends still under way. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async #sendAgain(message: JobMessage, afterMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    await enqueue(this.#stack.jobs, message).then(
      () => void this.duplicatesSent++,
      (error: unknown) => void this.errors.push(`sending ${message.jobId} again: ${String(error)}`),
    );
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  #nextJob(): SoakJob {
    const n = this.#count++;
    let [provider, action]: JobAction = this.#random.pick(jobActions);
    // Out of target images: create instead.
    if (action !== "create" && (provider === "triton" ? this.#tritonTargets : this.#coxedgeTargets).length === 0) action = "create";
    const jobId = `soak-${n}-${provider}-${action}`;
    const planned = provider === "triton" ? this.#tritonJob(jobId, action) : this.#coxedgeJob(jobId, action === "create" ? "create" : "delete");
    // Built loosely here; submitJob validates it like any other message.
    return { jobId, action: `${provider} ${action}`, message: { jobId, ...planned.request } as JobMessage, effect: planned.effect };
  }

  #tritonJob(jobId: string, action: JobAction[1]): Planned {
    const { triton, tritonWest } = this.#stack;
    const on = (params: Record<string, unknown>): Request => ({ provider: "triton", source: sourceIds.triton, action, params });
    if (action === "create") {
      const name = `soak-image-${jobId}`;
      return { request: on({ machine: this.#machine, name, version: "1.0.0" }), effect: { effects: triton.effects, kind: "create", key: `${name}@1.0.0` } };
    }
    const imageId = this.#tritonTargets.pop() as string;
    const effect = { effects: triton.effects, kind: action, key: imageId };
    switch (action) {
      case "update":
        return { request: on({ imageId, fields: { description: `updated by ${jobId}` } }), effect };
      case "export":
        return { request: on({ imageId, manta_path: `/${triton.account}/stor/soak/${jobId}` }), effect };
      case "copy":
        return { request: on({ imageId, targetSource: sourceIds.tritonWest }), effect: { ...effect, effects: tritonWest.effects } };
      default:
        return { request: on({ imageId }), effect };
    }
  }

  #coxedgeJob(jobId: string, action: "create" | "delete"): Planned {
    const { effects } = this.#stack.coxedge;
    const on = (params: Record<string, unknown>): Request => ({ provider: "coxedge", source: sourceIds.coxedge, action, params });
    if (action === "delete") {
      const imageId = this.#coxedgeTargets.pop() as string;
      return { request: on({ imageId }), effect: { effects, kind: "delete", key: imageId } };
    }
    const [workload] = defaultSimWorkloads;
    const tag = jobId;
    const params = { family: "soak", tag, workloadId: workload?.id, instanceName: workload?.instances[0] };
    return { request: on(params), effect: { effects, kind: "create", key: `soak:${tag}` } };
  }
}
