import { randomBytes } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../server/config";
import { hashPassword } from "../../server/auth/password";
import type { Role } from "../../server/auth/roles";
import { UserSchema } from "../entities/user.entity";

const DEMO_USERS: { email: string; role: Role }[] = [
  { email: "operator@demo.opsdesk.local", role: "operator" },
  { email: "auditor@demo.opsdesk.local", role: "auditor" },
  { email: "viewer@demo.opsdesk.local", role: "viewer" },
];

/** Demo users, one per non-admin role, so each role can be tried. */
export async function seedDemoData(em: EntityManager, _config: Config): Promise<string[]> {
  const lines: string[] = [];
  const password = randomBytes(12).toString("base64url");
  const hash = await hashPassword(password);
  let created = 0;
  for (const demo of DEMO_USERS) {
    if (await em.findOne(UserSchema, { email: demo.email })) continue;
    em.create(UserSchema, { email: demo.email, role: demo.role, passwordHash: hash });
    created++;
  }
  await em.flush();
  lines.push(
    created
      ? `Demo users created (${DEMO_USERS.map((u) => u.email).join(", ")}), password: ${password}`
      : "Demo users already exist.",
  );
  return lines;
}
