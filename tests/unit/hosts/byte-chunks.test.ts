import { describe, expect, test } from "vitest";
import { byteChunks, stringChunks } from "../../../server/domain/csv/byte-chunks";

async function collect(source: Parameters<typeof byteChunks>[0]): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of byteChunks(source)) chunks.push(chunk);
  return chunks;
}

describe("byteChunks", () => {
  test("a string comes out as its exact UTF-8, in pieces of at most 64 KiB, surrogate pairs never split", async () => {
    // Emoji (surrogate pairs) at every offset around the piece boundaries, between
    // 1-, 2- and 3-byte characters.
    const text = Array.from({ length: 120_000 }, (_, i) => ["a", "é", "€", "😀"][i % 4]).join("") + "😀".repeat(30_000);
    const chunks = await collect(text);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.concat(chunks).equals(Buffer.from(text, "utf8"))).toBe(true);
    for (const chunk of chunks) expect(chunk.includes(Buffer.from("\ufffd"))).toBe(false);
  });

  test("a Buffer comes out as slices of itself, not copies", async () => {
    const file = Buffer.alloc(200 * 1024, 0x61);
    const chunks = await collect(file);
    expect(chunks.map((c) => c.length)).toEqual([65536, 65536, 65536, 8192]);
    expect(chunks.every((c) => c.buffer === file.buffer)).toBe(true);
  });

  test("a stream's strings and buffers are passed on in order", async () => {
    async function* source() {
      yield "host-1,";
      yield Buffer.from("10.0.0.1\n");
      yield new Uint8Array([0x68, 0x32]);
    }
    expect(Buffer.concat(await collect(source())).toString()).toBe("host-1,10.0.0.1\nh2");
  });

  test("an empty string gives no chunks", () => {
    expect([...stringChunks("")]).toEqual([]);
  });
});
