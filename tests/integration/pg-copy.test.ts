import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Writable } from "node:stream";
import { copyIn, copyOut } from "../../server/services/pg-copy";
import { createTestDatabase, type TestDatabase } from "../support/database";

/**
 * copyIn sends a COPY's data right behind the statement, before the server asks for it:
 * however the COPY ends, the connection must stay in step with the server.
 */
let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query("create table copy_a (n integer primary key)");
});
afterAll(async () => {
  await client.end();
  await db.drop();
});

const lines = (...values: number[]) => [Buffer.from(values.map((v) => `${v}\n`).join(""))];
const count = async () => Number((await client.query("select count(*) as n from copy_a")).rows[0].n);

test("stores the rows and reports how many", async () => {
  expect(await copyIn(client, "copy copy_a (n) from stdin", lines(1, 2, 3))).toBe(3);
  expect(await count()).toBe(3);
});

test("a COPY that fails part way stores nothing, and the connection answers the next query", async () => {
  // Row 5 collides with row 4; the rows after it, already sent, are dropped by the server.
  const data = lines(...Array.from({ length: 20_000 }, (_, i) => (i === 5 ? 104 : 100 + i)));
  await expect(copyIn(client, "copy copy_a (n) from stdin", data)).rejects.toMatchObject({ code: "23505" });
  expect((await client.query("select 41 + 1 as answer")).rows[0].answer).toBe(42);
  expect(await count()).toBe(3);
});

test("a COPY the server refuses before it starts leaves the connection usable, its data ignored", async () => {
  await expect(copyIn(client, "copy no_such_table (n) from stdin", lines(7, 8))).rejects.toMatchObject({ code: "42P01" });
  expect(await copyIn(client, "copy copy_a (n) from stdin", lines(9))).toBe(1);
  expect(await count()).toBe(4);
});

// copyOut runs on pg-copy-streams (ADR 018) with our backpressure and disconnect handling.
const bigCopy = "copy (select g, repeat('x', 200) from generate_series(1, 200000) g) to stdout with (format csv)";

test("copyOut streams every row into the writable and reports how many", async () => {
  let bytes = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      setImmediate(done);
    },
  });
  expect(await copyOut(db.orm.em.fork(), bigCopy, sink)).toBe(200_000);
  expect(bytes).toBeGreaterThan(200_000 * 200);
});

test("copyOut whose reader goes away part way settles, and the pooled connections keep answering", async () => {
  let seen = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > 1024 * 1024) sink.destroy(); // the client hung up after 1 MB
      else setImmediate(done);
    },
  });
  await copyOut(db.orm.em.fork(), bigCopy, sink);
  expect(seen).toBeLessThan(200_000 * 200);
  // Every connection of the pool (max 10) still answers: none was left mid-COPY.
  const answers = await Promise.all(
    Array.from({ length: 12 }, () => db.orm.em.fork().getConnection().execute<{ n: number }[]>("select 1 as n")),
  );
  expect(answers.map((rows) => rows[0]?.n)).toEqual(Array(12).fill(1));
});

test("copyOut of a failing query rejects with the server's error", async () => {
  await expect(copyOut(db.orm.em.fork(), "copy (select 1 / 0) to stdout", new Writable({ write: (_c, _e, done) => done() }))).rejects.toMatchObject({
    code: "22012",
  });
  expect((await db.orm.em.fork().getConnection().execute<{ n: number }[]>("select 2 as n"))[0]?.n).toBe(2);
});
