// The Cox Edge simulator's domain: images of two stacks, workloads, and image tasks that settle lazily
// (on the next read after their delay) and expire, so no timers outlive a test. HTTP concerns live in
// simulator.ts. Where public sources say nothing, the behaviour is a setting (see CoxEdgeSimSettings).
import { randomUUID } from "node:crypto";
import { EffectLedger } from "../kit/effects";
import { SeededRandom } from "../kit/random";
import {
  buildImage,
  environmentStack,
  formatCreatedAt,
  generateCatalog,
  imageId,
  stackpathSlug,
  type CatalogOptions,
  type Stack,
} from "./catalog";
import {
  stackpathStackId,
  type CoxEdgeImage,
  type ImageStatus,
  type KnownTaskStatus,
  type TaskFailureStatus,
} from "../../providers/coxedge/schemas";
import { checkCreateImageRequest } from "../../providers/coxedge/validation";

export type ImageType = "default" | "custom";

export interface SimWorkload {
  id: string;
  type: "VM" | "CONTAINER";
  instances: string[];
}

/** The API documentation's example VM workload and instance, plus a container workload (not imageable). */
export const defaultSimWorkloads: readonly SimWorkload[] = [
  {
    id: "c23652ed-0f15-47cf-a9b8-63e1e3aacb3c",
    type: "VM",
    instances: ["w-john-ahd-wi-john-jsr-phx-0", "w-john-ahd-wi-john-jsr-phx-1"],
  },
  { id: "5d0e7c1a-3b8f-4d2e-9a61-0c4f2b7e8d90", type: "CONTAINER", instances: ["c-web-lax-0"] },
];

/** Behaviour that can change while the simulator runs (`sim.state.settings`); the guesses are settings. */
export interface CoxEdgeSimSettings {
  /** Time from create/delete until the task settles. 0 settles before the response is sent. */
  taskDelayMs: number;
  /** Probability (0..1) that a task fails; drawn from a seeded PRNG. */
  taskFailureRate: number;
  /** How a failed task reads: `FAILED` (the CloudMC docs and the vendor's clients) or `FAILURE` (the Cox Edge Go clients). */
  taskFailureStatus: TaskFailureStatus;
  /** Tasks can be read this long after they start, then GET /tasks/{id} answers 404 (the docs: "30 minutes (in general)"). */
  taskTtlMs: number;
  /** Whether a SUCCESS task's `result` names the image (`result.id`); what an image task's result holds is undocumented. */
  resultIncludesImageId: boolean;
  /** Status of a duplicate family+tag and of a delete while the image has a task running (both undocumented). */
  conflictStatus: 400 | 409;
  /** Status of a missing or wrong MC-Api-Key (undocumented; 403 is the documented "not authorized"). */
  authFailureStatus: 401 | 403;
  /** Query flag that lists deprecated images when "true" (undocumented); undefined: they cannot be listed. */
  includeDeprecatedParam: string | undefined;
}

export const defaultSimSettings: Readonly<CoxEdgeSimSettings> = {
  taskDelayMs: 100,
  taskFailureRate: 0,
  taskFailureStatus: "FAILED",
  taskTtlMs: 30 * 60_000,
  resultIncludesImageId: true,
  conflictStatus: 400,
  authFailureStatus: 403,
  includeDeprecatedParam: undefined,
};

/**
 * CloudMC error codes the simulator sends: integers, as the docs show (`{"code": 2012, ...}`). The values
 * are invented; 2012, the docs' own example (an operation refused in the entity's current state), is used
 * for the same kind of refusal.
 */
export const simErrorCodes = {
  badRequest: 1000,
  invalidField: 1001,
  notAuthorized: 1003,
  notFound: 1004,
  methodNotAllowed: 1005,
  rateLimited: 1029,
  serverError: 1500,
  notCustomImage: 2010,
  alreadyExists: 2011,
  taskInProgress: 2012,
} as const;

export interface SimTask {
  id: string;
  type: "CREATE_IMAGE" | "DELETE_IMAGE";
  imageId: string;
  status: KnownTaskStatus;
  createdAt: string;
  startedAtMs: number;
  settlesAtMs: number;
  fails: boolean;
}

/** A refusal the HTTP layer renders as a CloudMC error body `{"errors":[{code, message, context}]}`. */
export class SimApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface NewImage {
  family: string;
  tag: string;
  type?: ImageType;
  status?: ImageStatus;
  description?: string;
  createdAt?: string;
}

export interface ChurnOptions {
  /** Share of images whose description changes. */
  modify?: number;
  /** Share of custom images removed. */
  remove?: number;
  /** Number of new custom images added. */
  add?: number;
}

export interface ChurnResult {
  modified: string[];
  removed: string[];
  added: string[];
}

export class CoxEdgeSimState {
  readonly customStack: Stack;
  readonly defaultStack: Stack = { stackId: stackpathStackId, slug: stackpathSlug };
  readonly settings: CoxEdgeSimSettings;
  /** Effects applied through the API: `create` (key `family:tag`) and `delete` (key: the image id, when its task removes it). */
  readonly effects = new EffectLedger();
  /** Tasks that ended failed, and task reads answered 404 because the task had expired (`taskTtlMs`). */
  readonly taskStats = { failed: 0, expiredReads: 0 };
  private readonly images = new Map<string, CoxEdgeImage>();
  /** Deprecated image ids: a state of the image, not a field of its JSON (no source shows one). */
  private readonly deprecated = new Set<string>();
  private readonly workloads = new Map<string, SimWorkload>();
  private readonly tasks = new Map<string, SimTask>();
  private readonly runningTasks = new Map<string, SimTask>();
  private readonly random: SeededRandom;
  private churnRound = 0;

  constructor(options: { environment: string; workloads?: readonly SimWorkload[]; seed?: number; settings?: Partial<CoxEdgeSimSettings> }) {
    this.customStack = environmentStack(options.environment);
    this.settings = simSettings(options.settings ?? {});
    this.random = new SeededRandom(options.seed ?? 1);
    this.setWorkloads(options.workloads ?? defaultSimWorkloads);
  }

  // --- API operations -------------------------------------------------------------------------------

  /** Deprecated images are left out unless asked for ("Only non-deprecated images are returned by default"). */
  listImages(type?: ImageType, includeDeprecated = false): CoxEdgeImage[] {
    this.settleTasks();
    return [...this.images.values()].filter(
      (image) => (type === undefined || this.typeOf(image) === type) && (includeDeprecated || !this.deprecated.has(image.id)),
    );
  }

  getImage(id: string): CoxEdgeImage {
    this.settleTasks();
    const image = this.images.get(id);
    if (!image) throw new SimApiError(404, simErrorCodes.notFound, `Image ${id} not found`, { id, type: "images" });
    return image;
  }

  createImage(body: unknown): SimTask {
    const check = checkCreateImageRequest(body);
    if (!check.ok) {
      const [problem] = check.problems;
      throw invalidField(problem?.field ?? "body", problem?.message ?? "invalid request");
    }
    const { request } = check;

    const workload = this.workloads.get(request.workloadId);
    if (!workload) throw invalidField("workloadId", `workloadId ${request.workloadId} not found`);
    if (workload.type !== "VM") {
      throw invalidField("workloadId", `workloadId ${workload.id} is of type ${workload.type}, only VM workloads are allowed`);
    }
    if (!workload.instances.includes(request.instanceName)) {
      throw invalidField("instanceName", `instanceName ${request.instanceName} is not an instance of workload ${workload.id}`);
    }

    this.settleTasks();
    const id = imageId(this.customStack.stackId, request.family, request.tag);
    if (this.images.has(id)) {
      throw new SimApiError(
        this.settings.conflictStatus,
        simErrorCodes.alreadyExists,
        `An image with family ${request.family} and tag ${request.tag} already exists`,
        { id, type: "images" },
      );
    }
    this.images.set(
      id,
      buildImage(this.customStack, {
        family: request.family,
        tag: request.tag,
        createdAt: formatCreatedAt(Date.now()),
        description: request.description ?? "",
        status: "PENDING",
      }),
    );
    this.effects.record("create", `${request.family}:${request.tag}`, id);
    return this.startTask("CREATE_IMAGE", id);
  }

  deleteImage(id: string): SimTask {
    const image = this.getImage(id);
    if (this.typeOf(image) === "default") {
      throw new SimApiError(400, simErrorCodes.notCustomImage, `Image ${id} is a default StackPath image; only custom images can be deleted`, {
        id,
        type: "images",
      });
    }
    if ([...this.runningTasks.values()].some((task) => task.imageId === id)) {
      throw new SimApiError(this.settings.conflictStatus, simErrorCodes.taskInProgress, `Image ${id} has a task in progress`, {
        id,
        type: "images",
        currentState: image.status,
      });
    }
    return this.startTask("DELETE_IMAGE", id);
  }

  /** Tasks are not kept: after `taskTtlMs` a task is gone (404) whatever its outcome. */
  getTask(id: string): SimTask {
    this.settleTasks();
    const task = this.tasks.get(id);
    if (!task || Date.now() - task.startedAtMs >= this.settings.taskTtlMs) {
      if (task) this.taskStats.expiredReads++;
      this.tasks.delete(id);
      throw new SimApiError(404, simErrorCodes.notFound, `Task ${id} not found`, { id, type: "tasks" });
    }
    return task;
  }

  // --- test and benchmark hooks ---------------------------------------------------------------------

  /** Replaces the whole catalog with a generated one. */
  seed(options: CatalogOptions): void {
    this.images.clear();
    this.deprecated.clear();
    for (const image of generateCatalog(options, this.customStack)) this.images.set(image.id, image);
  }

  setWorkloads(workloads: readonly SimWorkload[]): void {
    this.workloads.clear();
    for (const workload of workloads) this.workloads.set(workload.id, { ...workload, instances: [...workload.instances] });
  }

  /** Adds (or replaces) an image directly, bypassing the API and its tasks. */
  putImage(fields: NewImage): CoxEdgeImage {
    const image = buildImage(fields.type === "default" ? this.defaultStack : this.customStack, {
      family: fields.family,
      tag: fields.tag,
      createdAt: fields.createdAt ?? formatCreatedAt(Date.now()),
      description: fields.description ?? "",
      status: fields.status ?? "READY",
    });
    this.images.set(image.id, image);
    this.deprecated.delete(image.id);
    return { ...image };
  }

  /** Hides the image from ListImages (unless the `includeDeprecatedParam` flag asks); GetImage still finds it. */
  deprecateImage(id: string): void {
    if (!this.images.has(id)) throw new Error(`No simulated image ${id}`);
    this.deprecated.add(id);
  }

  updateImage(id: string, changes: Partial<Pick<CoxEdgeImage, "status" | "description">>): CoxEdgeImage {
    const image = this.images.get(id);
    if (!image) throw new Error(`No simulated image ${id}`);
    Object.assign(image, changes);
    return { ...image };
  }

  removeImage(id: string): boolean {
    this.deprecated.delete(id);
    return this.images.delete(id);
  }

  /** Current images as copies, without settling tasks or counting as an API call. */
  snapshot(): CoxEdgeImage[] {
    return [...this.images.values()].map((image) => ({ ...image }));
  }

  /** Deterministic catalog drift for sync tests and benchmarks, e.g. `churn({ modify: 0.01 })`. */
  churn(options: ChurnOptions): ChurnResult {
    this.churnRound++;
    const all = [...this.images.values()];
    const modified = this.sample(all, options.modify ?? 0).map((image) => {
      image.description = `${image.description} (revision ${this.churnRound})`.trim();
      return image.id;
    });
    const customs = all.filter((image) => this.typeOf(image) === "custom");
    const removed = this.sample(customs, options.remove ?? 0).map((image) => {
      this.removeImage(image.id);
      return image.id;
    });
    const added = Array.from({ length: options.add ?? 0 }, (_, i) => {
      return this.putImage({ family: "churn-added", tag: `r${this.churnRound}-${i}` }).id;
    });
    return { modified, removed, added };
  }

  typeOf(image: CoxEdgeImage): ImageType {
    return image.stackId === this.defaultStack.stackId ? "default" : "custom";
  }

  // --- tasks ----------------------------------------------------------------------------------------

  private startTask(type: SimTask["type"], id: string): SimTask {
    const now = Date.now();
    const task: SimTask = {
      id: randomUUID(),
      type,
      imageId: id,
      status: "PENDING",
      createdAt: formatCreatedAt(now),
      startedAtMs: now,
      settlesAtMs: now + this.settings.taskDelayMs,
      fails: this.random.chance(this.settings.taskFailureRate),
    };
    this.tasks.set(task.id, task);
    this.runningTasks.set(task.id, task);
    this.settleTasks();
    return task;
  }

  /** Moves running tasks along: a building image is PROCESSING after half its delay, then settles. */
  private settleTasks(): void {
    const now = Date.now();
    for (const task of this.runningTasks.values()) {
      if (now >= task.settlesAtMs) {
        this.finishTask(task);
      } else if (task.type === "CREATE_IMAGE" && now >= (task.startedAtMs + task.settlesAtMs) / 2) {
        const image = this.images.get(task.imageId);
        if (image) image.status = "PROCESSING";
      }
    }
  }

  private finishTask(task: SimTask): void {
    this.runningTasks.delete(task.id);
    task.status = task.fails ? this.settings.taskFailureStatus : "SUCCESS";
    if (task.fails) this.taskStats.failed++;
    const image = this.images.get(task.imageId);
    if (task.type === "CREATE_IMAGE") {
      // A failed build stays listed as FAILED (it has to be deleted before the name can be reused).
      if (image) image.status = task.fails ? "FAILED" : "READY";
    } else if (!task.fails && this.removeImage(task.imageId)) {
      this.effects.record("delete", task.imageId, task.imageId);
    }
  }

  private sample<T>(items: T[], share: number): T[] {
    const wanted = Math.min(items.length, Math.round(items.length * share));
    const chosen = new Set<number>();
    while (chosen.size < wanted) chosen.add(this.random.int(0, items.length - 1));
    return [...chosen].map((index) => items[index] as T);
  }
}

function invalidField(field: string, message: string): SimApiError {
  return new SimApiError(400, simErrorCodes.invalidField, message, { field });
}

/** The settings among `values` (other keys are ignored), with defaults for those left undefined. */
function simSettings(values: Partial<CoxEdgeSimSettings>): CoxEdgeSimSettings {
  const entries = Object.entries(defaultSimSettings).map(([key, fallback]: [string, unknown]) => {
    return [key, values[key as keyof CoxEdgeSimSettings] ?? fallback];
  });
  return Object.fromEntries(entries) as unknown as CoxEdgeSimSettings;
}
