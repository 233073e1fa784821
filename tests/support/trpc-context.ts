import type { SessionUser } from "../../server/auth/session-user";
import type { Runtime } from "../../server/http/runtime";
import { createLogger } from "../../server/logger";
import type { TrpcContext } from "../../server/trpc/context";
import { createCaller } from "../../server/trpc/root";
import { testConfig } from "./config";
import type { TestDatabase } from "./database";

/**
 * A procedure context as a script with a Bearer token would get it, for calling
 * procedures directly through `createCaller` (no HTTP).
 */
export function contextFor(db: TestDatabase, user: SessionUser | null, runtime?: Runtime): TrpcContext {
  const rt: Runtime = runtime ?? {
    config: testConfig(),
    log: createLogger("silent"),
    orm: db.orm,
    startedAt: new Date(),
    version: "test",
    draining: false,
  };
  return {
    runtime: rt,
    config: rt.config,
    em: db.orm.em.fork(),
    log: rt.log,
    requestId: "test-request",
    request: new Request("http://127.0.0.1/api/trpc/test"),
    resHeaders: new Headers(),
    user,
    authMethod: user ? "bearer-access" : "none",
    sessionId: null,
    csrfToken: null,
    csrfVerified: true,
    audit: { ip: "127.0.0.1", userAgent: "vitest", requestId: "test-request" },
    afterMutation: () => undefined,
  };
}

export function callerAs(db: TestDatabase, user: SessionUser | null, runtime?: Runtime) {
  return createCaller(contextFor(db, user, runtime));
}
