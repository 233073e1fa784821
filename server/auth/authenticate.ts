import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../config";
import type { AuthMethod, SessionUser } from "./session-user";

export type Identity = { user: SessionUser | null; authMethod: AuthMethod; csrfToken: string | null };

/** Resolves who made the request (cookie session, Bearer access JWT or API token). */
export async function authenticate(
  _request: Request,
  _em: EntityManager,
  _config: Config,
  _resHeaders?: Headers,
): Promise<Identity> {
  return { user: null, authMethod: "none", csrfToken: null };
}
