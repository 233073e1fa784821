import type { EntityManager } from "@mikro-orm/postgresql";
import { DomainError } from "../errors";

/**
 * Fixed-window counters kept in PostgreSQL, so every app instance shares them. One
 * atomic upsert per check; the limiter runs before any password hashing.
 *
 * Policy (README "Rate limits"): login 5 per 15 min per account+address and 30 per
 * 15 min per address; 20 per 5 min per account across all addresses for clients without
 * a device token (a client that signed in before is exempt, so an attacker spraying one
 * account cannot lock its owner out; ADR 019), and 5 failures per device token before it
 * is locked; MFA 5 per 5 min per user; refresh 60 per min per address; API token
 * creation 10 per hour per user.
 */
export type RatePolicy = { name: string; limit: number; windowSeconds: number };

export const POLICIES = {
  loginAccountIp: { name: "login:account-ip", limit: 5, windowSeconds: 15 * 60 },
  loginIp: { name: "login:ip", limit: 30, windowSeconds: 15 * 60 },
  /** Only clients without a valid device token count here (ADR 019). */
  loginAccount: { name: "login:account", limit: 20, windowSeconds: 5 * 60 },
  /** Failures presented with one device token; at the limit the token is locked. */
  loginDevice: { name: "login:device", limit: 5, windowSeconds: 15 * 60 },
  mfa: { name: "mfa:user", limit: 5, windowSeconds: 5 * 60 },
  refresh: { name: "refresh:ip", limit: 60, windowSeconds: 60 },
  tokenCreate: { name: "token-create:user", limit: 10, windowSeconds: 3600 },
} as const satisfies Record<string, RatePolicy>;

export type RateState = { limit: number; remaining: number; resetSeconds: number };

export class RateLimitedError extends DomainError {
  constructor(readonly state: RateState) {
    super(
      "TOO_MANY_REQUESTS",
      `Too many attempts. Try again in ${humanSeconds(state.resetSeconds)}.`,
      { retryAfterSeconds: state.resetSeconds },
    );
  }
}

function humanSeconds(seconds: number): string {
  return seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}

/** Counts one attempt against the bucket; throws RateLimitedError past the limit. */
export async function consumeRateLimit(em: EntityManager, policy: RatePolicy, subject: string): Promise<RateState> {
  const key = `${policy.name}:${subject}`.slice(0, 300);
  const [row] = await em.execute<{ count: number; reset_seconds: string }[]>(
    `insert into rate_limit_buckets (key, count, window_start, expires_at)
       values (?, 1, now(), now() + make_interval(secs => ?))
     on conflict (key) do update set
       count = case when rate_limit_buckets.expires_at <= now() then 1 else rate_limit_buckets.count + 1 end,
       window_start = case when rate_limit_buckets.expires_at <= now() then now() else rate_limit_buckets.window_start end,
       expires_at = case when rate_limit_buckets.expires_at <= now() then now() + make_interval(secs => ?) else rate_limit_buckets.expires_at end
     returning count, ceil(extract(epoch from (expires_at - now()))) as reset_seconds`,
    [key, policy.windowSeconds, policy.windowSeconds],
  );
  const state: RateState = {
    limit: policy.limit,
    remaining: Math.max(0, policy.limit - row!.count),
    resetSeconds: Math.max(1, Number(row!.reset_seconds)),
  };
  if (row!.count > policy.limit) throw new RateLimitedError(state);
  return state;
}

/**
 * Gives back one attempt: a successful login should not use up the address's or the
 * account's allowance (an office behind one NAT signs in many times a day).
 */
export async function refundRateLimit(em: EntityManager, policy: RatePolicy, subject: string): Promise<void> {
  await em.execute("update rate_limit_buckets set count = greatest(count - 1, 0) where key = ?", [
    `${policy.name}:${subject}`.slice(0, 300),
  ]);
}

/** Forgets a bucket (a successful login clears its account+address counter). */
export async function resetRateLimit(em: EntityManager, policy: RatePolicy, subject: string): Promise<void> {
  await em.execute("delete from rate_limit_buckets where key = ?", [`${policy.name}:${subject}`.slice(0, 300)]);
}

/** Expired buckets are garbage; called by the periodic cleanup job. */
export async function purgeExpiredBuckets(em: EntityManager): Promise<number> {
  const res = await em.execute<{ count: string }[]>(
    "with d as (delete from rate_limit_buckets where expires_at < now() returning 1) select count(*) from d",
  );
  return Number(res[0]?.count ?? 0);
}

/** RFC 9331-style headers for a 429 (and Retry-After). */
export function rateLimitHeaders(state: RateState): Record<string, string> {
  return {
    "Retry-After": String(state.resetSeconds),
    "RateLimit-Limit": String(state.limit),
    "RateLimit-Remaining": String(state.remaining),
    "RateLimit-Reset": String(state.resetSeconds),
  };
}
