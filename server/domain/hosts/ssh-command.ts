import { type Checked, checkBastion, checkHostname, checkIp, checkPort, checkSshUser } from "./field-rules";
import { parseSshTemplate, type SshPlaceholder, setsCommandOption } from "./ssh-template";

export { SSH_PLACEHOLDERS, type SshPlaceholder, validateSshTemplate } from "./ssh-template";

/** Used when a host has no template of its own. */
export const DEFAULT_SSH_TEMPLATE = "ssh[[ -J {{bastion}}]] -p {{port}} [[{{user}}@]]{{host}}";

/** The host fields a template can use; named like the host's own fields so a host can be passed as is. */
export type SshCommandValues = {
  hostname: string;
  ip?: string | null;
  port?: number | string | null;
  sshUser?: string | null;
  bastion?: string | null;
};

/** The template or a value cannot be turned into a command that is safe to paste into a shell. */
export class SshCommandError extends Error {
  override readonly name = "SshCommandError";
}

// The final word on safety: whatever the checks above let through, a command with any
// other character is never handed out. Quotes appear only where this module adds them.
const SAFE_COMMAND = /^[A-Za-z0-9 @%+=:,./_'[\]-]*$/;

/**
 * Renders `template` for one host. Placeholders:
 * - `{{host}}`: the address to connect to: the host's ip when it has one (it keeps
 *   working when DNS does not, which is when people need SSH most), else its hostname;
 * - `{{hostname}}`, `{{ip}}`, `{{port}}` (22 when unset), `{{user}}` (the SSH user),
 *   `{{bastion}}` (the `-J` jump chain).
 * A `[[ ... ]]` segment is left out when any placeholder inside it is empty.
 * Throws SshCommandError when the template or any value breaks the host-field rules,
 * so the result can never carry shell syntax.
 */
export function renderSshCommand(template: string, values: SshCommandValues): string {
  const { parts, errors } = parseSshTemplate(template);
  if (errors.length > 0) throw new SshCommandError(`The SSH template is not valid: ${errors.join("; ")}`);
  const rendered = renderValues(values);

  let command = "";
  for (const part of parts) {
    if (part.kind === "text") command += part.text;
    else if (part.kind === "placeholder") command += rendered[part.name];
    else if (part.parts.every((inner) => inner.kind === "text" || rendered[inner.name] !== "")) {
      for (const inner of part.parts) command += inner.kind === "text" ? inner.text : rendered[inner.name];
    }
  }
  // Dropped segments leave doubled or trailing spaces behind; none of them mean anything.
  command = command.replace(/ {2,}/g, " ").trim();

  if (!SAFE_COMMAND.test(command) || setsCommandOption(command)) {
    throw new SshCommandError("The SSH command would contain unsafe text; check the host's fields and template");
  }
  return command;
}

function renderValues(values: SshCommandValues): Record<SshPlaceholder, string> {
  const hostname = required("Hostname", checkHostname(values.hostname ?? ""));
  const ip = optional("IP address", values.ip, checkIp);
  const user = optional("SSH user", values.sshUser, checkSshUser);
  const bastion = optional("Bastion", values.bastion, checkBastion);
  const port = values.port === undefined || values.port === null ? 22 : required("Port", checkPort(values.port));
  return {
    hostname,
    ip,
    host: ip !== "" ? ip : hostname,
    port: String(port),
    user,
    bastion: shellQuoteGlob(bastion),
  };
}

function required<T>(label: string, checked: Checked<T>): T {
  if (!checked.ok) throw new SshCommandError(`Cannot build the SSH command: ${label}: ${checked.message}`);
  return checked.value;
}

function optional(label: string, value: string | null | undefined, check: (raw: string) => Checked<string>): string {
  if (value === undefined || value === null || value.trim() === "") return "";
  return required(label, check(value));
}

// A bracketed IPv6 jump host ("[2001:db8::1]:22") is a glob pattern to the shell, and
// zsh (the macOS default) aborts with "no matches found". The value has been checked
// to hold no quote, so single quotes around it are exact.
function shellQuoteGlob(value: string): string {
  return value.includes("[") ? `'${value}'` : value;
}
