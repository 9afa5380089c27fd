/**
 * Faults at random (seeded) through the simulators' fault controllers and settings:
 * - each sync round, one listing fault per simulator, or none (a drop never shares a round with another
 *   listing fault, so a Triton snapshot's two listing calls both drop or neither does);
 * - on job traffic, a steady trickle of one-off faults on the endpoints jobs call;
 * - task episodes: upstream tasks fail (Cox Edge tasks, Triton creations) or vanish (Cox Edge tasks
 *   expire just after they finish, before the job's next poll).
 * Kinds come from shuffled bags, so every kind comes up once per round of its bag.
 */
import { coxedgeApiPath } from "../../packages/simulators/coxedge/simulator";
import { defaultSimSettings } from "../../packages/simulators/coxedge/state";
import type { FaultAction, FaultController, SeededRandom } from "../../packages/simulators/kit";
import type { TritonSimulator } from "../../packages/simulators/triton/simulator";
import { timings } from "./settings";
import type { SoakStack } from "./stack";

export const httpFaultKinds = ["5xx", "429", "429 + Retry-After", "timeout", "reset", "slow", "truncated", "malformed"] as const;
export type HttpFaultKind = (typeof httpFaultKinds)[number];
export const faultKinds = [...httpFaultKinds, "listing drop", "task failure", "task vanished"] as const;
export type FaultKind = (typeof faultKinds)[number];

/** A simulator as the injector reaches it. */
interface FaultTarget {
  provider: "triton" | "coxedge";
  faults: FaultController;
  /** GET of the full listing; as a prefix it also takes in GETs of single images. */
  listingPath: string;
  /** Where job calls go. */
  jobEndpoints: { method: string; pathPrefix: string }[];
  /** The next full listing snapshot leaves out half the images: `salt` chooses which. */
  dropListing(salt: string): void;
  cancelDrop(): void;
  droppedListings(): number;
}

export class FaultInjector {
  readonly #random: SeededRandom;
  readonly #stack: SoakStack;
  readonly #targets: FaultTarget[];
  readonly #listingKinds: Bag<HttpFaultKind | "listing drop" | "none">;
  readonly #jobKinds: Bag<HttpFaultKind>;
  readonly #episodes: Bag<"task failure" | "task vanished" | "none">;

  constructor(random: SeededRandom, stack: SoakStack) {
    this.#random = random;
    this.#stack = stack;
    this.#targets = [tritonTarget(stack.triton), tritonTarget(stack.tritonWest, { importsOnly: true }), coxedgeTarget(stack)];
    this.#listingKinds = new Bag([...httpFaultKinds, "listing drop", "none", "none"], random);
    this.#jobKinds = new Bag(httpFaultKinds, random);
    this.#episodes = new Bag(["task failure", "task vanished", "none"], random);
  }

  /** Listing faults for one sync round of `provider`: one kind (or none) per simulator; call the result when the round is over. */
  listingRound(provider: "triton" | "coxedge"): () => void {
    const removers = this.#targets
      .filter((target) => target.provider === provider)
      .map((target) => {
        const kind = this.#listingKinds.next();
        if (kind === "none") return () => undefined;
        if (kind === "listing drop") {
          target.dropListing(this.#random.hex(8));
          return () => target.cancelDrop();
        }
        const match = { method: "GET", pathPrefix: target.listingPath, times: this.#random.int(2, 5), label: kind };
        return target.faults.inject({ ...faultAction(kind, this.#random), ...match });
      });
    return () => removers.forEach((remove) => remove());
  }

  /** One fault on a random endpoint jobs call, left in place until a request meets it. */
  jobFault(): void {
    const endpoints = this.#targets.flatMap((target) => target.jobEndpoints.map((endpoint) => ({ target, endpoint })));
    const { target, endpoint } = this.#random.pick(endpoints);
    const kind = this.#jobKinds.next();
    target.faults.inject({ ...faultAction(kind, this.#random), ...endpoint, times: 1, label: kind });
  }

  /** Ends the current task episode and starts the next: failing tasks, vanishing tasks, or neither. */
  taskEpisode(): void {
    this.#restoreTasks();
    const { coxedge, triton } = this.#stack;
    const episode = this.#episodes.next();
    if (episode === "task failure") {
      coxedge.state.settings.taskFailureRate = 0.5;
      triton.setCreateOutcome("failed");
    } else if (episode === "task vanished") {
      // Gone just after they finish, before the job's second poll (2 s or more after the task started);
      // real tasks live about 30 minutes, and a job may poll that rarely.
      coxedge.state.settings.taskTtlMs = timings.upstreamTaskMs + this.#random.int(100, 400);
    }
  }

  /** What fired so far, per kind: HTTP faults met by a request, listings that dropped, tasks that failed or vanished. */
  counts(): Record<FaultKind, number> {
    const { coxedge, triton, tritonWest } = this.#stack;
    const fired = (kind: HttpFaultKind) => this.#targets.reduce((sum, target) => sum + (target.faults.firedByLabel.get(kind) ?? 0), 0);
    return {
      ...(Object.fromEntries(httpFaultKinds.map((kind) => [kind, fired(kind)])) as Record<HttpFaultKind, number>),
      "listing drop": this.#targets.reduce((sum, target) => sum + target.droppedListings(), 0),
      "task failure": coxedge.state.taskStats.failed + triton.failedCreations() + tritonWest.failedCreations(),
      "task vanished": coxedge.state.taskStats.expiredReads,
    };
  }

  /** Removes every fault and restores normal upstream behaviour; returns what fired, per kind. */
  stop(): Record<FaultKind, number> {
    const counts = this.counts();
    for (const target of this.#targets) {
      target.faults.clear();
      target.cancelDrop();
    }
    this.#restoreTasks();
    return counts;
  }

  #restoreTasks(): void {
    this.#stack.coxedge.state.settings.taskFailureRate = 0;
    this.#stack.coxedge.state.settings.taskTtlMs = defaultSimSettings.taskTtlMs;
    this.#stack.triton.setCreateOutcome("active");
  }
}

function faultAction(kind: HttpFaultKind, random: SeededRandom): FaultAction {
  switch (kind) {
    case "5xx":
      return { kind: "status", status: random.pick([500, 502, 503, 504]) };
    case "429":
      return { kind: "throttle" };
    case "429 + Retry-After":
      return { kind: "throttle", retryAfter: 1 };
    case "timeout":
      // Beyond the client's timeout; the simulator still acts on the request afterwards (a lost answer).
      return { kind: "latency", ms: timings.clientTimeoutMs + random.int(200, 700) };
    case "reset":
      return { kind: "reset" };
    case "slow":
      return { kind: "latency", ms: random.int(200, timings.clientTimeoutMs - 300) };
    case "truncated":
      return { kind: "truncate" };
    case "malformed":
      return { kind: "malformed" };
  }
}

/** A datacenter; the copy target only sees imports and the polls that follow them. */
function tritonTarget(sim: TritonSimulator, options: { importsOnly?: boolean } = {}): FaultTarget {
  const images = `/${sim.account}/images`;
  const jobEndpoints = [
    { method: "POST", pathPrefix: images },
    { method: "GET", pathPrefix: `${images}/` },
    ...(options.importsOnly ? [] : [{ method: "DELETE", pathPrefix: `${images}/` }]),
  ];
  return {
    provider: "triton",
    faults: sim.faults,
    listingPath: images,
    jobEndpoints,
    // A snapshot is two listing calls (CloudAPI hides Docker images unless asked); jobs' listings are by name.
    dropListing: (salt) => sim.dropFromListings({ times: 2, share: 0.5, salt, appliesTo: (query) => !query.has("name") }),
    cancelDrop: () => sim.dropFromListings({ times: 0 }),
    droppedListings: () => sim.droppedListings(),
  };
}

function coxedgeTarget({ coxedge: sim }: SoakStack): FaultTarget {
  const images = `${coxedgeApiPath}/services/${sim.service}/${sim.environment}/images`;
  return {
    provider: "coxedge",
    faults: sim.faults,
    listingPath: images,
    jobEndpoints: [
      { method: "POST", pathPrefix: images },
      { method: "DELETE", pathPrefix: `${images}/` },
      { method: "GET", pathPrefix: `${images}/` },
      { method: "GET", pathPrefix: `${coxedgeApiPath}/tasks/` },
    ],
    // Jobs list custom images only (`imageType=custom`); the sync lists everything.
    dropListing: (salt) => sim.dropFromListings({ times: 1, share: 0.5, salt, appliesTo: (query) => !query.has("imageType") }),
    cancelDrop: () => sim.dropFromListings({ times: 0 }),
    droppedListings: () => sim.droppedListings(),
  };
}

/** Seeded draws without repeats until every kind has come up once. */
class Bag<T> {
  #left: T[] = [];

  constructor(
    private readonly kinds: readonly T[],
    private readonly random: SeededRandom,
  ) {}

  next(): T {
    if (this.#left.length === 0) {
      this.#left = [...this.kinds];
      for (let i = this.#left.length - 1; i > 0; i--) {
        const j = this.random.int(0, i);
        [this.#left[i], this.#left[j]] = [this.#left[j] as T, this.#left[i] as T];
      }
    }
    return this.#left.pop() as T;
  }
}
