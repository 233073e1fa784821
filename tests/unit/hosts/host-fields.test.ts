import { describe, expect, expectTypeOf, test } from "vitest";
import type { z } from "zod";
import {
  checkHostFields,
  defaultPrometheusInstance,
  type HostFields,
  hostFieldsSchema,
  hostPatchSchema,
} from "../../../server/domain/hosts/host-fields";

function messagesFor(input: Record<string, unknown>): Record<string, string> {
  const result = hostFieldsSchema.safeParse({ hostname: "web01", ...input });
  if (result.success) return {};
  return Object.fromEntries(result.error.issues.map((issue) => [String(issue.path[0]), issue.message]));
}

describe("creating a host", () => {
  test("only a hostname is needed; the other fields get their defaults", () => {
    expect(hostFieldsSchema.parse({ hostname: "web01" })).toEqual({
      hostname: "web01",
      ip: null,
      port: 22,
      sshUser: null,
      bastion: null,
      environment: null,
      os: null,
      tags: [],
      prometheusInstance: null,
      notes: "",
      sshTemplate: null,
    });
  });

  test("values are trimmed and hostname and environment lower-cased", () => {
    const host = hostFieldsSchema.parse({
      hostname: "  Web01.Example.COM ",
      ip: " 10.0.0.5 ",
      environment: " PROD ",
      sshUser: " Deploy ",
    });
    expect(host).toMatchObject({ hostname: "web01.example.com", ip: "10.0.0.5", environment: "prod", sshUser: "Deploy" });
  });

  test("blank optional fields, as a form sends them, are stored as not set", () => {
    const host = hostFieldsSchema.parse({ hostname: "web01", ip: "", port: "", sshUser: "  ", tags: "", notes: " " });
    expect(host).toMatchObject({ ip: null, port: 22, sshUser: null, tags: [], notes: "" });
  });

  test("unknown keys are dropped", () => {
    expect(hostFieldsSchema.parse({ hostname: "web01", admin: true })).not.toHaveProperty("admin");
  });

  test("a missing or blank hostname is reported as required", () => {
    expect(hostFieldsSchema.safeParse({}).error?.issues[0]?.message).toBe("Hostname is required");
    expect(messagesFor({ hostname: "   " }).hostname).toBe("Hostname is required");
  });

  test("each field reports at most one message", () => {
    const result = hostFieldsSchema.safeParse({ hostname: "-bad_host-", port: 70000.5, ip: "300.1.1.1" });
    const paths = result.error?.issues.map((issue) => issue.path[0]);
    expect(paths).toEqual(["hostname", "ip", "port"]);
  });
});

describe("hostname", () => {
  test.each([
    "web01",
    "localhost",
    "web-01.eu-west.example.com",
    "1host.example",
    "a".repeat(63),
    `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`,
  ])("%s is a valid hostname", (hostname) => {
    expect(messagesFor({ hostname })).toEqual({});
  });

  test.each([
    ["web_01", 'Hostname may only contain letters, digits, "-" and "." (found "_")'],
    ["web 01", 'Hostname may only contain letters, digits, "-" and "." (found a space)'],
    ["web01;rm", 'Hostname may only contain letters, digits, "-" and "." (found ";")'],
    ["-web01", 'A dot-separated part of a hostname must not start or end with "-"'],
    ["web01-.example", 'A dot-separated part of a hostname must not start or end with "-"'],
    ["web01..example", 'Hostname must not start or end with "." or contain ".."'],
    ["web01.example.", 'Hostname must not start or end with "." or contain ".."'],
    ["a".repeat(64), "Each dot-separated part of a hostname must be at most 63 characters long"],
    [`${"a.".repeat(126)}ab`, "Hostname must be at most 253 characters long"],
  ])("%s is refused with an explanation", (hostname, message) => {
    expect(messagesFor({ hostname }).hostname).toBe(message);
  });
});

describe("ip, port and ssh user", () => {
  test("IPv4 and IPv6 addresses are accepted; IPv6 is lower-cased and may come in brackets", () => {
    expect(hostFieldsSchema.parse({ hostname: "a", ip: "192.168.1.20" }).ip).toBe("192.168.1.20");
    expect(hostFieldsSchema.parse({ hostname: "a", ip: "2001:DB8::5" }).ip).toBe("2001:db8::5");
    expect(hostFieldsSchema.parse({ hostname: "a", ip: "[::1]" }).ip).toBe("::1");
  });

  test.each(["10.0.0", "256.1.1.1", "010.0.0.1", "web01", "1.2.3.4; id", "::1::2"])("ip %s is refused", (ip) => {
    expect(messagesFor({ ip }).ip).toBe(
      "IP address must be a valid IPv4 (e.g. 10.0.0.5) or IPv6 (e.g. 2001:db8::5) address",
    );
  });

  test("a port may be a number or a string of digits", () => {
    expect(hostFieldsSchema.parse({ hostname: "a", port: 2222 }).port).toBe(2222);
    expect(hostFieldsSchema.parse({ hostname: "a", port: " 65535 " }).port).toBe(65535);
  });

  test.each([0, 65536, 22.5, -1, "22a", "0x16", "1e3", Number.NaN, true])("port %s is refused", (port) => {
    expect(messagesFor({ port }).port).toBe("Port must be a whole number from 1 to 65535");
  });

  test.each(["root", "deploy.user", "svc_ops-1", "A".repeat(32)])("ssh user %s is accepted", (sshUser) => {
    expect(messagesFor({ sshUser })).toEqual({});
  });

  test.each([
    ["-oProxyCommand", 'SSH user must not start with "-"'],
    ["de ploy", 'SSH user may only contain letters, digits, ".", "_" and "-"'],
    ["root@evil", 'SSH user may only contain letters, digits, ".", "_" and "-"'],
    ["$(id)", 'SSH user may only contain letters, digits, ".", "_" and "-"'],
    ["a".repeat(33), "SSH user must be at most 32 characters long"],
  ])("ssh user %s is refused", (sshUser, message) => {
    expect(messagesFor({ sshUser }).sshUser).toBe(message);
  });

  test("a field of the wrong type says what it should be", () => {
    expect(messagesFor({ sshUser: 5 }).sshUser).toBe("SSH user must be text");
  });
});

describe("bastion", () => {
  test.each([
    ["jump.example.com", "jump.example.com"],
    ["admin@Jump.Example.com:2222", "admin@jump.example.com:2222"],
    ["10.0.0.1", "10.0.0.1"],
    ["[2001:DB8::1]:22", "[2001:db8::1]:22"],
    ["jump1, ops@jump2:2200 ,[::1]", "jump1,ops@jump2:2200,[::1]"],
  ])("the jump chain %s is stored as %s", (bastion, stored) => {
    expect(hostFieldsSchema.parse({ hostname: "a", bastion }).bastion).toBe(stored);
  });

  test.each([
    ["-oProxyCommand=sh", 'Jump host "-oProxyCommand=sh": Hostname may only contain letters, digits, "-" and "." (found "=")'],
    ["-J", 'Jump host "-J": A dot-separated part of a hostname must not start or end with "-"'],
    ["jump;id", 'Jump host "jump;id": Hostname may only contain letters, digits, "-" and "." (found ";")'],
    ["2001:db8::1", 'Jump host "2001:db8::1": put an IPv6 address in brackets, e.g. [2001:db8::1]:22'],
    ["jump:99999", 'Jump host "jump:99999": Port must be a whole number from 1 to 65535'],
    ["-x@jump", 'Jump host "-x@jump": SSH user must not start with "-"'],
    ["jump1,,jump2", "Bastion has an empty entry: separate jump hosts with single commas, e.g. jump1,admin@jump2:2222"],
    ["[10.0.0.1]", 'Jump host "[10.0.0.1]": "10.0.0.1" in brackets is not an IPv6 address'],
  ])("the jump chain %s is refused", (bastion, message) => {
    expect(messagesFor({ bastion }).bastion).toBe(message);
  });
});

describe("environment, os, prometheus instance, notes and template", () => {
  test("an environment is a lower-cased slug", () => {
    expect(hostFieldsSchema.parse({ hostname: "a", environment: "Staging-EU_2" }).environment).toBe("staging-eu_2");
    expect(messagesFor({ environment: "prod env" }).environment).toMatch(/^Environment must be 1 to 32 characters/);
    expect(messagesFor({ environment: "-prod" }).environment).toBeDefined();
    expect(messagesFor({ environment: "a".repeat(33) }).environment).toBeDefined();
  });

  test("os is one line of at most 100 characters", () => {
    expect(hostFieldsSchema.parse({ hostname: "a", os: " Debian 12 (bookworm) " }).os).toBe("Debian 12 (bookworm)");
    expect(messagesFor({ os: "Debian\n12" }).os).toBe("OS must be a single line without control characters");
    expect(messagesFor({ os: "x".repeat(101) }).os).toBe("OS must be at most 100 characters long");
  });

  test("a prometheus instance is host:port", () => {
    for (const instance of ["10.0.0.5:9100", "node.example.com:9100", "[2001:db8::5]:9100"]) {
      expect(hostFieldsSchema.parse({ hostname: "a", prometheusInstance: instance }).prometheusInstance).toBe(instance);
    }
    expect(messagesFor({ prometheusInstance: "10.0.0.5" }).prometheusInstance).toBe(
      "Prometheus instance must be host:port, e.g. 10.0.0.5:9100 or [2001:db8::5]:9100 (the port is missing)",
    );
    expect(messagesFor({ prometheusInstance: `${"a.".repeat(126)}ab:9100` }).prometheusInstance).toBe(
      "Prometheus instance must be at most 255 characters long",
    );
  });

  test("notes may span lines but are limited to 10,000 characters and refuse NUL", () => {
    expect(hostFieldsSchema.parse({ hostname: "a", notes: "line 1\r\n\tline 2" }).notes).toBe("line 1\r\n\tline 2");
    expect(messagesFor({ notes: "x".repeat(10_001) }).notes).toBe("Notes must be at most 10,000 characters long");
    expect(messagesFor({ notes: "a\u0000b" }).notes).toBe(
      "Notes must not contain control characters other than tabs and line breaks",
    );
  });

  test("an ssh template is checked by the template validator", () => {
    expect(hostFieldsSchema.parse({ hostname: "a", sshTemplate: " ssh {{host}} " }).sshTemplate).toBe("ssh {{host}}");
    expect(messagesFor({ sshTemplate: "ssh {{host}}; id" }).sshTemplate).toMatch(
      /^The character ";" at position 13 is not allowed in an SSH template/,
    );
    expect(messagesFor({ sshTemplate: `ssh ${"a".repeat(500)}` }).sshTemplate).toBe(
      "The SSH template must be at most 500 characters long",
    );
  });
});

describe("patching a host", () => {
  test("a missing key leaves the field alone and defaults are not filled in", () => {
    expect(hostPatchSchema.parse({})).toEqual({});
    expect(hostPatchSchema.parse({ os: "Alpine" })).toEqual({ os: "Alpine" });
  });

  test("null or blank clears a field", () => {
    expect(hostPatchSchema.parse({ ip: null, sshUser: "", port: null, tags: null, notes: "" })).toEqual({
      ip: null,
      sshUser: null,
      port: 22,
      tags: [],
      notes: "",
    });
  });

  test("a patch is validated like a new host", () => {
    const result = hostPatchSchema.safeParse({ hostname: "", port: 0 });
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      "Hostname is required",
      "Port must be a whole number from 1 to 65535",
    ]);
  });
});

describe("checkHostFields", () => {
  test("gives the same values and messages as the schema", () => {
    const inputs: Array<Record<string, unknown>> = [
      { hostname: "Web01", ip: "10.0.0.1", port: "2222", tags: "a;B;a", bastion: "j1,j2:22" },
      { hostname: "", ip: "x", port: "0", tags: "bad tag", sshTemplate: "ssh $HOST" },
      {},
    ];
    for (const input of inputs) {
      const fast = checkHostFields(input);
      const zod = hostFieldsSchema.safeParse(input);
      if (fast.ok) expect(zod.data).toEqual(fast.value);
      else {
        expect(zod.error?.issues.map((issue) => [issue.path[0], issue.message])).toEqual(
          fast.issues.map((issue) => [issue.field, issue.message]),
        );
      }
    }
  });

  test("its type matches the schema's output", () => {
    expectTypeOf<z.output<typeof hostFieldsSchema>>().toEqualTypeOf<HostFields>();
  });
});

describe("defaultPrometheusInstance", () => {
  test("uses the ip when there is one, else the hostname, on port 9100", () => {
    expect(defaultPrometheusInstance({ hostname: "web01", ip: "10.0.0.5" })).toBe("10.0.0.5:9100");
    expect(defaultPrometheusInstance({ hostname: "web01.example.com", ip: null })).toBe("web01.example.com:9100");
    expect(defaultPrometheusInstance({ hostname: "web01" })).toBe("web01:9100");
  });

  test("brackets an IPv6 address", () => {
    expect(defaultPrometheusInstance({ hostname: "web01", ip: "2001:db8::5" })).toBe("[2001:db8::5]:9100");
  });
});
