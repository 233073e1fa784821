import { describe, expect, test } from "vitest";
import {
  DEFAULT_SSH_TEMPLATE,
  renderSshCommand,
  SshCommandError,
  validateSshTemplate,
} from "../../../server/domain/hosts/ssh-command";

describe("the default template", () => {
  test("is the documented one", () => {
    expect(DEFAULT_SSH_TEMPLATE).toBe("ssh[[ -J {{bastion}}]] -p {{port}} [[{{user}}@]]{{host}}");
  });

  test("with only a hostname it connects to the hostname on port 22", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: "web01.example.com" })).toBe(
      "ssh -p 22 web01.example.com",
    );
  });

  test("prefers the ip over the hostname for {{host}}", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: "web01", ip: "10.0.0.5", port: 2222 })).toBe(
      "ssh -p 2222 10.0.0.5",
    );
  });

  test("adds the user when there is one", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: "web01", ip: "10.0.0.5", sshUser: "deploy" })).toBe(
      "ssh -p 22 deploy@10.0.0.5",
    );
  });

  test("adds -J when there is a bastion", () => {
    expect(
      renderSshCommand(DEFAULT_SSH_TEMPLATE, {
        hostname: "web01",
        sshUser: "deploy",
        bastion: "ops@jump.example.com:2222,jump2",
        port: 22,
      }),
    ).toBe("ssh -J ops@jump.example.com:2222,jump2 -p 22 deploy@web01");
  });

  test("treats empty and null values as not set", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: "web01", ip: "", sshUser: null, bastion: "  " })).toBe(
      "ssh -p 22 web01",
    );
  });

  test("connects to an IPv6 address as ssh expects it, without brackets", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: "web01", ip: "2001:db8::5", sshUser: "root" })).toBe(
      "ssh -p 22 root@2001:db8::5",
    );
  });

  test("quotes a bracketed IPv6 jump host so shells do not read it as a glob", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: "web01", bastion: "[2001:db8::1]:22" })).toBe(
      "ssh -J '[2001:db8::1]:22' -p 22 web01",
    );
  });

  test("renders the normalised values, as a saved host would hold them", () => {
    expect(renderSshCommand(DEFAULT_SSH_TEMPLATE, { hostname: " Web01.Example.com ", port: "2200" })).toBe(
      "ssh -p 2200 web01.example.com",
    );
  });
});

describe("custom templates", () => {
  test("every placeholder can be used", () => {
    const template = "ssh -l {{user}} -p {{port}} -o HostKeyAlias={{hostname}} {{ip}} {{host}}";
    expect(
      renderSshCommand(template, { hostname: "web01", ip: "10.0.0.5", sshUser: "ops", port: 2222 }),
    ).toBe("ssh -l ops -p 2222 -o HostKeyAlias=web01 10.0.0.5 10.0.0.5");
  });

  test("an optional segment is dropped when any placeholder in it is empty", () => {
    const template = "mosh[[ --ssh=ssh/{{user}}/{{bastion}}]] {{host}}";
    expect(renderSshCommand(template, { hostname: "web01", sshUser: "ops" })).toBe("mosh web01");
    expect(renderSshCommand(template, { hostname: "web01", sshUser: "ops", bastion: "jump" })).toBe(
      "mosh --ssh=ssh/ops/jump web01",
    );
  });

  test("an optional segment without placeholders is always kept", () => {
    expect(renderSshCommand("ssh[[ -A]] {{host}}", { hostname: "web01" })).toBe("ssh -A web01");
  });

  test("whitespace inside a placeholder is allowed", () => {
    expect(renderSshCommand("ssh {{ host }}", { hostname: "web01" })).toBe("ssh web01");
  });

  test("a placeholder outside an optional segment renders empty when unset, without stray spaces", () => {
    expect(renderSshCommand("ssh {{bastion}} {{host}}", { hostname: "web01" })).toBe("ssh web01");
  });
});

describe("validateSshTemplate", () => {
  test("accepts the default template", () => {
    expect(validateSshTemplate(DEFAULT_SSH_TEMPLATE)).toEqual([]);
  });

  test("names an unknown placeholder and lists the known ones", () => {
    expect(validateSshTemplate("ssh {{password}}@{{host}}")).toEqual([
      'Unknown placeholder "{{password}}"; use {{user}}, {{host}}, {{hostname}}, {{ip}}, {{port}}, {{bastion}}',
    ]);
  });

  test("reports unbalanced markup with its position", () => {
    expect(validateSshTemplate("ssh {{host")).toEqual(['"{{" at position 5 is never closed with "}}"']);
    expect(validateSshTemplate("ssh host}}")).toEqual(['"}}" at position 9 has no matching "{{"']);
    expect(validateSshTemplate("ssh [[-A {{host}}")).toEqual(['"[[" at position 5 is never closed with "]]"']);
    expect(validateSshTemplate("ssh -A]] {{host}}")).toEqual(['"]]" at position 7 has no matching "[["']);
    expect(validateSshTemplate("ssh [[ [[-A]] ]] {{host}}")).toEqual([
      'Optional segments cannot be nested ("[[" at position 8)',
      '"]]" at position 15 has no matching "[["',
    ]);
  });

  test("reports every problem, each refused character once", () => {
    const errors = validateSshTemplate("ssh {{host}}; id; {{nope}} | cat");
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^The character ";" at position 13 is not allowed/);
    expect(errors[1]).toMatch(/^Unknown placeholder "\{\{nope\}\}"/);
    expect(errors[2]).toMatch(/^The character "\|" at position 28 is not allowed/);
  });

  test("refuses an empty template and one longer than 500 characters", () => {
    expect(validateSshTemplate("  ")).toEqual(["The SSH template is empty"]);
    expect(validateSshTemplate(`ssh ${"x".repeat(497)}`)).toEqual([
      "The SSH template must be at most 500 characters long",
    ]);
  });

  test("renderSshCommand refuses an invalid template with the validator's messages", () => {
    expect(() => renderSshCommand("ssh {{host}} && id", { hostname: "web01" })).toThrow(SshCommandError);
    expect(() => renderSshCommand("ssh {{host}} && id", { hostname: "web01" })).toThrow(
      /^The SSH template is not valid: The character "&" at position 14 is not allowed/,
    );
  });
});
