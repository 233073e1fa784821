import { expect, test } from "vitest";
import { knownHostnamesLimit } from "../../../server/services/hosts/host-import-batch";

test("an import reads no more stored hostnames up front than its file can have rows", () => {
  // A row takes at least two bytes ("a\n").
  expect(knownHostnamesLimit({ maxRows: 200_000, fileBytes: 90 })).toBe(45);
  expect(knownHostnamesLimit({ maxRows: 10, fileBytes: 90 })).toBe(10);
});

test("a stream of unknown length may have up to the row limit, and no import reads more than 250,000", () => {
  expect(knownHostnamesLimit({ maxRows: 200_000, fileBytes: null })).toBe(200_000);
  expect(knownHostnamesLimit({ maxRows: 1_000_000, fileBytes: null })).toBe(250_000);
  expect(knownHostnamesLimit({ maxRows: 1_000_000, fileBytes: 160_000_000 })).toBe(250_000);
});
