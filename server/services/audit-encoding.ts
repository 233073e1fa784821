import { createHmac, hash } from "node:crypto";
import { Utf8Out } from "./utf8-out";

/**
 * How an audit event becomes the text its hash covers. Shared by the writer (every
 * append), the verifier and the exports, so all three agree byte for byte.
 */

/** The fields of an event that its hash covers (everything but id, prevHash and hash). */
export type AuditContent = {
  at: Date;
  actorId: number | null;
  actorEmail: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  outcome: string;
};

const isArrayIndex = (key: string) => /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) <= 4_294_967_294;

/**
 * JSON with object keys sorted at every depth and no whitespace. The key order is that of
 * a JavaScript object built with sorted keys: array-index keys ("0", "10") first in
 * numeric order (the engine enumerates them so, and Object.keys lists them first), then
 * the other keys sorted. `undefined` members are left out as JSON.stringify does, and a
 * top-level `undefined` is `null`. Written directly, without building a sorted copy:
 * it runs for every event written, verified and exported.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + canonicalJson(value[i] === undefined ? null : value[i]);
    return `${out}]`;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const record = value as Record<string, unknown>;
  const all = Object.keys(record);
  let indexKeys = 0;
  while (indexKeys < all.length && isArrayIndex(all[indexKeys]!)) indexKeys++;
  const keys = indexKeys === 0 ? all.sort() : all.slice(0, indexKeys).concat(all.slice(indexKeys).sort());
  let out = "{";
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${first ? "" : ","}${JSON.stringify(key)}:${canonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
}

const jsonString = (value: string | null) => (value === null ? "null" : JSON.stringify(value));

/**
 * A string or null as JSON onto `out`, exactly as JSON.stringify writes it. Printable
 * ASCII without quotes or backslashes (nearly every value an import writes) is copied
 * as it is checked; anything else goes through JSON.stringify.
 */
export function writeJsonString(out: Utf8Out, value: string | null): void {
  if (value === null) {
    out.text("null");
    return;
  }
  const length = value.length;
  out.reserve(length + 2);
  const buffer = out.buffer;
  const start = out.position;
  buffer[start] = QUOTE;
  for (let i = 0; i < length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x20 || unit > 0x7e || unit === QUOTE || unit === BACKSLASH) {
      out.text(JSON.stringify(value));
      return;
    }
    buffer[start + 1 + i] = unit;
  }
  buffer[start + 1 + length] = QUOTE;
  out.position = start + length + 2;
}

/** An array of strings as JSON onto `out`, exactly as JSON.stringify writes it. */
export function writeJsonStringArray(out: Utf8Out, values: readonly string[]): void {
  out.text("[");
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out.text(",");
    writeJsonString(out, values[i]!);
  }
  out.text("]");
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Writes a value's canonical JSON (exactly canonicalJson's text) as UTF-8 onto `out`:
 * a bulk writer's serialiser for values of one known shape.
 */
export type CanonicalJsonWriter<T> = (value: T, out: Utf8Out) => void;

const writeText: CanonicalJsonWriter<string> = (text, out) => out.text(text);

/** The fields of an event's content that do not vary within a batch of like events. */
export type AuditContentFixed = Omit<AuditContent, "at" | "before" | "after" | "targetId">;

/**
 * The canonical content (the hashed text) of events sharing `fixed` and a timestamp, as
 * the four pieces around their own values: the text of one event is
 * `parts[0] + after + parts[1] + before + parts[2] + targetId + parts[3]`, each value as
 * JSON. Keys appear in sorted order, written by hand.
 */
export function auditContentParts(fixed: AuditContentFixed, atIso: string): [string, string, string, string] {
  const q = jsonString;
  return [
    `{"action":${q(fixed.action)},"actorEmail":${q(fixed.actorEmail)},"actorId":${fixed.actorId === null ? "null" : JSON.stringify(fixed.actorId)},"after":`,
    `,"at":${q(atIso)},"before":`,
    `,"ip":${q(fixed.ip)},"outcome":${q(fixed.outcome)},"requestId":${q(fixed.requestId)},"targetId":`,
    `,"targetType":${q(fixed.targetType)},"userAgent":${q(fixed.userAgent)}}`,
  ];
}

/** One event's canonical content from the parts (see auditContentParts). */
export function auditContentFromParts(parts: readonly [string, string, string, string], targetId: string | null, beforeJson: string, afterJson: string): string {
  return `${parts[0]}${afterJson}${parts[1]}${beforeJson}${parts[2]}${jsonString(targetId)}${parts[3]}`;
}

/**
 * auditHash of auditContentFromParts(…) for many events under one secret: HMAC-SHA256
 * computed from its definition, H((K ^ opad) || H((K ^ ipad) || text)), as two one-shot
 * hashes over a buffer reused from event to event, into which the text is written piece
 * by piece (the parts of a kind of event encoded once) in auditContentFromParts' layout
 * (the unit tests hold the two equal). The same digest as createHmac,
 * for about a third of the time: createHmac builds a keyed object and feeds it piece by
 * piece, and the text built as one string was copied flat before it could be encoded.
 */
export class AuditHasher {
  private readonly outer = Buffer.alloc(HMAC_BLOCK + SHA256_BYTES);
  /** The inner pad, then the text of the event being hashed. */
  private readonly inner = new Utf8Out(HMAC_BLOCK + 4096);
  private partsEncoded: { parts: readonly string[]; bytes: Buffer[] } | null = null;
  private afterStart = 0;
  private afterEnd = 0;

  constructor(secret: string) {
    let key = Buffer.from(secret, "utf8");
    if (key.length > HMAC_BLOCK) key = hash("sha256", key, "buffer");
    for (let i = 0; i < HMAC_BLOCK; i++) {
      const byte = key[i] ?? 0;
      this.inner.buffer[i] = byte ^ 0x36;
      this.outer[i] = byte ^ 0x5c;
    }
  }

  hashOfParts(prevHash: string, parts: readonly [string, string, string, string], targetId: string | null, beforeJson: string, afterJson: string): string {
    return this.hashOfPrepared(prevHash, parts, targetId, beforeJson, afterJson, writeText);
  }

  /** The same, with `after` written by `writeAfter` straight into the hashed text (its bytes are then lastAfter()). */
  hashOfPrepared<T>(
    prevHash: string,
    parts: readonly [string, string, string, string],
    targetId: string | null,
    beforeJson: string,
    after: T,
    writeAfter: CanonicalJsonWriter<T>,
  ): string {
    const [part0, part1, part2, part3] = this.encoded(parts);
    const inner = this.inner;
    inner.position = HMAC_BLOCK;
    inner.text(prevHash);
    inner.text("\n");
    inner.bytes(part0);
    this.afterStart = inner.position;
    writeAfter(after, inner);
    this.afterEnd = inner.position;
    inner.bytes(part1);
    inner.text(beforeJson);
    inner.bytes(part2);
    writeJsonString(inner, targetId);
    inner.bytes(part3);
    // The inner digest comes back as a 32-character string, a byte per character
    // ("binary" is latin1), not as a Buffer: a Buffer per event (an ArrayBuffer each,
    // swept apart from the heap) made hashing take about half as long again.
    this.outer.write(hash("sha256", inner.since(0), "binary"), HMAC_BLOCK, "latin1");
    return hash("sha256", this.outer, "hex");
  }

  /** The UTF-8 of the last hashed event's `after` JSON: a view, valid until the next event is hashed. */
  lastAfter(): Buffer {
    return this.inner.buffer.subarray(this.afterStart, this.afterEnd);
  }

  /** The parts as UTF-8, encoded once per kind of event (consecutive events share them). */
  private encoded(parts: readonly [string, string, string, string]): Buffer[] {
    if (this.partsEncoded?.parts !== parts) {
      this.partsEncoded = { parts, bytes: parts.map((part) => Buffer.from(part, "utf8")) };
    }
    return this.partsEncoded.bytes;
  }
}

const HMAC_BLOCK = 64;
const SHA256_BYTES = 32;

/** Content covered by the hash, in the canonical form both writer and verifier build. */
export function canonicalAuditContent(event: AuditContent): string {
  return auditContentFromParts(
    auditContentParts(event, event.at.toISOString()),
    event.targetId,
    canonicalJson(event.before ?? null),
    canonicalJson(event.after ?? null),
  );
}

export function auditHash(secret: string, prevHash: string, canonical: string): string {
  return createHmac("sha256", secret).update(`${prevHash}\n${canonical}`).digest("hex");
}
