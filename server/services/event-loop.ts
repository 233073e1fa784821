/**
 * A turn of the event loop, I/O included. Long synchronous work (parsing and encoding a
 * large import) calls this every few hundred rows so replies from PostgreSQL are read
 * promptly and the next queued statement goes out: otherwise the database sits idle
 * until the work is done.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Calls yieldToEventLoop once every `every` calls, and otherwise returns undefined, so the
 * caller awaits only real turns (`const turn = pause(); if (turn) await turn;`): an await
 * of undefined still costs a microtask per row.
 */
export function periodicYield(every: number): () => Promise<void> | undefined {
  let count = 0;
  return () => {
    if (++count < every) return undefined;
    count = 0;
    return yieldToEventLoop();
  };
}
