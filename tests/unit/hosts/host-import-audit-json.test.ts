import { expect, test } from "vitest";
import type { HostFields } from "../../../server/domain/hosts/host-fields";
import { canonicalJson } from "../../../server/services/audit-encoding";
import { writeCreatedHostJson } from "../../../server/services/hosts/host-import-batch";
import { AUDITED_FIELDS } from "../../../server/services/hosts/host-view";
import { Utf8Out } from "../../../server/services/utf8-out";

/** The bytes the writer gives, as text (a small buffer, so writing it also grows it). */
function createdHostJson(fields: HostFields): string {
  const out = new Utf8Out(8);
  writeCreatedHostJson(fields, out);
  return out.since(0).toString("utf8");
}

const host = (over: Partial<HostFields>): HostFields => ({
  hostname: "web-1.example.com",
  ip: "10.0.0.1",
  port: 22,
  sshUser: "deploy",
  bastion: "jump@bastion:2222",
  sshTemplate: "ssh -p {{port}} {{user}}@{{host}}",
  environment: "prod",
  os: 'Debian 12 "bookworm"',
  tags: ["web", "eu"],
  prometheusInstance: "web-1:9100",
  notes: "tab\there \\ back\\slash\nnew line é 😀 \u2028",
  ...over,
});

test("a created host's audit JSON is exactly canonicalJson of its audited fields", () => {
  const samples = [
    host({}),
    host({ ip: null, sshUser: null, bastion: null, sshTemplate: null, environment: null, os: null, tags: [], prometheusInstance: null, notes: "" }),
    host({ port: 65535, tags: ["a"], notes: '"quoted" </script>' }),
  ];
  for (const fields of samples) {
    const audited = Object.fromEntries(AUDITED_FIELDS.map((f) => [f, fields[f]]));
    expect(createdHostJson(fields)).toBe(canonicalJson(audited));
  }
});

test("the audited fields are the ones the serialiser writes", () => {
  const written = Object.keys(JSON.parse(createdHostJson(host({}))) as object);
  expect(written.sort()).toEqual([...AUDITED_FIELDS].sort());
});

test("every character that needs escaping in JSON is escaped as canonicalJson does", () => {
  // All of U+0000–U+00FF, quotes and backslashes, U+2028/9 and lone and paired surrogates.
  const awkward = [
    Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join(""),
    '\\"\\\\"',
    "\u2028\u2029",
    "\ud800 lone high",
    "lone low \udc00",
    "pair 😀",
  ];
  for (const text of awkward) {
    const fields = host({ notes: text, os: text, hostname: `h-${text.length}` });
    const audited = Object.fromEntries(AUDITED_FIELDS.map((f) => [f, fields[f]]));
    expect(createdHostJson(fields)).toBe(canonicalJson(audited));
  }
});
