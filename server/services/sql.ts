import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * Runs SQL with real bind parameters, inside the EntityManager's transaction when there
 * is one. `em.execute` inlines every parameter into the SQL text as an escaped literal;
 * for bulk statements (1,000 audit rows, a batch of hosts as JSON, a file as bytea) that
 * costs more than the database work. Parameters are `?`; never pass an array (knex would
 * expand it into a list): send arrays as JSON.
 */
export async function query<T = Record<string, unknown>>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const raw = em.getKnex().raw(sql, params as never[]);
  const trx = em.getTransactionContext();
  if (trx) raw.transacting(trx);
  const result = (await raw) as { rows: T[] };
  return result.rows;
}
