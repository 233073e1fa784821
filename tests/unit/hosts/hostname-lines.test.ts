import { expect, test } from "vitest";
import { HostnameLines } from "../../../server/domain/csv/hostname-lines";

test("remembers the first line of each hostname and answers it for repeats", () => {
  const seen = new HostnameLines();
  expect(seen.firstLineOrAdd("web-1.example.com", 2)).toBeUndefined();
  expect(seen.firstLineOrAdd("web-2.example.com", 3)).toBeUndefined();
  expect(seen.firstLineOrAdd("web-1.example.com", 9)).toBe(2);
  expect(seen.firstLineOrAdd("web-1.example.co", 10)).toBeUndefined();
  expect(seen.firstLineOrAdd("web-1.example.com", 11)).toBe(2);
  expect(seen.size).toBe(3);
});

test("agrees with a Map over many hostnames, through every growth of its tables", () => {
  const seen = new HostnameLines();
  const reference = new Map<string, number>();
  let seed = 7;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  for (let line = 2; line < 120_000; line++) {
    // Names from a small space so that many repeat, of varied lengths (1 to 253).
    const n = next() % 60_000;
    const hostname = n % 97 === 0 ? `${"a".repeat(200)}-${n}.example` : `h${n.toString(36)}${n % 5 === 0 ? "" : ".example.internal"}`;
    const expected = reference.get(hostname);
    if (expected === undefined) reference.set(hostname, line);
    expect(seen.firstLineOrAdd(hostname, line)).toBe(expected);
  }
  expect(seen.size).toBe(reference.size);
});

test("finds repeats of long hostnames that share all but their first characters", () => {
  const seen = new HostnameLines();
  // 12,000 names of 250 characters, alike but for a 6-digit prefix.
  const name = (i: number) => `${String(i).padStart(6, "0")}-${"x".repeat(243)}`;
  for (let i = 0; i < 12_000; i++) expect(seen.firstLineOrAdd(name(i), i + 2)).toBeUndefined();
  for (let i = 0; i < 12_000; i++) expect(seen.firstLineOrAdd(name(i), 20_000 + i)).toBe(i + 2);
  expect(seen.size).toBe(12_000);
});

test("tells apart hundreds of thousands of hostnames that differ by one character or by order", () => {
  const seen = new HostnameLines();
  let line = 2;
  // Names of one pattern, as a generated fleet has them: serials, swapped digits, one
  // letter changed, and the same name one character longer.
  for (let i = 0; i < 100_000; i++) {
    const serial = String(i).padStart(6, "0");
    for (const name of [`web-${serial}.eu.example`, `web-${serial.split("").reverse().join("")}x.eu.example`, `wab-${serial}.eu.example`]) {
      // All 300,000 names are distinct (reversing is one-to-one): none may be taken for another.
      const first = seen.firstLineOrAdd(name, line);
      if (first !== undefined) throw new Error(`${name} on line ${line} taken for the name on line ${first}`);
      line++;
    }
  }
  expect(seen.size).toBe(300_000);
});

test("says whether a hostname was added without adding it", () => {
  const known = new HostnameLines();
  expect(known.has("db-1.example.com")).toBe(false);
  expect(known.size).toBe(0);
  known.firstLineOrAdd("db-1.example.com", 0);
  expect(known.has("db-1.example.com")).toBe(true);
  expect(known.has("db-1.example.co")).toBe(false);
  expect(known.has("db-1.example.comm")).toBe(false);
  expect(known.size).toBe(1);
});
