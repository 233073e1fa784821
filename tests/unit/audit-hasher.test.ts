import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import { AuditHasher, auditContentFromParts, auditContentParts, auditHash } from "../../server/services/audit-encoding";

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
});
