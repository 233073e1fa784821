import { describe, expect, test } from "vitest";
import { lowPriorityPreloads } from "../../../app/utils/low-priority-preloads.server";

/** Writes `chunks` one by one and returns each piece the stream let through, and the whole. */
async function through(chunks: Buffer[]): Promise<{ pieces: string[]; whole: string }> {
  const stream = lowPriorityPreloads();
  const out: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => stream.on("end", resolve));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  return { pieces: out.map((b) => b.toString()), whole: Buffer.concat(out).toString() };
}

const page =
  '<!DOCTYPE html><html lang="en"><head><style>a{color:red}</style></head><body><main>Hôtes — 😀 10 000</main>' +
  '<link rel="modulepreload" href="/build/entry.client-A.js"/><link rel="modulepreload" href="/build/_shared/chunk-B.js"/>' +
  '<script type="module" async="">import "/build/root-C.js";</script></body></html>';
const expected = page.replaceAll('<link rel="modulepreload"', '<link rel="modulepreload" fetchpriority="low"');

describe("lowPriorityPreloads", () => {
  test("every modulepreload link of the document is marked fetchpriority=low and nothing else changes", async () => {
    const { whole } = await through([Buffer.from(page)]);
    expect(whole).toBe(expected);
    expect(whole.match(/fetchpriority="low"/g)).toHaveLength(2);
  });

  test("a link or a multi-byte character split across chunks at any byte comes out whole", async () => {
    const bytes = Buffer.from(page);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { whole } = await through([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(whole, `cut at byte ${cut}`).toBe(expected);
    }
  });

  test("the document still streams: a chunk is let through at once, not held until the end", async () => {
    const stream = lowPriorityPreloads();
    const first = new Promise<string>((resolve) => stream.once("data", (chunk: Buffer) => resolve(chunk.toString())));
    stream.write(Buffer.from("<html><body><main>shell</main>"));
    expect(await first).toBe("<html><body><main>shell</main>");
    stream.end();
  });
});
