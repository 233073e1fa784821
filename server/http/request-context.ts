import type { EntityManager } from "@mikro-orm/postgresql";
import type { Identity } from "../auth/authenticate";
import type { Logger } from "../logger";
import type { Runtime } from "./runtime";

/**
 * Per-request state built by the HTTP entry and passed to Remix as its load context:
 * a fresh EntityManager fork (its own identity map), the request id and a child logger.
 */
export type RequestContext = {
  runtime: Runtime;
  em: EntityManager;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  log: Logger;
  cspNonce: string;
  /** Lets the auth layer tell the access log who made the request. */
  setUserId: (id: number) => void;
  /**
   * Who made the request, resolved once per request (root and page loaders run in
   * parallel; a refresh-token rotation must happen only once). Cookies it sets are added
   * to the HTTP response directly.
   */
  identity: () => Promise<Identity>;
  /**
   * Forgets the resolved identity. A form post without JavaScript runs the action and the
   * loaders in one request: after a mutation the loaders must see the user as it is now.
   */
  resetIdentity: () => void;
};
