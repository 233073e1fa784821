import http, { type IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { Readable } from "node:stream";

/**
 * POSTs a streamed body with node:http(s) and answers a web `Response`, so callers treat
 * it like a fetch. Not fetch itself: Node 20's built-in fetch reads a streamed request
 * body ahead of the socket (measured: a 400 MiB upload held ~400 MiB of buffers), while
 * `pipe` into a ClientRequest honours backpressure (~24 MiB for the same file).
 */
export function postStream(
  url: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<Response> {
  const target = new URL(url);
  const transport = target.protocol === "https:" ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const source = Readable.from(body, { objectMode: false });
    const request = transport.request(target, { method: "POST", headers, signal });
    let answered = false;
    let sent = false;
    source.on("end", () => {
      sent = true;
    });

    request.on("response", (response) => {
      answered = true;
      if (!sent) {
        // The server answered before taking the whole body (401, 403, 404, 413 …): stop
        // sending, read its answer, then drop the half-used connection.
        source.unpipe(request);
        source.destroy();
        response.on("end", () => request.destroy());
      }
      const status = response.statusCode ?? 502;
      resolve(
        new Response(
          // Node's and the DOM's ReadableStream types differ only in typing, not at run time.
          Readable.toWeb(response) as unknown as ReadableStream<Uint8Array>,
          { status, statusText: response.statusMessage ?? "", headers: toHeaders(response.headers) },
        ),
      );
    });

    // After a socket error Node never emits "response": a server that answered early and
    // closed the connection may have lost its answer. The caller asks it again (see
    // uploadArtifact), so this only reports the error.
    const failed = (error: Error) => {
      if (!answered) reject(error);
    };
    request.on("error", failed);
    source.on("error", (error) => {
      if (answered) return;
      request.destroy(error);
      reject(error);
    });
    source.pipe(request);
  });
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}
