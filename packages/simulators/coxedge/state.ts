// The Cox Edge simulator's domain: images of two stacks, workloads, and image tasks that settle lazily
// (on the next read after their delay) so no timers outlive a test. HTTP concerns live in simulator.ts.
import { randomUUID } from "node:crypto";
import { SeededRandom } from "../kit/random";
import {
  buildImage,
  environmentStack,
  formatCreatedAt,
  generateCatalog,
  imageId,
  STACKPATH_SLUG,
  type CatalogOptions,
  type Stack,
} from "./catalog";
import { STACKPATH_STACK_ID, type CoxEdgeImage, type ImageStatus, type KnownTaskStatus } from "../../providers/coxedge/schemas";
import { checkCreateImageRequest } from "../../providers/coxedge/validation";

export type ImageType = "default" | "custom";

export interface SimWorkload {
  id: string;
  type: "VM" | "CONTAINER";
  instances: string[];
}

/** The API documentation's example VM workload and instance, plus a container workload (not imageable). */
export const DEFAULT_SIM_WORKLOADS: readonly SimWorkload[] = [
  {
    id: "c23652ed-0f15-47cf-a9b8-63e1e3aacb3c",
    type: "VM",
    instances: ["w-john-ahd-wi-john-jsr-phx-0", "w-john-ahd-wi-john-jsr-phx-1"],
  },
  { id: "5d0e7c1a-3b8f-4d2e-9a61-0c4f2b7e8d90", type: "CONTAINER", instances: ["c-web-lax-0"] },
];

export interface TaskSettings {
  /** Time from create/delete until the task settles. 0 settles before the response is sent. */
  taskDelayMs: number;
  /** Probability (0..1) that a task ends in FAILURE; drawn from a seeded PRNG. */
  taskFailureRate: number;
}

export interface SimTask {
  id: string;
  type: "CREATE_IMAGE" | "DELETE_IMAGE";
  imageId: string;
  taskStatus: KnownTaskStatus;
  createdAt: string;
  startedAtMs: number;
  settlesAtMs: number;
  fails: boolean;
}

/** A refusal the HTTP layer renders as a CloudMC error body with this status. */
export class SimApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
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
  readonly defaultStack: Stack = { stackId: STACKPATH_STACK_ID, slug: STACKPATH_SLUG };
  readonly settings: TaskSettings;
  private readonly images = new Map<string, CoxEdgeImage>();
  private readonly workloads = new Map<string, SimWorkload>();
  private readonly tasks = new Map<string, SimTask>();
  private readonly runningTasks = new Map<string, SimTask>();
  private readonly random: SeededRandom;
  private churnRound = 0;

  constructor(options: { environment: string; workloads?: readonly SimWorkload[]; seed?: number } & TaskSettings) {
    this.customStack = environmentStack(options.environment);
    this.settings = { taskDelayMs: options.taskDelayMs, taskFailureRate: options.taskFailureRate };
    this.random = new SeededRandom(options.seed ?? 1);
    this.setWorkloads(options.workloads ?? DEFAULT_SIM_WORKLOADS);
  }

  // --- API operations -------------------------------------------------------------------------------

  listImages(type?: ImageType): CoxEdgeImage[] {
    this.settleTasks();
    const all = [...this.images.values()];
    return type === undefined ? all : all.filter((image) => this.typeOf(image) === type);
  }

  getImage(id: string): CoxEdgeImage {
    this.settleTasks();
    const image = this.images.get(id);
    if (!image) throw new SimApiError(404, "NOT_FOUND", `Image ${id} not found`);
    return image;
  }

  createImage(body: unknown): SimTask {
    const check = checkCreateImageRequest(body);
    if (!check.ok) {
      const [problem] = check.problems;
      throw new SimApiError(400, "INVALID_FIELD", problem?.message ?? "invalid request", problem?.field);
    }
    const { request } = check;

    const workload = this.workloads.get(request.workloadId);
    if (!workload) {
      throw new SimApiError(400, "INVALID_FIELD", `workloadId ${request.workloadId} not found`, "workloadId");
    }
    if (workload.type !== "VM") {
      throw new SimApiError(400, "INVALID_FIELD", `workloadId ${workload.id} is of type ${workload.type}, only VM workloads are allowed`, "workloadId");
    }
    if (!workload.instances.includes(request.instanceName)) {
      throw new SimApiError(400, "INVALID_FIELD", `instanceName ${request.instanceName} is not an instance of workload ${workload.id}`, "instanceName");
    }

    this.settleTasks();
    const id = imageId(this.customStack.stackId, request.family, request.tag);
    if (this.images.has(id)) {
      throw new SimApiError(409, "CONFLICT", `An image with family ${request.family} and tag ${request.tag} already exists`);
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
    return this.startTask("CREATE_IMAGE", id);
  }

  deleteImage(id: string): SimTask {
    const image = this.getImage(id);
    if (this.typeOf(image) === "default") {
      throw new SimApiError(400, "NOT_CUSTOM_IMAGE", `Image ${id} is a default StackPath image; only custom images can be deleted`);
    }
    if ([...this.runningTasks.values()].some((task) => task.imageId === id)) {
      throw new SimApiError(409, "CONFLICT", `Image ${id} has a task in progress`);
    }
    return this.startTask("DELETE_IMAGE", id);
  }

  getTask(id: string): SimTask {
    this.settleTasks();
    const task = this.tasks.get(id);
    if (!task) throw new SimApiError(404, "NOT_FOUND", `Task ${id} not found`);
    return task;
  }

  // --- test and benchmark hooks ---------------------------------------------------------------------

  /** Replaces the whole catalog with a generated one. */
  seed(options: CatalogOptions): void {
    this.images.clear();
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
    return { ...image };
  }

  updateImage(id: string, changes: Partial<Pick<CoxEdgeImage, "status" | "description">>): CoxEdgeImage {
    const image = this.images.get(id);
    if (!image) throw new Error(`No simulated image ${id}`);
    Object.assign(image, changes);
    return { ...image };
  }

  removeImage(id: string): boolean {
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
      this.images.delete(image.id);
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
      taskStatus: "PENDING",
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
    task.taskStatus = task.fails ? "FAILURE" : "SUCCESS";
    const image = this.images.get(task.imageId);
    if (task.type === "CREATE_IMAGE") {
      // A failed build stays listed as FAILED (it has to be deleted before the name can be reused).
      if (image) image.status = task.fails ? "FAILED" : "READY";
    } else if (!task.fails) {
      this.images.delete(task.imageId);
    }
  }

  private sample<T>(items: T[], share: number): T[] {
    const wanted = Math.min(items.length, Math.round(items.length * share));
    const chosen = new Set<number>();
    while (chosen.size < wanted) chosen.add(this.random.int(0, items.length - 1));
    return [...chosen].map((index) => items[index] as T);
  }
}
