import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { copyIn } from "../../server/services/pg-copy";
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
