import { describe, expect, test } from "vitest";
import {
  DEFAULT_SSH_TEMPLATE,
  renderSshCommand,
  SshCommandError,
  type SshCommandValues,
  validateSshTemplate,
} from "../../../server/domain/hosts/ssh-command";

// Payloads that would run something if they reached a shell unquoted, or make ssh
// run something through an option.
const PAYLOADS = [
  "$(id)",
  "$" + "{IFS}id", // split so it is not read as a template literal typo
  "`id`",
  "a;id",
  "a|id",
  "a||id",
  "a&&id",
  "a&",
  "a\nid",
  "a\rid",
  "a'id'",
  'a"id"',
  "a\\id",
  "a>x",
  "a<x",
  "a(b)",
  "~root",
  "a*",
  "a?",
  "a#b",
  "!!",
  "a b",
  "a\tb",
  "-oProxyCommand=id",
  "-oProxyCommand=sh",
  "-J",
  "-F/tmp/x",
  "--",
  "{a,b}",
  "a\u0000b",
];

// Where each field's payload is tried; ip has its own, stricter, parser.
const FIELDS: Array<keyof SshCommandValues> = ["hostname", "ip", "sshUser", "bastion", "port"];

function attempt(field: keyof SshCommandValues, payload: string): () => string {
  const values: SshCommandValues = { hostname: "web01", ip: "10.0.0.5", sshUser: "ops", bastion: "jump", port: 22 };
  return () => renderSshCommand(DEFAULT_SSH_TEMPLATE, { ...values, [field]: payload });
}

describe("values that could inject shell syntax or ssh options are refused", () => {
  for (const field of FIELDS) {
    test.each(PAYLOADS)(`${field} = %j throws SshCommandError`, (payload) => {
      expect(attempt(field, payload)).toThrow(SshCommandError);
    });
  }

  test("the error names the field and says why", () => {
    expect(attempt("sshUser", "-oProxyCommand=id")).toThrow(
      'Cannot build the SSH command: SSH user: SSH user must not start with "-"',
    );
  });

  test("a hop later in the bastion chain is checked too", () => {
    expect(attempt("bastion", "jump1,-oProxyCommand=id")).toThrow(SshCommandError);
    expect(attempt("bastion", "jump1,ops@-jump2")).toThrow(SshCommandError);
    expect(attempt("bastion", "jump1 -oProxyCommand=id")).toThrow(SshCommandError);
  });

  test("a user hidden inside the hostname cannot add an option", () => {
    expect(attempt("hostname", "-oProxyCommand=id@web01")).toThrow(SshCommandError);
  });

  test("a port given as text must be digits only", () => {
    expect(attempt("port", "22 -oProxyCommand=id")).toThrow(SshCommandError);
  });
});

describe("templates that could inject shell syntax are refused", () => {
  test.each([
    "ssh {{host}}; id",
    "ssh {{host}} && id",
    "ssh {{host}} | tee",
    "ssh $HOST",
    "ssh `id` {{host}}",
    "ssh $(id) {{host}}",
    "ssh '{{host}}'",
    'ssh "{{host}}"',
    "ssh {{host}}\nid",
    "ssh {{host}} > /tmp/x",
    "ssh {{host}} < /dev/null",
    "ssh ~/{{host}}",
    "ssh {{host}} # comment",
    "ssh {{host}} \\",
    "ssh {a,b}",
    "ssh -oProxyCommand=/tmp/x {{host}}",
    "ssh -o LocalCommand=/tmp/x -o PermitLocalCommand=yes {{host}}",
    "ssh -o KnownHostsCommand=/tmp/x {{host}}",
  ])("%j is refused", (template) => {
    expect(validateSshTemplate(template)).not.toEqual([]);
    expect(() => renderSshCommand(template, { hostname: "web01" })).toThrow(SshCommandError);
  });

  test("an option that runs a program cannot be assembled from a value either", () => {
    expect(() => renderSshCommand("ssh -o{{user}}=/tmp/x {{host}}", { hostname: "web01", sshUser: "ProxyCommand" })).toThrow(
      SshCommandError,
    );
  });

  test("a host whose name merely contains such a word is fine", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: "localcommand.example.com" })).toBe(
      "ssh -p 22 localcommand.example.com",
    );
  });
});

describe("whatever is accepted renders to shell-inert text", () => {
  test("every rendered command uses only letters, digits, spaces and @%+=:,./_-[]'", () => {
    const hosts: SshCommandValues[] = [
      { hostname: "web01" },
      { hostname: "a-b.c-d.example", ip: "fe80::1%eth0", sshUser: "a.b_c-d", bastion: "x@[::1]:22,y:2", port: "65535" },
      { hostname: "x", ip: "192.168.0.1", sshUser: "_svc", bastion: "10.0.0.1:22" },
    ];
    for (const host of hosts) {
      expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, host)).toMatch(/^[A-Za-z0-9 @%+=:,./_'[\]-]+$/);
    }
  });
});
