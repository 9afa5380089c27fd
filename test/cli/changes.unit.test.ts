/** `imagesync changes --since`: durations and times. */
import { describe, expect, it } from "vitest";
import { parseSince } from "../../packages/cli/commands/changes";

describe("parseSince", () => {
  const now = Date.parse("2026-11-29T12:00:00.000Z");
  it("reads durations back from now and ISO times as they are", () => {
    expect(parseSince("90m", now)).toBe("2026-11-29T10:30:00.000Z");
    expect(parseSince("1h", now)).toBe("2026-11-29T11:00:00.000Z");
    expect(parseSince("7d", now)).toBe("2026-11-22T12:00:00.000Z");
    expect(parseSince("30s", now)).toBe("2026-11-29T11:59:30.000Z");
    expect(parseSince("2026-11-01T00:00:00Z", now)).toBe("2026-11-01T00:00:00.000Z");
  });
  it("names the flag for anything else", () => {
    for (const bad of ["yesterday", "1w", "-1h", ""]) expect(() => parseSince(bad, now)).toThrow(/--since must be a duration like 90m, 1h, 7d or an ISO time/);
  });
});
