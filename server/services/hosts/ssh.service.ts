import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config";
import { renderSshCommand, SshCommandError } from "../../domain/hosts/ssh-command";
import { DomainError } from "../../errors";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "../audit.service";
import { getSettings } from "../settings.service";
import { getHost } from "./hosts.service";

/** The host's SSH command: its own template, else the default template from settings. */
export async function sshCommandFor(
  em: EntityManager,
  config: Config,
  hostId: number,
): Promise<{ command: string; template: string; templateSource: "host" | "default" }> {
  const host = await getHost(em, hostId);
  const templateSource = host.sshTemplate ? "host" : "default";
  const template = host.sshTemplate ?? (await getSettings(em, config))["ssh.defaultTemplate"];
  try {
    return { command: renderSshCommand(template, host), template, templateSource };
  } catch (error) {
    if (error instanceof SshCommandError) {
      throw new DomainError("PRECONDITION_FAILED", `${error.message}. Fix the host's fields or its SSH template.`);
    }
    throw error;
  }
}

/** Copying the command is a sensitive read: who reached for which host, and when. */
export async function recordSshCopy(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  hostId: number,
  request: AuditRequestInfo,
): Promise<{ ok: true; command: string }> {
  const { command } = await sshCommandFor(em, config, hostId);
  await recordAuditEvent(em, config.secret, {
    actor,
    action: "SSH_COMMAND_COPIED",
    targetType: "host",
    targetId: hostId,
    after: { command },
    request,
  });
  return { ok: true, command };
}
