import { describe, expect, it } from "vitest";
import { escapeXml, gaugeSvg, sparklineSvg } from "../../../server/domain/metrics/svg";

const hostile = `<script>alert("x")</script> & 'more'`;

function expectSafeSvg(svg: string): void {
  expect(svg.startsWith("<svg")).toBe(true);
  expect(svg).toContain('role="img"');
  expect(svg).toMatch(/<title>[^<]+<\/title>/);
  expect(svg).not.toMatch(/<script|<style|href=|url\(|on\w+=|<foreignObject/i);
  // Text must follow the page's colour so it stays readable in dark mode.
  expect(svg).not.toMatch(/fill="#|fill="(black|white)"|stroke="#/i);
  expect(Buffer.byteLength(svg)).toBeLessThan(4096);
}

describe("escapeXml", () => {
  it("escapes every character that could end text or an attribute", () => {
    expect(escapeXml(`<a href="x">&'`)).toBe("&#60;a href=&#34;x&#34;&#62;&#38;&#39;");
  });
});

describe("gaugeSvg", () => {
  it("shows the rounded percentage and the label, with the exact value in the title", () => {
    const svg = gaugeSvg({ label: "CPU", valuePct: 42.46 });
    expectSafeSvg(svg);
    expect(svg).toContain(">42%<");
    expect(svg).toContain(">CPU<");
    expect(svg).toContain("<title>CPU: 42.5%</title>");
    expect(svg).toContain('stroke-dasharray="42.5 100"');
  });

  it("shows a dash and no value arc when the value is missing", () => {
    const svg = gaugeSvg({ label: "Memory", valuePct: null });
    expectSafeSvg(svg);
    expect(svg).toContain(">—<");
    expect(svg).toContain("no data");
    expect(svg).not.toContain("od-gauge-value");
  });

  it("classes high values as warning and critical for the stylesheet", () => {
    expect(gaugeSvg({ label: "Disk", valuePct: 80 })).toContain("od-gauge-warn");
    expect(gaugeSvg({ label: "Disk", valuePct: 95 })).toContain("od-gauge-crit");
    expect(gaugeSvg({ label: "Disk", valuePct: 10 })).toContain("od-gauge-ok");
  });

  it("keeps the arc within 0–100 for out-of-range values", () => {
    expect(gaugeSvg({ label: "CPU", valuePct: 140 })).toContain('stroke-dasharray="100 100"');
    expect(gaugeSvg({ label: "CPU", valuePct: -5 })).toContain('stroke-dasharray="0 100"');
  });

  it("escapes a hostile label", () => {
    const svg = gaugeSvg({ label: hostile, valuePct: 5 });
    expectSafeSvg(svg);
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&#60;script&#62;");
  });
});

describe("sparklineSvg", () => {
  const start = Date.parse("2025-03-01T12:00:00Z");
  const at = (minute: number) => new Date(start + minute * 60_000);

  it("says no data for an empty series", () => {
    const svg = sparklineSvg([], { label: "Load" });
    expectSafeSvg(svg);
    expect(svg).toContain("<title>Load: no data</title>");
    expect(svg).not.toContain("<path");
  });

  it("says no data when every value is null", () => {
    const svg = sparklineSvg([{ at: at(0), value: null }, { at: at(1), value: null }], { label: "Load" });
    expect(svg).toContain("no data");
  });

  it("draws a single point as a dot", () => {
    const svg = sparklineSvg([{ at: at(0), value: 3 }], { label: "Load" });
    expectSafeSvg(svg);
    expect(svg).toContain("<circle");
    expect(svg).not.toContain("<path");
  });

  it("draws many points as one line with the latest, min and max in the title", () => {
    const points = [1, 3, 2, 5].map((value, minute) => ({ at: at(minute), value }));
    const svg = sparklineSvg(points, { label: "Load", width: 100, height: 20 });
    expectSafeSvg(svg);
    expect(svg).toContain('viewBox="0 0 100 20"');
    expect(svg).toContain("<title>Load: latest 5, min 1, max 5</title>");
    const d = svg.match(/ d="([^"]+)"/)?.[1] ?? "";
    expect(d.match(/M/g)).toHaveLength(1);
    expect(d.match(/L/g)).toHaveLength(3);
  });

  it("leaves a gap where a value is null", () => {
    const values = [1, 2, null, 4, 5];
    const svg = sparklineSvg(
      values.map((value, minute) => ({ at: at(minute), value })),
      { label: "CPU" },
    );
    const d = svg.match(/ d="([^"]+)"/)?.[1] ?? "";
    expect(d.match(/M/g)).toHaveLength(2);
  });

  it("draws an isolated point between gaps as a dot", () => {
    const values = [1, 2, null, 4, null, 6, 7];
    const svg = sparklineSvg(
      values.map((value, minute) => ({ at: at(minute), value })),
      { label: "CPU" },
    );
    expect(svg.match(/<circle/g)).toHaveLength(1);
  });

  it("draws a flat series across the middle", () => {
    const svg = sparklineSvg([{ at: at(0), value: 7 }, { at: at(1), value: 7 }], { label: "x", width: 100, height: 20 });
    expect(svg).toMatch(/M2 10L98 10/);
  });

  it("stays a few KB for a long series", () => {
    const points = Array.from({ length: 10_000 }, (_, index) => ({ at: at(index), value: Math.sin(index / 50) * 100 }));
    const svg = sparklineSvg(points, { label: "CPU", width: 240 });
    expectSafeSvg(svg);
  });

  it("uses the given value format and escapes the label", () => {
    const svg = sparklineSvg([{ at: at(0), value: 0.5 }, { at: at(1), value: 0.25 }], {
      label: hostile,
      formatValue: (value) => `${value * 100}%`,
    });
    expectSafeSvg(svg);
    expect(svg).toContain("latest 25%, min 25%, max 50%");
    expect(svg).not.toContain("<script>");
  });
});
