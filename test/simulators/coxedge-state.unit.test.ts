// The Cox Edge simulator's domain without HTTP: deprecation, task lifetime and the settings that stand in
// for what no public source shows. The HTTP contract is in test/providers/coxedge.test.ts.
import { describe, expect, it } from "vitest";
import { CoxEdgeSimState, defaultSimWorkloads, simErrorCodes, SimApiError } from "../../packages/simulators/coxedge/state";

const [workload] = defaultSimWorkloads;
const createBody = (tag: string) => ({ family: "web", tag, workloadId: workload?.id, instanceName: workload?.instances[0] });
const newState = (settings: ConstructorParameters<typeof CoxEdgeSimState>[0]["settings"] = {}) => {
  const state = new CoxEdgeSimState({ environment: "test-area", settings });
  state.seed({ images: 0 });
  return state;
};

function refusal(action: () => unknown): SimApiError {
  try {
    action();
  } catch (error) {
    if (error instanceof SimApiError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("Cox Edge simulator state", () => {
  // "Only non-deprecated images are returned by default": the CloudMC docs `source/includes/stackpath/_images.md`.
  it("hides a deprecated image from lists only, and forgets the mark when the image is removed", () => {
    const state = newState();
    const image = state.putImage({ family: "web", tag: "v1" });
    state.deprecateImage(image.id);
    expect(state.listImages()).toEqual([]);
    expect(state.listImages(undefined, true)).toEqual([image]);
    expect(state.getImage(image.id)).toEqual(image);
    expect(Object.keys(state.getImage(image.id))).not.toContain("deprecated");
    state.removeImage(image.id);
    state.putImage({ family: "web", tag: "v1", createdAt: image.createdAt });
    expect(state.listImages()).toEqual([image]);
  });

  // "a task will only stay alive for 30 minutes (in general)": the CloudMC docs `source/includes/_getting_started.md`.
  it("forgets a task after taskTtlMs, but its effect on the image stays", () => {
    const state = newState({ taskDelayMs: 0, taskTtlMs: 0 });
    const image = state.putImage({ family: "web", tag: "v1" });
    const task = state.deleteImage(image.id);
    expect(task.status).toBe("SUCCESS");
    expect(refusal(() => state.getTask(task.id))).toMatchObject({ status: 404, code: simErrorCodes.notFound });
    expect(state.snapshot()).toEqual([]);
  });

  it.each(["FAILED", "FAILURE"] as const)("spells a failed task %s when told to (FAILED by default)", (spelling) => {
    const state = newState({ taskDelayMs: 0, taskFailureRate: 1, ...(spelling === "FAILURE" ? { taskFailureStatus: spelling } : {}) });
    expect(state.createImage(createBody("v1")).status).toBe(spelling);
  });

  it.each([undefined, 409] as const)("refuses a duplicate and a delete during a task with conflictStatus %s (400 by default)", (conflictStatus) => {
    const state = newState({ taskDelayMs: 60_000, conflictStatus });
    const task = state.createImage(createBody("v1"));
    expect(refusal(() => state.createImage(createBody("v1")))).toMatchObject({ status: conflictStatus ?? 400, code: simErrorCodes.alreadyExists });
    expect(refusal(() => state.deleteImage(task.imageId))).toMatchObject({
      status: conflictStatus ?? 400,
      code: simErrorCodes.taskInProgress,
      context: { id: task.imageId, type: "images", currentState: "PENDING" },
    });
  });
});
