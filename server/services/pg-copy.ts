import type { EntityManager } from "@mikro-orm/postgresql";
import type { Writable } from "node:stream";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";

type PgClient = { query(submittable: unknown): void };
type KnexClient = { acquireConnection(): Promise<PgClient>; releaseConnection(client: PgClient): Promise<void> };

/**
 * Streams `COPY (…) TO STDOUT` into a writable with backpressure, through pg-copy-streams
 * (ADR 018): when the writable is full the COPY stream is paused, and with it the
 * database socket, so a slow client holds PostgreSQL back instead of filling this
 * process's memory. If the writable goes away (the client disconnected) the rest of the
 * COPY is read and dropped, so the pooled connection comes back in step. Uses a pooled
 * connection of its own. `transform` may rewrite each chunk (called in order, chunks
 * split anywhere). Resolves with the number of rows copied.
 */
export function copyOut(
  em: EntityManager,
  copySql: string,
  out: Writable,
  transform: (chunk: Buffer) => Buffer = (chunk) => chunk,
): Promise<number> {
  return withPooledConnection(
    em,
    (client) =>
      new Promise<number>((resolve, reject) => {
        const source = copyTo(copySql) as ReturnType<typeof copyTo> & { handleReadyForQuery: () => void };
        let failed: Error | null = null;
        const onDrain = () => source.resume();
        const onClose = () => source.resume();
        const detach = () => {
          out.off("drain", onDrain);
          out.off("close", onClose);
        };
        source.on("data", (chunk: Buffer) => {
          if (out.destroyed) return;
          if (!out.write(transform(chunk))) source.pause();
        });
        out.on("drain", onDrain);
        out.on("close", onClose);
        source.on("error", (error: Error) => {
          failed = error;
          detach();
          reject(error);
        });
        // The row count arrives with CommandComplete, after the data ends: settle on the
        // server's ReadyForQuery (pg's Submittable hook), when the connection is free.
        source.handleReadyForQuery = () => {
          detach();
          if (!failed) resolve(source.rowCount);
        };
        client.query(source);
      }),
  );
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

/** The connection of the EntityManager's transaction: COPY must run on it to be part of it. */
export async function transactionConnection(em: EntityManager): Promise<pg.Client> {
  const trx = em.getTransactionContext<{ client: KnexClient }>();
  if (!trx) throw new Error("transactionConnection needs an EntityManager inside a transaction");
  // Knex's transaction client hands out the transaction's own connection.
  return (await trx.client.acquireConnection()) as unknown as pg.Client;
}

// The parts of pg's Connection used for COPY FROM STDIN (what pg-copy-streams builds on;
// @types/pg does not declare them).
type CopyInConnection = {
  query: (text: string) => void;
  stream: { write: (chunk: Buffer) => boolean; cork: () => void; uncork: () => void };
  endCopyFrom: () => void;
};

/**
 * `COPY … FROM STDIN` of data already in memory, on the given client (queued behind its
 * other queries, like any query). Resolves with the number of rows the server reports.
 * The caller bounds the data's size (a batch); the socket buffers what the server has
 * not read yet.
 *
 * The data follows the statement at once, without waiting for the server's
 * CopyInResponse: the server reads it when the COPY starts. Waiting left it idle for a
 * round trip per statement, longer when this process was busy parsing the next batch:
 * 6-10% of a 100,000-row apply (ADR 016). If the COPY fails, or is refused before it
 * starts, the server drops the data still arriving, as the protocol specifies for copy
 * messages outside copy mode.
 */
export function copyIn(client: pg.Client, copySql: string, data: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let failed: Error | null = null;
    const submittable = {
      submit: (connection: CopyInConnection) => {
        connection.query(copySql);
        // Each CopyData message is its 5-byte header, then the data itself written to the
        // socket as it is: pg's sendCopyFromChunk would first copy every byte into a new
        // buffer (70 MB of them for an import of 100,000 hosts). Corked, so the pieces
        // leave in one writev, not one system call each.
        connection.stream.cork();
        for (const chunk of data) {
          for (let start = 0; start < chunk.length; start += COPY_MESSAGE_BYTES) {
            const message = chunk.subarray(start, start + COPY_MESSAGE_BYTES);
            const header = Buffer.allocUnsafe(5);
            header[0] = 0x64; // 'd'
            header.writeInt32BE(message.length + 4, 1);
            connection.stream.write(header);
            connection.stream.write(message);
          }
        }
        connection.endCopyFrom();
        connection.stream.uncork();
      },
      // The data went out with the statement.
      handleCopyInResponse: () => {},
      handleCommandComplete: (message: { text?: string }) => {
        rows = Number.parseInt(String(message.text ?? "").replace(/^COPY /, ""), 10) || 0;
      },
      handleError: (error: Error) => {
        failed = error;
        // pg drops a query that failed before its ReadyForQuery; settle now.
        reject(error);
      },
      handleReadyForQuery: () => {
        if (!failed) resolve(rows);
      },
      // Not sent during COPY FROM; present so pg never calls a missing handler.
      handleRowDescription: () => {},
      handleDataRow: () => {},
      handleEmptyQuery: () => {},
      handlePortalSuspended: () => {},
      handleCopyData: () => {},
    };
    client.query(submittable as unknown as pg.Submittable);
  });
}

// At most this much per CopyData message (the import's buffers are 256 KiB each).
const COPY_MESSAGE_BYTES = 256 * 1024;

/** Runs `fn` with a pooled connection of its own (outside any transaction), released after. */
export async function withPooledConnection<T>(em: EntityManager, fn: (connection: pg.Client) => Promise<T>): Promise<T> {
  const knexClient = em.getKnex().client as unknown as KnexClient;
  const client = await knexClient.acquireConnection();
  try {
    return await fn(client as unknown as pg.Client);
  } finally {
    await knexClient.releaseConnection(client);
  }
}

/**
 * Statements for one connection, run one after another in the order they were queued,
 * without the caller awaiting each: the caller prepares the next batch while PostgreSQL
 * runs this one. (pg's own queue does the same but is deprecated for this use.) A failed
 * statement does not stop the queue; in a transaction, the ones after it fail too.
 */
export class StatementQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly connection: pg.Client) {}

  run<T>(statement: (connection: pg.Client) => Promise<T>): Promise<T> {
    const result = this.tail.then(() => statement(this.connection));
    this.tail = result.catch(() => {});
    return result;
  }
}
