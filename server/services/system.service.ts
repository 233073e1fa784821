import type { EntityManager } from "@mikro-orm/postgresql";

/** True when the database answers `select 1` within the timeout. */
export async function pingDatabase(
  em: EntityManager,
  timeoutMs: number,
): Promise<{ ok: boolean; latencyMs: number | null }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = em
    .execute("select 1")
    .then(() => true)
    .catch(() => false);
  const ok = await Promise.race([ping, timeout]);
  clearTimeout(timer);
  return { ok, latencyMs: ok ? Math.round((performance.now() - started) * 10) / 10 : null };
}
