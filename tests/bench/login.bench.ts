import argon2 from "argon2";
import { ARGON2_OPTIONS } from "../../server/auth/password";
import { createUser } from "../../server/services/users.service";
import { trpc } from "../support/app-server";
import { percentile } from "./bench-utils";
import { startBenchApp, startBenchDatabase } from "./support";

/**
 * Sign-in latency through the app (`auth.login` over HTTP: rate-limit checks, argon2id
 * verification, session creation, audit event) against one bare argon2id verification
 * with the same parameters, in the same run.
 */
export async function run(): Promise<void> {
  const db = await startBenchDatabase();
  const app = await startBenchApp(db);
  try {
    const email = "login-bench@bench.test";
    const password = "login-bench-password-123";
    await createUser(db.orm.em.fork(), app.runtime.config, { id: null, email: "bench" }, { email, role: "viewer", password }, {
      ip: null,
      userAgent: null,
      requestId: null,
    });
    const hash = await argon2.hash(password, ARGON2_OPTIONS);
    const appTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let i = 0; i < 33; i++) {
      let started = performance.now();
      const res = await trpc(app.url, "auth.login", { mutation: true, input: { email, password } });
      if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
      if (i >= 3) appTimes.push(performance.now() - started);
      started = performance.now();
      await argon2.verify(hash, password);
      if (i >= 3) bareTimes.push(performance.now() - started);
    }
    const p50App = percentile(appTimes, 50);
    const p50Bare = percentile(bareTimes, 50);
    console.log(`argon2id m=${ARGON2_OPTIONS.memoryCost} KiB, t=${ARGON2_OPTIONS.timeCost}, p=${ARGON2_OPTIONS.parallelism}`);
    console.log(`  auth.login over HTTP          p50 ${p50App.toFixed(1)} ms   p95 ${percentile(appTimes, 95).toFixed(1)} ms`);
    console.log(`  bare argon2id verify          p50 ${p50Bare.toFixed(1)} ms   p95 ${percentile(bareTimes, 95).toFixed(1)} ms`);
    console.log(`  login / verify (p50)          ${(p50App / p50Bare).toFixed(2)}x`);
  } finally {
    await app.stop();
    await db.close();
  }
}
