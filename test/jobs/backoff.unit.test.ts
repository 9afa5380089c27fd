/** Continuation delays: exponential with jitter, within configuration, never beyond SQS's 900 s. */
import { describe, expect, it } from "vitest";
import { continuationDelaySeconds } from "../../packages/jobs/backoff";

const lowest = () => 0;
const highest = () => 0.999_999;

describe("continuationDelaySeconds", () => {
  it("doubles from one second, jittered within the upper half of each step", () => {
    const range = (step: number) => [lowest, highest].map((random) => continuationDelaySeconds(step, { maxSeconds: 900, random }));
    expect([1, 2, 3, 4, 5].map(range)).toEqual([
      [1, 1],
      [1, 2],
      [2, 4],
      [4, 8],
      [8, 16],
    ]);
  });

  it("is capped by the configured maximum and by SQS's 900 s", () => {
    expect(continuationDelaySeconds(30, { maxSeconds: 60, random: highest })).toBe(60);
    expect(continuationDelaySeconds(30, { maxSeconds: 60, random: lowest })).toBe(30);
    expect(continuationDelaySeconds(1000, { maxSeconds: 5000, random: highest })).toBe(900);
    for (let step = 1; step < 200; step++) {
      const delay = continuationDelaySeconds(step, { maxSeconds: 900 });
      expect(delay).toBeGreaterThanOrEqual(1);
      expect(delay).toBeLessThanOrEqual(900);
    }
  });

  it("waits at least as long as upstream asked (Retry-After), still within 900 s", () => {
    expect(continuationDelaySeconds(1, { maxSeconds: 1, minSeconds: 7.2, random: lowest })).toBe(8);
    expect(continuationDelaySeconds(1, { maxSeconds: 1, minSeconds: 3600 })).toBe(900);
  });
});
