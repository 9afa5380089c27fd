/**
 * The one backoff: each step's cap doubles from `base` up to `max`, and the jitter kind decides where in
 * [0, cap] the wait falls: `full` anywhere below the cap, `equal` in its upper half, `none` on it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoff, type BackoffOptions } from "../../packages/core/backoff";

/** The cap of retry `retry` by the rule: base, 2·base, 4·base, ... never above max. */
const capOf = (retry: number, base: number, max: number) => Math.min(max, base * 2 ** (retry - 1));

const lowest = () => 0;
const highest = () => 1 - Number.EPSILON;

describe("backoff", () => {
  it("doubles the cap from base until max, then stays there", () => {
    const waits = [1, 2, 3, 4, 5, 6, 7].map((retry) => backoff(retry, { base: 100, max: 1000, jitter: "none" }));
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("treats a retry number below 1 as the first retry", () => {
    for (const retry of [0, -3]) expect(backoff(retry, { base: 100, max: 1000, jitter: "none" })).toBe(100);
  });

  it("stays finite for any retry number, even with no max", () => {
    const wait = backoff(1_000_000, { base: 1, max: Number.POSITIVE_INFINITY, jitter: "none" });
    expect(Number.isFinite(wait)).toBe(true);
    expect(wait).toBeGreaterThan(1);
  });

  it("takes the bounds of each jitter kind at the ends of random's range", () => {
    const at = (jitter: BackoffOptions["jitter"], random: () => number) => backoff(3, { base: 1, max: 60, jitter, random });
    expect(at("full", lowest)).toBe(0);
    expect(at("full", highest)).toBeCloseTo(4);
    expect(at("equal", lowest)).toBe(2);
    expect(at("equal", highest)).toBeCloseTo(4);
    expect(at("none", lowest)).toBe(4);
  });

  it("draws from Math.random when no random source is given", () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoff(4, { base: 1, max: 60, jitter: "full" })));
    // 50 draws from [0, 8) that are all equal would mean the jitter is not random at all.
    expect(waits.size).toBeGreaterThan(1);
    for (const wait of waits) expect(wait >= 0 && wait < 8).toBe(true);
  });

  it("keeps every wait within its jitter's share of the cap, for any retry, base, max and random draw", () => {
    const options = fc.record({
      retry: fc.integer({ min: 1, max: 200 }),
      base: fc.double({ min: 0.001, max: 10_000, noNaN: true }),
      max: fc.double({ min: 0.001, max: 1_000_000, noNaN: true }),
      draw: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    });
    fc.assert(
      fc.property(options, ({ retry, base, max, draw }) => {
        const cap = capOf(retry, base, max);
        const wait = (jitter: BackoffOptions["jitter"]) => backoff(retry, { base, max, jitter, random: () => draw });
        expect(wait("none")).toBe(cap);
        expect(wait("full")).toBeGreaterThanOrEqual(0);
        expect(wait("full")).toBeLessThanOrEqual(cap);
        expect(wait("equal")).toBeGreaterThanOrEqual(cap / 2);
        expect(wait("equal")).toBeLessThanOrEqual(cap);
        expect(wait("full")).toBeLessThanOrEqual(max);
      }),
    );
  });
});
