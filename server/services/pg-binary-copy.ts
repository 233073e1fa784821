/**
 * Rows in PostgreSQL's binary COPY format (`COPY … FROM STDIN WITH (FORMAT binary)`).
 * Chosen over text/CSV for bulk writes: nothing needs escaping (JSON text, notes with tabs
 * or backslashes travel as they are) and the server does not parse numbers, arrays or
 * timestamps from text. Each field is a length and its bytes; the caller writes the
 * fields in the column order of its COPY statement, with the types those columns have.
 */

import { writeUtf8 } from "./utf8-out";

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const TEXT_OID = 25;
// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01T00:00:00Z).
const PG_EPOCH_MS = 946_684_800_000;
const CHUNK = 256 * 1024;

export class BinaryCopyRows {
  private readonly chunks: Buffer[] = [];
  private readonly chunkSize: number;
  private buffer: Buffer;
  private position = 0;
  private rowCount = 0;

  /** `header` false gives bare fields (see fields()). */
  constructor(header = true) {
    this.chunkSize = header ? CHUNK : 256;
    this.buffer = Buffer.allocUnsafe(this.chunkSize);
    if (!header) return;
    this.reserve(SIGNATURE.length + 8);
    SIGNATURE.copy(this.buffer, 0);
    this.position = SIGNATURE.length;
    this.int32(0); // flags
    this.int32(0); // header extension length
  }

  /** A run of encoded fields, to be added to many rows with encoded(). */
  static fields(write: (fields: BinaryCopyRows) => void): Buffer {
    const fields = new BinaryCopyRows(false);
    write(fields);
    return Buffer.concat([...fields.chunks, fields.buffer.subarray(0, fields.position)]);
  }

  get rows(): number {
    return this.rowCount;
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): this {
    this.reserve(2);
    this.buffer.writeInt16BE(fields, this.position);
    this.position += 2;
    this.rowCount++;
    return this;
  }

  /** A text, varchar, char(n) or json value (they share the binary form: UTF-8 bytes). */
  text(value: string | null): this {
    if (value === null) return this.nullField();
    // At most 3 bytes per UTF-16 code unit; exact length written after encoding.
    this.reserve(4 + value.length * 3);
    const written = writeUtf8(this.buffer, value, this.position + 4);
    this.buffer.writeInt32BE(written, this.position);
    this.position += 4 + written;
    return this;
  }

  /** A text-like value given as its UTF-8 bytes. */
  utf8(value: Uint8Array): this {
    this.reserve(4 + value.length);
    this.buffer.writeInt32BE(value.length, this.position);
    this.buffer.set(value, this.position + 4);
    this.position += 4 + value.length;
    return this;
  }

  int4(value: number | null): this {
    if (value === null) return this.nullField();
    this.reserve(8);
    this.buffer.writeInt32BE(4, this.position);
    this.buffer.writeInt32BE(value, this.position + 4);
    this.position += 8;
    return this;
  }

  /** A text[] value (one dimension, no null elements). */
  textArray(values: readonly string[]): this {
    if (values.length === 0) {
      this.reserve(16);
      this.int32(12);
      this.int32(0); // dimensions
      this.int32(0); // has nulls
      this.int32(TEXT_OID);
      return this;
    }
    // Room for the whole array first, so it lies in one buffer and its length prefix can
    // be filled in at the end (text() then never needs a new buffer here).
    let worstCase = 24;
    for (const value of values) worstCase += 4 + value.length * 3;
    this.reserve(worstCase);
    const start = this.position;
    this.position += 4; // length, written below
    this.int32(1);
    this.int32(0);
    this.int32(TEXT_OID);
    this.int32(values.length);
    this.int32(1); // lower bound
    for (const value of values) this.text(value);
    this.buffer.writeInt32BE(this.position - start - 4, start);
    return this;
  }

  /** Fields already encoded (timestamptzField, fields()): the same values in many rows. */
  encoded(field: Buffer): this {
    this.reserve(field.length);
    field.copy(this.buffer, this.position);
    this.position += field.length;
    return this;
  }

  nullField(): this {
    this.reserve(4);
    this.buffer.writeInt32BE(-1, this.position);
    this.position += 4;
    return this;
  }

  /** The COPY data, trailer included; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.reserve(2);
    this.buffer.writeInt16BE(-1, this.position);
    this.position += 2;
    this.chunks.push(this.buffer.subarray(0, this.position));
    return this.chunks;
  }

  private int32(value: number): void {
    this.buffer.writeInt32BE(value, this.position);
    this.position += 4;
  }

  /** Makes room for `bytes` more: a full buffer is kept and a new one started. */
  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    this.chunks.push(this.buffer.subarray(0, this.position));
    this.buffer = Buffer.allocUnsafe(Math.max(this.chunkSize, bytes));
    this.position = 0;
  }
}

/** A timestamptz as a complete binary COPY field (length + microseconds since 2000). */
export function timestamptzField(at: Date): Buffer {
  const micros = (at.getTime() - PG_EPOCH_MS) * 1000;
  const field = Buffer.alloc(12);
  field.writeInt32BE(8, 0);
  field.writeBigInt64BE(BigInt(micros), 4);
  return field;
}
