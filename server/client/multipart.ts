import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";

export type UploadProgress = {
  /** File bytes handed to the connection so far. */
  loaded: number;
  /** The file's size when known (a path, or `size` given with a stream), else null. */
  total: number | null;
};

/**
 * A multipart/form-data body with one part, `file`, produced chunk by chunk only when the
 * consumer asks for the next one, so a file of any size is never held in memory: one
 * chunk of it (64 KiB from `createReadStream`) is in flight in this process at a time.
 * FormData + Blob would be simpler, but `fs.openAsBlob` is experimental on Node 20 and a
 * Blob built from a stream has to be read whole first.
 */
export function multipartFileBody(options: {
  source: Readable | ReadableStream<Uint8Array>;
  fileName: string;
  contentType: string;
  size: number | null;
  onProgress?: (progress: UploadProgress) => void;
}): { chunks: AsyncGenerator<Uint8Array, void, undefined>; contentType: string; contentLength: number | null } {
  const boundary = `----opsdesk-${randomBytes(16).toString("hex")}`;
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="${headerSafe(options.fileName)}"\r\n` +
      `Content-Type: ${headerSafe(options.contentType)}\r\n\r\n`,
    "utf8",
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, "utf8");

  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    let loaded = 0;
    yield head;
    options.onProgress?.({ loaded, total: options.size });
    for await (const chunk of fileChunks(options.source)) {
      loaded += chunk.byteLength;
      yield chunk;
      options.onProgress?.({ loaded, total: options.size });
    }
    yield tail;
  }

  return {
    chunks: chunks(),
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: options.size === null ? null : head.byteLength + options.size + tail.byteLength,
  };
}

/** The same chunks as a web stream (for a fetch), pulled one at a time. */
export function toWebStream(chunks: AsyncGenerator<Uint8Array, void, undefined>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      // The request failed or was aborted: `return()` runs the generators' `finally`, closing the file.
      await chunks.return(undefined);
    },
  });
}

async function* fileChunks(source: Readable | ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  if (source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      // Reached on completion and on `return()` (a cancelled request) alike.
      await reader.cancel().catch(() => undefined);
    }
  }
  try {
    for await (const chunk of source) {
      yield typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array);
    }
  } finally {
    source.destroy();
  }
}

/** Quotes and line breaks would end the header parameter early; they cannot be sent raw. */
function headerSafe(value: string): string {
  return value.replace(/[\r\n]/g, " ").replace(/"/g, "%22");
}
