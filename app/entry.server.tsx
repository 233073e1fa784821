import { Writable } from "node:stream";
import type { AppLoadContext, EntryContext } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { renderToPipeableStream } from "react-dom/server";
import { StylesheetProvider } from "./components/inline-stylesheet";
import { NonceProvider } from "./components/nonce";
import { lowPriorityPreloads } from "./utils/low-priority-preloads.server";
import { stylesheetText } from "./utils/stylesheet.server";

// The HTTP entry lives in server/http/main.ts; exporting it from here puts it in the same
// bundle as the routes, so both share one copy of every module (and one ORM).
export { runServer } from "../server/http/main";

const ABORT_DELAY = 5_000;
export const streamTimeout = ABORT_DELAY;

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const nonce = loadContext.cspNonce;
  return new Promise((resolve, reject) => {
    let shellRendered = false;
    const { pipe, abort } = renderToPipeableStream(
      <NonceProvider value={nonce}>
        <StylesheetProvider value={stylesheetText()}>
          <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} nonce={nonce} />
        </StylesheetProvider>
      </NonceProvider>,
      {
        nonce,
        // No route defers data, so nothing would stream after the shell but the loader data
        // for hydration: the document is rendered whole into memory and sent as one body
        // with its length: one write, not one per React chunk through a web stream (ADR 025).
        // The browser still parses it as it arrives.
        onAllReady() {
          shellRendered = true;
          const chunks: Buffer[] = [];
          const collected = new Writable({
            write(chunk: Buffer, _encoding, done) {
              chunks.push(chunk);
              done();
            },
            final(done) {
              clearTimeout(timer);
              const html = Buffer.concat(chunks);
              responseHeaders.set("Content-Type", "text/html; charset=utf-8");
              responseHeaders.set("Content-Length", String(html.byteLength));
              resolve(new Response(html, { headers: responseHeaders, status: responseStatusCode }));
              done();
            },
          });
          // The HTML passes through unchanged but for its modulepreload links (see lowPriorityPreloads).
          const body = lowPriorityPreloads();
          body.pipe(collected);
          pipe(body);
        },
        onShellError(error: unknown) {
          clearTimeout(timer);
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          if (shellRendered) loadContext.log.error({ err: error }, "render failed");
        },
      },
    );
    const timer = setTimeout(abort, ABORT_DELAY);
  });
}

/** Server errors go to the request's logger; aborted requests and 404s are not errors. */
export function handleError(error: unknown, { request, context }: { request: Request; context: AppLoadContext }) {
  if (request.signal.aborted) return;
  if (isRouteErrorResponse(error) && error.status < 500) return;
  context.log.error({ err: error }, "unhandled error while rendering");
}
