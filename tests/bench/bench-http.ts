import { request as httpRequest } from "node:http";

/**
 * POSTs a body with backpressure and collects the answer (node:http: Node's fetch would
 * buffer a streamed body ahead of the network and inflate this process's memory).
 */
export function postStream(
  url: string,
  token: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  contentType = "text/csv",
  contentLength?: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    // A server that refuses a body (413, 401) answers early and then closes the
    // connection while the body is still being sent: report its answer, not the reset.
    let answered: { status: number; body: string } | null = null;
    const req = httpRequest(
      // A connection of its own (agent: false): a kept-alive one from an earlier upload may
      // have been closed by the server while this process was busy, and reusing it fails.
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: "POST",
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": contentType,
          ...(contentLength === undefined ? {} : { "content-length": contentLength }),
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
        answered = { status: res.statusCode ?? 0, body };
      },
    );
    req.on("error", (error) => (answered ? setTimeout(() => resolve(answered!), 100) : reject(error)));
    void (async () => {
      for await (const chunk of chunks) {
        if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })().catch(reject);
  });
}

/** A body already in memory, sent in 64 KiB pieces. */
export async function* bufferChunks(body: Buffer): AsyncGenerator<Buffer> {
  for (let start = 0; start < body.length; start += 64 * 1024) yield body.subarray(start, start + 64 * 1024);
}
