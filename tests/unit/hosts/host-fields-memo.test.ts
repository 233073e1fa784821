import { expect, test } from "vitest";
import { checkHostFields, HostFieldsMemo } from "../../../server/domain/hosts/host-fields";

test("checking with a memo gives the same results as without, for repeated good and bad values", () => {
  const memo = new HostFieldsMemo();
  const rows = [
    { hostname: "a.example", port: "22", sshUser: "deploy", bastion: "ops@Bastion.example:2222", environment: "prod", os: "Debian 12", tags: "Web; eu;web" },
    { hostname: "b.example", port: "22", sshUser: "deploy", bastion: "ops@Bastion.example:2222", environment: "prod", os: "Debian 12", tags: "Web; eu;web" },
    { hostname: "c.example", port: "99999", sshUser: "-oProxyCommand=x", bastion: "a,,b", environment: "Prod!", tags: "ok;not ok" },
    { hostname: "d.example", port: "99999", sshUser: "-oProxyCommand=x", bastion: "a,,b", environment: "Prod!", tags: "ok;not ok" },
    { hostname: "e.example", sshTemplate: "ssh {{host}}; rm -rf /" },
    { hostname: "f.example", sshTemplate: "ssh {{host}}; rm -rf /" },
  ];
  for (const raw of rows) expect(checkHostFields(raw, memo)).toEqual(checkHostFields(raw));
  expect(checkHostFields(rows[1]!, memo)).toMatchObject({ ok: true, value: { bastion: "ops@bastion.example:2222", tags: ["web", "eu"] } });
  expect(checkHostFields(rows[3]!, memo)).toMatchObject({ ok: false });
});
