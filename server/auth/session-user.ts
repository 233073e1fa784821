import type { Role } from "./roles";

/** The signed-in user as procedures and pages see it: never a hash or secret. */
export type SessionUser = {
  id: number;
  email: string;
  role: Role;
  mfaEnabled: boolean;
};

/** How the request proved who it is; cookie-borne requests need CSRF protection. */
export type AuthMethod = "cookie" | "bearer-access" | "bearer-api-token" | "none";
