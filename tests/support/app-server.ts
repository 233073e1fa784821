import type { Server } from "node:http";
import path from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { configureServerTimeouts, createHttpApp } from "../../server/http/app";
import type { Runtime } from "../../server/http/runtime";
import { createLogger } from "../../server/logger";
import type { Orm } from "../../db/orm";
import { testConfig } from "./config";

export type AppServer = { url: string; runtime: Runtime; logs: string[]; close: () => Promise<void> };

/**
 * The real HTTP app (Express + the Remix production build) in this process, on a test
 * database, with its JSON log lines captured. Needs `npm run build` (npm test does it).
 * Takes anything holding an open ORM (a `TestDatabase`, or the benchmarks' own database)
 * and imports nothing from vitest, so scripts outside vitest can use it too.
 */
export async function startAppServer(db: { orm: Orm }, configOverrides = {}): Promise<AppServer> {
  const build = (await import(pathToFileURL(path.resolve("build/index.js")).href)) as ServerBuild;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const runtime: Runtime = {
    config: testConfig(configOverrides),
    log: createLogger("debug", sink),
    orm: db.orm,
    startedAt: new Date(),
    version: "test",
    draining: false,
  };
  const server: Server = createHttpApp(runtime, build).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  configureServerTimeouts(server);
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    url,
    runtime,
    logs,
    close: async () => {
      await runtime.readiness?.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

type TrpcEnvelope<T> = { result?: { data: T }; error?: { message: string; data: { code: string; httpStatus: number } } };

/** Calls a procedure over HTTP the way a script does. */
export async function trpc<T = unknown>(
  url: string,
  procedure: string,
  options: { input?: unknown; token?: string; mutation?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; data: T | undefined; error: TrpcEnvelope<T>["error"] }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  if (options.mutation) {
    headers["content-type"] = "application/json";
    res = await fetch(`${url}/api/trpc/${procedure}`, {
      method: "POST",
      headers,
      body: JSON.stringify(options.input ?? null),
    });
  } else {
    const qs = options.input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(options.input))}`;
    res = await fetch(`${url}/api/trpc/${procedure}${qs}`, { headers });
  }
  const body = (await res.json()) as TrpcEnvelope<T>;
  return { status: res.status, headers: res.headers, data: body.result?.data, error: body.error };
}
