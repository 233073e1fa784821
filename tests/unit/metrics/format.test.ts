import { describe, expect, it } from "vitest";
import { formatAgo, formatBytesPerSecond, formatDuration, formatPct } from "../../../server/domain/metrics/format";

describe("formatPct", () => {
  it.each([
    [42.46, "42.5%"],
    [0, "0%"],
    [100, "100%"],
    [99.96, "100%"],
    [7.05, "7.1%"],
  ])("shows %d as %s", (value, expected) => {
    expect(formatPct(value)).toBe(expected);
  });

  it("shows a dash, not 0%, for a missing value", () => {
    expect(formatPct(null)).toBe("—");
    expect(formatPct(Number.NaN)).toBe("—");
  });
});

describe("formatBytesPerSecond", () => {
  it.each([
    [0, "0 B/s"],
    [999, "999 B/s"],
    [1500, "1.5 kB/s"],
    [12_345_678, "12.3 MB/s"],
    [999_600, "1 MB/s"],
    [125_000_000, "125 MB/s"],
    [2.5e9, "2.5 GB/s"],
  ])("shows %d as %s", (value, expected) => {
    expect(formatBytesPerSecond(value)).toBe(expected);
  });

  it("shows a dash for a missing rate", () => {
    expect(formatBytesPerSecond(null)).toBe("—");
  });
});

describe("formatDuration", () => {
  it.each([
    [3 * 86_400 + 4 * 3600 + 5 * 60, "3 d 4 h"],
    [3 * 86_400 + 5 * 60, "3 d"],
    [4 * 3600 + 12 * 60 + 9, "4 h 12 min"],
    [65, "1 min 5 s"],
    [45.9, "45 s"],
    [0, "0 s"],
  ])("shows %d seconds as %s", (value, expected) => {
    expect(formatDuration(value)).toBe(expected);
  });

  it("shows a dash for a missing uptime", () => {
    expect(formatDuration(null)).toBe("—");
  });
});

describe("formatAgo", () => {
  const now = new Date("2025-03-01T12:00:00Z");
  const secondsBefore = (seconds: number) => new Date(now.getTime() - seconds * 1000);

  it.each([
    [0, "just now"],
    [30, "30 seconds ago"],
    [60, "1 minute ago"],
    [5 * 60 + 59, "5 minutes ago"],
    [2 * 3600, "2 hours ago"],
    [3 * 86_400, "3 days ago"],
    [400 * 86_400, "1 year ago"],
  ])("shows %d seconds back as %s", (seconds, expected) => {
    expect(formatAgo(secondsBefore(seconds), now)).toBe(expected);
  });

  it("treats small clock skew into the future as just now", () => {
    expect(formatAgo(secondsBefore(-3), now)).toBe("just now");
  });

  it("says a later time is in the future", () => {
    expect(formatAgo(secondsBefore(-300), now)).toBe("in 5 minutes");
  });

  it("shows a dash for an invalid date", () => {
    expect(formatAgo(new Date("nope"), now)).toBe("—");
  });
});
