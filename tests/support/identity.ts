import { SignJWT } from "jose";
import type { Role } from "../../server/auth/roles";
import { createUser } from "../../server/services/users.service";
import { type AppServer, trpc } from "./app-server";
import type { TestDatabase } from "./database";

let counter = 0;

/** A user of the given role with a known password, created through the service. */
export async function makeUser(db: TestDatabase, app: AppServer, role: Role, password = "correct-horse-battery-staple") {
  counter += 1;
  const email = `${role}-${counter}-${Date.now()}@test.example`;
  const { user } = await createUser(
    db.orm.em.fork(),
    app.runtime.config,
    { id: null, email: "test-setup" },
    { email, role, password },
    { ip: null, userAgent: null, requestId: null },
  );
  return { ...user, password };
}

/** A JWT signed with an arbitrary key and claims, for attack tests. */
export async function forgeJwt(
  claims: Record<string, unknown>,
  options: { key?: string; typ?: string; alg?: string; expiresIn?: string } = {},
): Promise<string> {
  const key = new TextEncoder().encode(options.key ?? "not-the-server-secret-not-the-server-secret");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: options.typ ?? "access+jwt" })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "10m")
    .sign(key);
}

/** An unsigned token (alg "none"), assembled by hand: jose refuses to create one. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${enc({ alg: "none", typ: "access+jwt" })}.${enc(claims)}.`;
}

/** A user of the role, signed in through `auth.login` as a script would be. */
export async function signInAs(db: TestDatabase, app: AppServer, role: Role) {
  const user = await makeUser(db, app, role);
  const login = await trpc<{ accessToken: string }>(app.url, "auth.login", {
    mutation: true,
    input: { email: user.email, password: user.password },
  });
  if (!login.data) throw new Error(`sign-in as ${role} failed: ${login.status}`);
  return { user, accessToken: login.data.accessToken };
}
