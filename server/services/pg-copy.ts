import type { EntityManager } from "@mikro-orm/postgresql";
import type { Writable } from "node:stream";

type PgConnection = { query(text: string): void; stream: { pause(): void; resume(): void } };
type PgClient = { query(submittable: unknown): void };
type KnexClient = { acquireConnection(): Promise<PgClient>; releaseConnection(client: PgClient): Promise<void> };

/**
 * Streams `COPY (…) TO STDOUT` into a writable with backpressure: when the writable is
 * full, the database socket is paused, so a slow client holds PostgreSQL back instead of
 * filling this process's memory. Uses a pooled connection of its own for the duration.
 * `transform` may rewrite each chunk (it is called in order, chunks split anywhere).
 * Resolves with the number of rows copied.
 */
export async function copyOut(
  em: EntityManager,
  copySql: string,
  out: Writable,
  transform: (chunk: Buffer) => Buffer = (chunk) => chunk,
): Promise<number> {
  const knexClient = em.getKnex().client as unknown as KnexClient;
  const client = await knexClient.acquireConnection();
  try {
    return await new Promise<number>((resolve, reject) => {
      let rows = 0;
      let failed: Error | null = null;
      let connection: PgConnection | null = null;
      const onDrain = () => connection?.stream.resume();
      out.on("drain", onDrain);
      const onClose = () => {
        // The client went away: stop reading; the rest of the COPY is discarded by pg.
        connection?.stream.resume();
      };
      out.on("close", onClose);
      const submittable = {
        submit(conn: PgConnection) {
          connection = conn;
          conn.query(copySql);
        },
        handleCopyData(message: { chunk: Buffer }) {
          if (out.destroyed) return;
          if (!out.write(transform(message.chunk))) connection?.stream.pause();
        },
        handleCommandComplete(message: { text?: string }) {
          rows = Number.parseInt(String(message.text ?? "").replace(/^COPY /, ""), 10) || 0;
        },
        handleError(error: Error) {
          failed = error;
        },
        handleReadyForQuery() {
          out.off("drain", onDrain);
          out.off("close", onClose);
          connection?.stream.resume();
          if (failed) reject(failed);
          else resolve(rows);
        },
        handleRowDescription() {},
        handleDataRow() {},
        handleEmptyQuery() {},
        handlePortalSuspended() {},
        handleCopyInResponse() {},
      };
      client.query(submittable);
    });
  } finally {
    await knexClient.releaseConnection(client);
  }
}

/**
 * COPY's CSV ends rows with LF; RFC 4180 wants CRLF. Rewrites row ends (an LF outside
 * quotes) to CRLF, tracking quote state across chunk boundaries; LFs inside quoted
 * fields are data and stay as they are.
 */
export function crlfRowEnds(): (chunk: Buffer) => Buffer {
  let inQuotes = false;
  return (chunk) => {
    const parts: Buffer[] = [];
    let start = 0;
    let i = 0;
    while (i < chunk.length) {
      const quote = chunk.indexOf(34, i); // "
      const newline = chunk.indexOf(10, i); // \n
      if (quote === -1 && newline === -1) break;
      if (newline === -1 || (quote !== -1 && quote < newline)) {
        inQuotes = !inQuotes; // a doubled "" toggles twice: state unchanged
        i = quote + 1;
        continue;
      }
      if (!inQuotes) {
        parts.push(chunk.subarray(start, newline), CRLF);
        start = newline + 1;
      }
      i = newline + 1;
    }
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(start));
    return Buffer.concat(parts);
  };
}

const CRLF = Buffer.from("\r\n");
