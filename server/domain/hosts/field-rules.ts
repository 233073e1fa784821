import { isIP } from "node:net";

// The rules for each host field as plain functions, shared by the zod schemas
// (host-fields.ts) and by the SSH command renderer (ssh-command.ts), so a value that
// reaches a shell command has passed exactly the checks a saved host passes.
// Each check trims/normalises its input and returns either the stored form or one
// message a person can act on.

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const fail = <T>(message: string): Checked<T> => ({ ok: false, message });

const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// The whole rule in one expression: the fast path for the valid hostnames that make
// up nearly every import; the label-by-label walk below only explains failures.
const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const SSH_USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;
const ENVIRONMENT = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const DIGITS = /^[0-9]+$/;

export const PORT_MESSAGE = "Port must be a whole number from 1 to 65535";
export const BASTION_MAX_LENGTH = 500;
export const OS_MAX_LENGTH = 100;
export const NOTES_MAX_LENGTH = 10_000;
export const PROMETHEUS_INSTANCE_MAX_LENGTH = 255;

/** RFC 1123 hostname, stored lower-cased. */
export function checkHostname(raw: string): Checked<string> {
  const value = raw.trim().toLowerCase();
  if (value.length <= 253 && HOSTNAME.test(value)) return ok(value);
  if (value === "") return fail("Hostname is required");
  if (value.length > 253) return fail("Hostname must be at most 253 characters long");
  const badCharacter = /[^a-z0-9.-]/.exec(value);
  if (badCharacter) {
    return fail(
      `Hostname may only contain letters, digits, "-" and "." (found ${describeCharacter(badCharacter[0])})`,
    );
  }
  for (const label of value.split(".")) {
    if (label === "") {
      return fail('Hostname must not start or end with "." or contain ".."');
    }
    if (label.length > 63) {
      return fail("Each dot-separated part of a hostname must be at most 63 characters long");
    }
    if (!HOSTNAME_LABEL.test(label)) {
      return fail('A dot-separated part of a hostname must not start or end with "-"');
    }
  }
  return ok(value);
}

/** IPv4 or IPv6 address; surrounding brackets on IPv6 are tolerated and removed. */
export function checkIp(raw: string): Checked<string> {
  let value = raw.trim();
  if (value.startsWith("[") && value.endsWith("]")) value = value.slice(1, -1);
  const version = isIP(value);
  if (version === 0) {
    return fail("IP address must be a valid IPv4 (e.g. 10.0.0.5) or IPv6 (e.g. 2001:db8::5) address");
  }
  return ok(version === 6 ? value.toLowerCase() : value);
}

/** TCP port; accepts a number or a string of digits (forms and CSV send strings). */
export function checkPort(raw: unknown): Checked<number> {
  const candidate = typeof raw === "string" && DIGITS.test(raw.trim()) ? Number(raw.trim()) : raw;
  if (typeof candidate !== "number" || !Number.isInteger(candidate) || candidate < 1 || candidate > 65535) {
    return fail(PORT_MESSAGE);
  }
  return ok(candidate);
}

/** Login name for ssh; never starts with "-" so it cannot be read as an ssh option. */
export function checkSshUser(raw: string): Checked<string> {
  const value = raw.trim();
  if (value === "") return fail("SSH user must not be empty");
  if (value.length > 32) return fail("SSH user must be at most 32 characters long");
  if (value.startsWith("-")) return fail('SSH user must not start with "-"');
  if (!SSH_USER.test(value)) {
    return fail('SSH user may only contain letters, digits, ".", "_" and "-"');
  }
  return ok(value);
}

/**
 * A jump host for `ssh -J`: `[user@]host[:port]` where host is a hostname, an IPv4
 * address or a bracketed IPv6 address. Returned in canonical form (host lower-cased).
 */
export function checkJumpHost(raw: string): Checked<string> {
  const hop = raw.trim();
  if (hop === "") return fail("A jump host must not be empty");
  const at = hop.indexOf("@");
  let user: string | null = null;
  let rest = hop;
  if (at !== -1) {
    const userCheck = checkSshUser(hop.slice(0, at));
    if (!userCheck.ok) return fail(`Jump host "${shorten(hop)}": ${userCheck.message}`);
    user = userCheck.value;
    rest = hop.slice(at + 1);
  }
  const endpoint = checkEndpoint(rest, { portRequired: false });
  if (!endpoint.ok) return fail(`Jump host "${shorten(hop)}": ${endpoint.message}`);
  return ok(user === null ? endpoint.value : `${user}@${endpoint.value}`);
}

/** A comma-separated chain of jump hosts, as `ssh -J` takes it. */
export function checkBastion(raw: string): Checked<string> {
  const value = raw.trim();
  if (value === "") return fail("Bastion must not be empty");
  if (value.length > BASTION_MAX_LENGTH) {
    return fail(`Bastion must be at most ${BASTION_MAX_LENGTH} characters long`);
  }
  const hops: string[] = [];
  for (const part of value.split(",")) {
    if (part.trim() === "") {
      return fail("Bastion has an empty entry: separate jump hosts with single commas, e.g. jump1,admin@jump2:2222");
    }
    const hop = checkJumpHost(part);
    if (!hop.ok) return hop;
    hops.push(hop.value);
  }
  return ok(hops.join(","));
}

/** Deployment environment slug, e.g. `prod` or `staging-eu`. */
export function checkEnvironment(raw: string): Checked<string> {
  const value = raw.trim().toLowerCase();
  if (!ENVIRONMENT.test(value)) {
    return fail(
      'Environment must be 1 to 32 characters: letters, digits, "_" and "-", starting with a letter or digit (e.g. prod, staging-eu)',
    );
  }
  return ok(value);
}

/** Free-text operating system name, single line. */
export function checkOs(raw: string): Checked<string> {
  const value = raw.trim();
  if (value.length > OS_MAX_LENGTH) return fail(`OS must be at most ${OS_MAX_LENGTH} characters long`);
  if (hasControlCharacter(value)) return fail("OS must be a single line without control characters");
  return ok(value);
}

/** Where Prometheus scrapes the host: `host:port`. */
export function checkPrometheusInstance(raw: string): Checked<string> {
  const value = raw.trim();
  if (value.length > PROMETHEUS_INSTANCE_MAX_LENGTH) {
    return fail(`Prometheus instance must be at most ${PROMETHEUS_INSTANCE_MAX_LENGTH} characters long`);
  }
  const endpoint = checkEndpoint(value, { portRequired: true });
  if (!endpoint.ok) {
    return fail(
      `Prometheus instance must be host:port, e.g. 10.0.0.5:9100 or [2001:db8::5]:9100 (${endpoint.message})`,
    );
  }
  return ok(endpoint.value);
}

/** Free-text notes; multi-line is fine, but not control characters (PostgreSQL refuses NUL). */
export function checkNotes(raw: string): Checked<string> {
  const value = raw.trim();
  if (value.length > NOTES_MAX_LENGTH) {
    return fail(`Notes must be at most ${NOTES_MAX_LENGTH.toLocaleString("en-US")} characters long`);
  }
  if (hasControlCharacter(value, { allowLineBreaksAndTabs: true })) {
    return fail("Notes must not contain control characters other than tabs and line breaks");
  }
  return ok(value);
}

/**
 * True when the text has a C0 or C1 control character: they corrupt terminals and
 * tables, and PostgreSQL text columns refuse NUL outright.
 */
export function hasControlCharacter(text: string, options: { allowLineBreaksAndTabs?: boolean } = {}): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    const whitespace = code === 0x09 || code === 0x0a || code === 0x0d;
    if (control && !(whitespace && options.allowLineBreaksAndTabs)) return true;
  }
  return false;
}

/**
 * `host[:port]` with host a hostname, IPv4 address or bracketed IPv6 address.
 * Bare IPv6 is refused: its colons cannot be told apart from the port separator.
 */
function checkEndpoint(raw: string, options: { portRequired: boolean }): Checked<string> {
  let host: string;
  let portText: string | null = null;
  if (raw.startsWith("[")) {
    const close = raw.indexOf("]");
    if (close === -1) return fail('an IPv6 address opened with "[" must be closed with "]"');
    const inner = raw.slice(1, close);
    if (isIP(inner) !== 6) return fail(`"${shorten(inner)}" in brackets is not an IPv6 address`);
    host = `[${inner.toLowerCase()}]`;
    const after = raw.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return fail('expected ":port" after the IPv6 address');
      portText = after.slice(1);
    }
  } else {
    const colon = raw.indexOf(":");
    if (colon !== raw.lastIndexOf(":")) return fail("put an IPv6 address in brackets, e.g. [2001:db8::1]:22");
    const hostname = checkHostname(colon === -1 ? raw : raw.slice(0, colon));
    if (!hostname.ok) return hostname;
    host = hostname.value;
    portText = colon === -1 ? null : raw.slice(colon + 1);
  }
  if (portText === null) {
    return options.portRequired ? fail("the port is missing") : ok(host);
  }
  if (!DIGITS.test(portText)) return fail(PORT_MESSAGE);
  const port = checkPort(portText);
  if (!port.ok) return port;
  return ok(`${host}:${port.value}`);
}

function describeCharacter(character: string): string {
  if (character === " ") return "a space";
  if (hasControlCharacter(character)) return "a control character";
  return JSON.stringify(character);
}

// Echoing a user's value helps them find it, but a huge value would drown the message.
function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
