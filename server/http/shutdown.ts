import type { Server } from "node:http";
import type { Logger } from "../logger";
import type { ArtifactStorage } from "../services/artifacts/storage";

/** In-flight requests get this long after the listener closes; then their connections are cut. */
export const SHUTDOWN_GRACE_MS = 8_000;
/** After cutting connections, aborted uploads get this long to remove what they wrote. */
export const UPLOAD_CLEANUP_MS = 5_000;

/**
 * The artifact store, counting uploads that have begun and not yet committed or finished
 * aborting. Shutdown waits for that count to reach zero before it closes the database, so
 * an upload cut at the end of the grace period removes its bytes before the process exits
 * (otherwise they would wait for the orphan sweep an hour later).
 */
export function trackUploads(storage: ArtifactStorage): { storage: ArtifactStorage; settled: (timeoutMs: number) => Promise<boolean> } {
  let open = 0;
  let wake: (() => void) | undefined;
  const done = () => {
    open -= 1;
    if (open === 0) wake?.();
  };
  const tracked: ArtifactStorage = {
    kind: storage.kind,
    remove: (key) => storage.remove(key),
    size: (key) => storage.size(key),
    read: (key, range) => storage.read(key, range),
    list: () => storage.list(),
    check: () => storage.check(),
    beginUpload: async (key) => {
      const upload = await storage.beginUpload(key);
      open += 1;
      let finished = false;
      const once =
        <T>(step: () => Promise<T>) =>
        async () => {
          try {
            return await step();
          } finally {
            if (!finished) {
              finished = true;
              done();
            }
          }
        };
      return { stream: upload.stream, commit: once(() => upload.commit()), abort: once(() => upload.abort()) };
    },
  };
  return {
    storage: tracked,
    settled: (timeoutMs) =>
      open === 0
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(open === 0), timeoutMs);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          }),
  };
}

/**
 * SIGTERM with a load balancer in front (ADR 023), in four steps:
 * 1. drain: /readyz answers 503 at once (the caller sets `draining`), but the listener
 *    stays open for `drainMs` and keeps serving, so requests the balancer still sends in
 *    that time succeed; every response says `Connection: close`, so keep-alive clients
 *    reconnect (through the balancer, to another instance);
 * 2. close the listener: new connections are refused (a balancer retries those elsewhere)
 *    and idle ones closed, also those that turn idle later;
 * 3. in-flight requests get `SHUTDOWN_GRACE_MS` to finish, then their connections are cut;
 * 4. uploads cut that way get `UPLOAD_CLEANUP_MS` to remove their bytes.
 * The caller then closes the database and exits.
 */
export async function drainAndClose(
  server: Server,
  options: { drainMs: number; uploadsSettled: (timeoutMs: number) => Promise<boolean>; log: Logger },
): Promise<void> {
  const { drainMs, log } = options;
  server.prependListener("request", (_req, res) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
  });
  if (drainMs > 0) {
    log.info({ drainMs }, "draining: /readyz answers 503, still serving");
    await new Promise((resolve) => setTimeout(resolve, drainMs));
  }
  log.info("closing the listener; waiting for in-flight requests");
  let forced = false;
  const force = setTimeout(() => {
    forced = true;
    log.warn({ graceMs: SHUTDOWN_GRACE_MS }, "in-flight requests did not finish in time; closing their connections");
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  force.unref();
  // A request that began before the signal answers without `Connection: close`; its
  // connection turns idle afterwards and would otherwise linger for the keep-alive timeout.
  const sweepIdle = setInterval(() => server.closeIdleConnections(), 100);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  clearInterval(sweepIdle);
  clearTimeout(force);
  if (!(await options.uploadsSettled(forced ? UPLOAD_CLEANUP_MS : 1_000))) {
    log.warn("an interrupted upload was still cleaning up at exit; the orphan sweep removes what it left");
  }
}
