import { request as httpRequest } from "node:http";
import pg from "pg";
import { auditExportBatches, latestAuditId } from "../../server/services/audit-query.service";
import { auditHash, canonicalAuditContent, verifyAuditChain } from "../../server/services/audit.service";
import { createUser } from "../../server/services/users.service";
import { trpc } from "../support/app-server";
import { collectGarbage, copyFromStdin, mb, perSecond, sampleRss, seconds, startBenchApp, startBenchDatabase } from "./support";

/**
 * Audit export: 1,000,000 events streamed as CSV through GET /audit/export, against
 * PostgreSQL's own `COPY (SELECT …) TO STDOUT WITH CSV` of the same rows in the same run.
 *
 * The baseline is COPY TO STDOUT through plain `pg` (pg-copy-streams is not a dependency;
 * a Submittable takes the CopyData messages), not `COPY … TO '/tmp/file'`: a server-side
 * file needs superuser or pg_write_server_files and a server on this machine, so it would
 * fail against a TEST_DATABASE_URL elsewhere, and it would leave out what the app pays
 * too — carrying every row over the client connection into a Node process.
 *
 * Also printed: reading the same rows by keyset batches vs a `DECLARE … CURSOR` (the
 * export's choice, see auditExportBatches), and a full audit.verify over the 1M rows
 * (which also proves the bulk-generated chain is valid).
 * `BENCH_AUDIT_ROWS` shrinks the run while working on it.
 */
const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const RATIO_TARGET = 0.5;
const RSS_GROWTH_TARGET = 64 * 1024 * 1024;
const COPY_CHUNK_ROWS = 50_000;

const EXPORT_COLUMNS = `id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, actor_id, actor_email,
  action, target_type, target_id, before, after, ip, user_agent, request_id, outcome, prev_hash, hash`;

const ACTIONS = ["HOST_UPDATED", "HOST_CREATED", "LOGIN_SUCCEEDED", "ARTIFACT_DOWNLOADED", "SSH_COMMAND_COPIED", "METRICS_UPDATED"];

export async function run(): Promise<void> {
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(40)} ${value}`);
  const verdict = (ok: boolean, target: string) => (ok ? `(target ${target}: met)` : `<<< TARGET MISSED (target ${target}) >>>`);

  const db = await startBenchDatabase();
  let app: Awaited<ReturnType<typeof startBenchApp>> | undefined;
  const sql = new pg.Client({ connectionString: db.url });
  try {
    app = await startBenchApp(db);
    await sql.connect();
    const secret = app.runtime.config.secret;

    const email = "bench-auditor@bench.example";
    const password = "bench-password-bench-password";
    await createUser(db.orm.em.fork(), app.runtime.config, { id: null, email: "bench" }, { email, role: "auditor", password }, {
      ip: null,
      userAgent: null,
      requestId: null,
    });
    const login = await trpc<{ status: string; accessToken: string }>(app.url, "auth.login", { mutation: true, input: { email, password } });
    if (login.data?.status !== "ok") throw new Error(`auth.login failed: ${login.status} ${login.error?.message ?? ""}`);
    const token = login.data.accessToken;

    console.log(`audit export: ${ROWS.toLocaleString("en-US")} events; PostgreSQL at ${process.env.TEST_DATABASE_URL ? "TEST_DATABASE_URL" : "embedded (temp dir)"}`);
    const setupStarted = performance.now();
    await insertChain(sql, secret, ROWS);
    await sql.query("analyze audit_events");
    const [{ total }] = (await sql.query<{ total: string }>("select count(*) as total from audit_events")).rows;
    line("setup (hash + COPY FROM STDIN)", `${seconds(performance.now() - setupStarted)}, ${Number(total).toLocaleString("en-US")} events in the log`);

    // (a) the app: GET /audit/export?format=csv over HTTP, body counted and dropped.
    collectGarbage();
    const rssBefore = process.memoryUsage.rss();
    const rss = sampleRss(50);
    const appStarted = performance.now();
    const exported = await download(`${app.url}/audit/export?format=csv`, token);
    const appMs = performance.now() - appStarted;
    const peak = rss.stop();
    const appRows = exported.lines - 1; // the header; generated rows hold no line breaks
    line("app GET /audit/export?format=csv", `${perSecond(appRows, appMs)} (${appRows.toLocaleString("en-US")} rows, ${mb(exported.bytes)}, ${seconds(appMs)})`);

    // (b) the baseline: COPY of the same columns, same order, to this process.
    const copyStarted = performance.now();
    const copied = await copyToStdout(sql, `copy (select ${EXPORT_COLUMNS} from audit_events order by id) to stdout with (format csv, header)`);
    const copyMs = performance.now() - copyStarted;
    line("COPY (SELECT …) TO STDOUT WITH CSV", `${perSecond(copied.rows, copyMs)} (${copied.rows.toLocaleString("en-US")} rows, ${mb(copied.bytes)}, ${seconds(copyMs)})`);

    const ratio = appRows / appMs / (copied.rows / copyMs);
    line("ratio app / COPY", `${ratio.toFixed(2)}× ${verdict(ratio >= RATIO_TARGET, `≥ ${RATIO_TARGET}×`)}`);
    line("peak RSS during export", mb(peak));
    const growth = peak - rssBefore;
    line("RSS growth during export", `${mb(growth)} ${verdict(growth < RSS_GROWTH_TARGET, `< ${mb(RSS_GROWTH_TARGET)}`)}`);
    // Both include the export's own AUDIT_EXPORTED event (COPY runs after it).
    if (appRows !== copied.rows) {
      line("row count check", `<<< MISMATCH: app ${appRows}, COPY ${copied.rows} >>>`);
    }

    // (c) why keyset batches: reading the same rows both ways, nothing written anywhere.
    const maxId = await latestAuditId(db.orm.em.fork());
    const keysetStarted = performance.now();
    let keysetRows = 0;
    for await (const batch of auditExportBatches(db.orm.em.fork(), {}, maxId)) keysetRows += batch.length;
    const keysetMs = performance.now() - keysetStarted;
    line("read: keyset batches of 5,000", perSecond(keysetRows, keysetMs));
    const cursorStarted = performance.now();
    let cursorRows = 0;
    await db.orm.em.fork().transactional(async (tx) => {
      await tx.execute(`declare audit_export no scroll cursor for select ${EXPORT_COLUMNS} from audit_events where id <= ? order by id`, [maxId]);
      for (;;) {
        const rows = await tx.execute<unknown[]>("fetch 5000 from audit_export");
        cursorRows += rows.length;
        if (rows.length < 5000) break;
      }
    });
    const cursorMs = performance.now() - cursorStarted;
    line("read: DECLARE CURSOR, FETCH 5,000", perSecond(cursorRows, cursorMs));

    // (d) the chain over 1M generated events verifies (and how long audit.verify takes).
    const verifyStarted = performance.now();
    const verified = await verifyAuditChain(db.orm.em.fork(), secret);
    line("audit.verify over the whole log", `${verified.ok ? "ok" : `BROKEN at ${verified.firstBrokenId}`}, ${verified.checked.toLocaleString("en-US")} events, ${seconds(performance.now() - verifyStarted)}`);
  } finally {
    await sql.end().catch(() => undefined);
    await app?.stop();
    await db.close();
  }
}

/**
 * Appends `count` events to the chain: hashes computed here exactly as recordAuditEvents
 * does (canonicalAuditContent + auditHash), rows sent with COPY FROM STDIN in chunks (a
 * multi-row INSERT of 1M events would take minutes). Nobody else writes meanwhile.
 */
async function insertChain(client: pg.Client, secret: string, count: number): Promise<void> {
  const last = await client.query<{ hash: string }>("select hash from audit_events order by id desc limit 1");
  let prevHash = last.rows[0]?.hash ?? "0".repeat(64);
  const start = Date.now() - count * 5;
  const csvJson = (value: unknown) => (value === null ? "" : `"${JSON.stringify(value).replaceAll('"', '""')}"`);
  const csvText = (value: string | null) => (value === null ? "" : `"${value.replaceAll('"', '""')}"`);
  for (let offset = 0; offset < count; offset += COPY_CHUNK_ROWS) {
    const parts: string[] = [];
    for (let i = offset; i < Math.min(offset + COPY_CHUNK_ROWS, count); i++) {
      const n = i % 50;
      const event = {
        at: new Date(start + i * 5),
        actorId: n + 1,
        actorEmail: `user${n}@bench.example`,
        action: ACTIONS[i % ACTIONS.length]!,
        targetType: "host",
        targetId: String(i % 10_000),
        before: i % 3 === 0 ? null : { port: 22, tags: ["web", "eu-west"], notes: 'old, "quoted" note' },
        after: { port: 2222, tags: ["web"], notes: `note ${i}`, nested: { cpu: i % 100, ok: true } },
        ip: `10.0.${n}.${i % 250}`,
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) OpsDeskBench/1.0",
        requestId: `req-${i.toString(36)}`,
        outcome: i % 20 === 0 ? "denied" : "success",
        prevHash,
      };
      const hash = auditHash(secret, prevHash, canonicalAuditContent(event));
      parts.push(
        `${event.at.toISOString()},${event.actorId},${csvText(event.actorEmail)},${event.action},${event.targetType},${event.targetId},` +
          `${csvJson(event.before)},${csvJson(event.after)},${event.ip},${csvText(event.userAgent)},${event.requestId},${event.outcome},${prevHash},${hash}\n`,
      );
      prevHash = hash;
    }
    await copyFromStdin(
      client,
      "copy audit_events (at, actor_id, actor_email, action, target_type, target_id, before, after, ip, user_agent, request_id, outcome, prev_hash, hash) from stdin with (format csv)",
      Buffer.from(parts.join(""), "utf8"),
    );
  }
}

/** GET with a Bearer token, counting bytes and line feeds; the body is never kept. */
function download(url: string, token: string): Promise<{ bytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`export answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let bytes = 0;
      let lines = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      });
      res.on("end", () => resolve({ bytes, lines }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** `COPY … TO STDOUT` with plain pg: a Submittable that counts the CopyData bytes and drops them. */
function copyToStdout(client: pg.Client, sqlText: string): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let bytes = 0;
    const submittable = {
      submit: (connection: unknown) => (connection as { query: (text: string) => void }).query(sqlText),
      handleCopyData: (message: { chunk: Buffer }) => {
        bytes += message.chunk.length;
      },
      handleCommandComplete: (message: { text?: string }) => {
        rows = Number.parseInt(String(message.text ?? "").replace(/^COPY /, ""), 10) || 0;
      },
      handleError: (error: Error) => reject(error),
      handleReadyForQuery: () => resolve({ rows, bytes }),
      handleRowDescription: () => {},
      handleDataRow: () => {},
      handleEmptyQuery: () => {},
      handlePortalSuspended: () => {},
      handleCopyInResponse: () => {},
    };
    client.query(submittable as unknown as pg.Submittable);
  });
}
