import { createHmac, hash } from "node:crypto";

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
 * hashes over a buffer reused from event to event. The same digest as createHmac, for
 * about a third of the time: createHmac builds a keyed object and feeds it piece by
 * piece, which for 100,000 events of an import was the largest part of chaining them.
 */
export class AuditHasher {
  private readonly outer = Buffer.alloc(HMAC_BLOCK + SHA256_BYTES);
  /** The inner pad, then the text of the event being hashed. */
  private inner = Buffer.alloc(HMAC_BLOCK + 4096);

  constructor(secret: string) {
    let key = Buffer.from(secret, "utf8");
    if (key.length > HMAC_BLOCK) key = hash("sha256", key, "buffer");
    for (let i = 0; i < HMAC_BLOCK; i++) {
      const byte = key[i] ?? 0;
      this.inner[i] = byte ^ 0x36;
      this.outer[i] = byte ^ 0x5c;
    }
  }

  hashOfParts(
    prevHash: string,
    parts: readonly [string, string, string, string],
    targetId: string | null,
    beforeJson: string,
    afterJson: string,
  ): string {
    const text = `${prevHash}\n${auditContentFromParts(parts, targetId, beforeJson, afterJson)}`;
    let room = this.inner.length - HMAC_BLOCK;
    let length = this.inner.write(text, HMAC_BLOCK, "utf8");
    // write() stops short of a character that does not fit, so 4 bytes to spare means
    // the whole text was written.
    if (length > room - 4) {
      room = Buffer.byteLength(text, "utf8");
      const larger = Buffer.alloc(HMAC_BLOCK + room);
      this.inner.copy(larger, 0, 0, HMAC_BLOCK);
      this.inner = larger;
      length = this.inner.write(text, HMAC_BLOCK, "utf8");
    }
    // The inner digest comes back as a 32-character string, a byte per character
    // ("binary" is latin1), not as a Buffer: a Buffer per event (an ArrayBuffer each,
    // swept apart from the heap) made hashing take about half as long again.
    this.outer.write(hash("sha256", this.inner.subarray(0, HMAC_BLOCK + length), "binary"), HMAC_BLOCK, "latin1");
    return hash("sha256", this.outer, "hex");
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
