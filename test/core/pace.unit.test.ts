/**
 * The pacer, on fake timers (a loaded machine fires real timers late and in bunches, which says nothing about
 * the pacer): concurrent callers together never exceed the rate in any one-second window, and it never idles.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { pacer } from "../../packages/core/pace";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `callers` loops of `calls` paced calls each; the fake time of every call. */
async function paced(pace: () => Promise<void>, callers: number, calls: number): Promise<number[]> {
  const times: number[] = [];
  const done = Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < calls; i++) {
        await pace();
        times.push(performance.now());
      }
    }),
  );
  await vi.runAllTimersAsync();
  await done;
  return times;
}

describe("pacer", () => {
  it("spaces 32 concurrent callers to the rate: no one-second window holds more, and none is wasted", async () => {
    const start = performance.now();
    const times = await paced(pacer(200), 32, 10);
    expect(times).toHaveLength(320);
    // 320 calls at 200/s: the last one 1,595 ms after the first.
    expect(Math.max(...times) - start).toBeCloseTo(1595, 0);
    for (const from of times) expect(times.filter((t) => t >= from && t < from + 1000).length).toBeLessThanOrEqual(200);
  });

  it("lets a call through at once after a pause: no debt builds up, and no burst either", async () => {
    const pace = pacer(10);
    await paced(pace, 1, 1);
    await vi.advanceTimersByTimeAsync(500);
    const start = performance.now();
    const times = await paced(pace, 3, 1);
    expect(times.map((t) => t - start)).toEqual([0, 100, 200]);
  });

  it("does not wait at all without a limit, and refuses a rate that is not positive", async () => {
    const start = performance.now();
    const times = await paced(pacer(Number.POSITIVE_INFINITY), 4, 100);
    expect(Math.max(...times)).toBe(start);
    for (const rate of [0, -1, Number.NaN]) expect(() => pacer(rate)).toThrow(/perSecond must be a positive number/);
  });
});
