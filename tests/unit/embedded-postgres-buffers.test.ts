import { expect, test } from "vitest";
import { bufferSettings } from "../../db/embedded-postgres";

const GB = 1024 * 1024 * 1024;

test("the embedded server gets an eighth of the machine's memory for shared buffers, between 128 MB and 512 MB", () => {
  expect(bufferSettings(24 * GB)).toEqual(["-c", "shared_buffers=512MB", "-c", "wal_buffers=64MB"]);
  expect(bufferSettings(2 * GB)).toEqual(["-c", "shared_buffers=256MB", "-c", "wal_buffers=32MB"]);
  expect(bufferSettings(512 * 1024 * 1024)).toEqual(["-c", "shared_buffers=128MB", "-c", "wal_buffers=16MB"]);
});

test("shared buffers are whole megabytes whatever the machine reports", () => {
  const [, shared, , wal] = bufferSettings(3 * GB + 12_345);
  expect(shared).toBe("shared_buffers=384MB");
  expect(wal).toBe("wal_buffers=48MB");
});
