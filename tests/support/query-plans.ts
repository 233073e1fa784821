import type { EntityManager } from "@mikro-orm/postgresql";
import type pg from "pg";

/**
 * Query-plan checks for list paths: capture the SQL a service function really sends
 * (knex's `query` event, which every MikroORM statement, `em.execute` and `em.getKnex().raw`
 * pass through), then `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` each statement on another
 * connection with the same bind values. The test follows the code: change a query and
 * the plan that is checked changes with it.
 */

export type CapturedStatement = { sql: string; bindings: unknown[] };

/** Runs `fn` and returns the statements it sent through the EntityManager's knex. */
export async function captureStatements<T>(em: EntityManager, fn: () => Promise<T>): Promise<{ result: T; statements: CapturedStatement[] }> {
  const knex = em.getKnex();
  const statements: CapturedStatement[] = [];
  const listener = (query: { sql: string; bindings?: unknown[] }) => {
    statements.push({ sql: query.sql, bindings: query.bindings ?? [] });
  };
  knex.on("query", listener);
  try {
    return { result: await fn(), statements };
  } finally {
    knex.off("query", listener);
  }
}

/** One node of PostgreSQL's JSON plan (the fields read here). */
export type PlanNode = {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Plan Rows": number;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Actual Total Time"?: number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Filter?: string;
  Plans?: PlanNode[];
};

export type ExplainedStatement = {
  sql: string;
  plan: PlanNode;
  planningMs: number;
  executionMs: number;
};

/**
 * EXPLAIN ANALYZE of a captured statement, `runs` times: the plan of the last run and the
 * median execution time (one run's figure swings with whatever else the machine does).
 * A `COPY (SELECT …) TO STDOUT` cannot be explained; its SELECT is, which is what
 * PostgreSQL plans for the COPY.
 */
export async function explainStatement(client: pg.Client, statement: CapturedStatement, runs = 5): Promise<ExplainedStatement> {
  const copied = /^\s*copy\s*\(([\s\S]*)\)\s*to\s+stdout[\s\S]*$/i.exec(statement.sql);
  const sql = copied ? copied[1]! : statement.sql;
  const times: number[] = [];
  let last: { Plan: PlanNode; "Planning Time": number; "Execution Time": number } | undefined;
  for (let i = 0; i < runs; i++) {
    const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode; "Planning Time": number; "Execution Time": number }] }>(
      `explain (analyze, buffers, format json) ${sql}`,
      statement.bindings,
    );
    last = rows[0]!["QUERY PLAN"][0];
    times.push(last["Execution Time"]);
  }
  times.sort((a, b) => a - b);
  return { sql, plan: last!.Plan, planningMs: last!["Planning Time"], executionMs: times[Math.floor(times.length / 2)]! };
}

export function* planNodes(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* planNodes(child);
}

/** Estimated row counts of the app's tables, from the statistics the seed's ANALYZE left. */
export async function tableRowCounts(client: pg.Client): Promise<Map<string, number>> {
  const { rows } = await client.query<{ relname: string; rows: number }>(
    "select relname, reltuples::float8 as rows from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace",
  );
  return new Map(rows.map((r) => [r.relname, Math.max(0, r.rows)]));
}

/** Sequential scans of tables holding more than `minRows` rows: what a list path must not plan. */
export function largeSequentialScans(plan: PlanNode, tableRows: Map<string, number>, minRows = 1_000): string[] {
  const found: string[] = [];
  for (const node of planNodes(plan)) {
    const table = node["Relation Name"];
    if (node["Node Type"] === "Seq Scan" && table && (tableRows.get(table) ?? 0) > minRows) found.push(table);
  }
  return found;
}

/**
 * Index scans of large tables that read and threw away at least `share` of the table's
 * rows (filter and recheck, over all loops): a whole-table read in disguise, such as a
 * walk down the primary key for a filter that matches nothing.
 */
export function disguisedFullScans(plan: PlanNode, tableRows: Map<string, number>, share = 0.5, minRows = 1_000): string[] {
  const found: string[] = [];
  for (const node of planNodes(plan)) {
    const table = node["Relation Name"];
    const rows = table ? (tableRows.get(table) ?? 0) : 0;
    if (!table || rows <= minRows) continue;
    const loops = node["Actual Loops"] ?? 1;
    const discarded = ((node["Rows Removed by Filter"] ?? 0) + (node["Rows Removed by Index Recheck"] ?? 0)) * loops;
    if (discarded >= rows * share) found.push(`${table}: ${discarded} of ~${Math.round(rows)} rows discarded`);
  }
  return found;
}

/** A plan on one line: node types outermost first, with table/index, estimated→actual rows. */
export function planSummary(plan: PlanNode): string {
  const parts: string[] = [];
  for (const node of planNodes(plan)) {
    let part = node["Node Type"];
    if (node["Index Name"]) part += ` ${node["Index Name"]}`;
    else if (node["Relation Name"]) part += ` ${node["Relation Name"]}`;
    if (node["Relation Name"] || node["Index Name"]) {
      part += ` (est ${node["Plan Rows"]}, got ${node["Actual Rows"] ?? "?"}`;
      const removed = node["Rows Removed by Filter"] ?? 0;
      if (removed) part += `, ${removed * (node["Actual Loops"] ?? 1)} filtered out`;
      part += ")";
    }
    parts.push(part);
  }
  return parts.join(" > ");
}
