import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import { AuditHasher, auditContentFromParts, auditContentParts, auditHash, writeJsonString } from "../../server/services/audit-encoding";
import { Utf8Out } from "../../server/services/utf8-out";

/**
 * AuditHasher computes HMAC-SHA256 by hand (pads and two hashes); the verifier uses
 * createHmac. Any difference would make every bulk-written event fail verification.
 */
const fixed = {
  actorId: 7,
  actorEmail: "ops@example.test",
  action: "HOST_CREATED",
  targetType: "host",
  ip: "192.0.2.1",
  userAgent: "curl/8",
  requestId: "r-1",
  outcome: "success",
};
const parts = auditContentParts(fixed, "2026-11-25T10:00:00.000Z");
const prev = "ab".repeat(32);

describe("AuditHasher", () => {
  const secrets = {
    "a short secret": "s3cret",
    "a 64-byte secret": "k".repeat(64),
    "a secret longer than the HMAC block": "long-secret-".repeat(12),
    "a secret with non-ASCII characters": "clé-secrète-ünïcode-🔑",
  };
  for (const [label, secret] of Object.entries(secrets)) {
    test(`gives createHmac's digest for ${label}`, () => {
      const hasher = new AuditHasher(secret);
      const after = '{"hostname":"web-1.example.test","notes":"émoji 😀"}';
      const expected = auditHash(secret, prev, auditContentFromParts(parts, "42", "null", after));
      expect(hasher.hashOfParts(prev, parts, "42", "null", after)).toBe(expected);
      expect(expected).toBe(createHmac("sha256", secret).update(`${prev}\n${auditContentFromParts(parts, "42", "null", after)}`).digest("hex"));
    });
  }

  test("gives the same digests for texts of every length around its buffer, one hasher for all", () => {
    const secret = "buffer-growth-secret";
    const hasher = new AuditHasher(secret);
    // Lengths crossing the initial 4 KiB buffer, with 1-, 2-, 3- and 4-byte characters
    // landing on its last bytes, then shorter texts again after it has grown.
    const fills = ["a", "é", "€", "😀"];
    const sizes = [0, 1, 3900, 3990, 4000, 4030, 4050, 4090, 4096, 5000, 20_000, 10, 4095];
    for (const size of sizes) {
      for (const fill of fills) {
        const after = JSON.stringify({ notes: fill.repeat(Math.ceil(size / Buffer.byteLength(fill))) });
        const expected = auditHash(secret, prev, auditContentFromParts(parts, null, '{"a":1}', after));
        expect(hasher.hashOfParts(prev, parts, null, '{"a":1}', after), `${size} × ${fill}`).toBe(expected);
      }
    }
  });

  test("hashes an after written by a writer as it hashes the same text, and hands back its bytes", () => {
    const secret = "writer-secret";
    const hasher = new AuditHasher(secret);
    for (const after of ['{"notes":"émoji 😀"}', "x".repeat(9000), '{"a":1}']) {
      const expected = auditHash(secret, prev, auditContentFromParts(parts, "7", "null", after));
      expect(hasher.hashOfPrepared(prev, parts, "7", "null", after, (text, out) => out.text(text))).toBe(expected);
      expect(hasher.lastAfter().toString("utf8")).toBe(after);
    }
  });

  test("re-encodes the parts when a different kind of event follows", () => {
    const secret = "kinds-secret";
    const hasher = new AuditHasher(secret);
    const other = auditContentParts({ ...fixed, action: "HOST_UPDATED", actorEmail: "ünï@example.test" }, "2026-11-25T10:00:01.000Z");
    for (const p of [parts, other, parts]) {
      expect(hasher.hashOfParts(prev, p, "1", "null", "{}")).toBe(auditHash(secret, prev, auditContentFromParts(p, "1", "null", "{}")));
    }
  });
});

describe("writeJsonString", () => {
  test("writes what JSON.stringify writes, for every character class it treats apart", () => {
    const samples = [
      null,
      "",
      "plain-host.example.com",
      'quote " and back\\slash',
      "tab\t newline\n nul\u0000 del\u007f",
      "é 😀 \u2028 \ud800 lone",
      Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join(""),
    ];
    for (const value of samples) {
      const out = new Utf8Out(4);
      out.text("x");
      writeJsonString(out, value);
      expect(out.since(1).toString("utf8"), JSON.stringify(value)).toBe(JSON.stringify(value));
    }
  });
});

