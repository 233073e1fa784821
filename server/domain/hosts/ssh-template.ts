import { hasControlCharacter } from "./field-rules";

// Parsing and validation of SSH command templates such as
// "ssh[[ -J {{bastion}}]] -p {{port}} [[{{user}}@]]{{host}}".
//
// The template is pasted into people's terminals, so its literal text is limited to
// characters no common shell (sh, bash, zsh, fish) gives a meaning to: no quotes, no
// $ ` ; | & ( ) < > \ * ? ~ # ! newline. Values are checked separately when rendering.

export const SSH_PLACEHOLDERS = ["user", "host", "hostname", "ip", "port", "bastion"] as const;
export type SshPlaceholder = (typeof SSH_PLACEHOLDERS)[number];

export const SSH_TEMPLATE_MAX_LENGTH = 500;

export type TemplateText = { kind: "text"; text: string };
export type TemplatePlaceholder = { kind: "placeholder"; name: SshPlaceholder };
/** `[[ ... ]]`: dropped as a whole when any placeholder inside it renders empty. */
export type TemplateOptional = { kind: "optional"; parts: Array<TemplateText | TemplatePlaceholder> };
export type TemplatePart = TemplateText | TemplatePlaceholder | TemplateOptional;

const SAFE_LITERAL = /^[A-Za-z0-9 @%+=:,./_-]$/;
const ALLOWED_DESCRIPTION = "letters, digits, spaces and @ % + = : , . / _ -";
// ssh options that make ssh run a local program. They need only "safe" characters
// (-oProxyCommand=/tmp/x), so a character allow-list alone would let a template author
// plant a command in everyone's clipboard.
const COMMAND_OPTION = /(proxy|local|knownhosts)command/i;

export type ParsedTemplate = { parts: TemplatePart[]; errors: string[] };

/** Parses a template, collecting every problem rather than stopping at the first. */
export function parseSshTemplate(template: string): ParsedTemplate {
  const errors: string[] = [];
  const parts: TemplatePart[] = [];
  const refusedCharacters = new Set<string>();
  let optional: TemplateOptional | null = null;
  let optionalStart = 0;
  let literal = "";

  if (template.trim() === "") errors.push("The SSH template is empty");
  if (template.length > SSH_TEMPLATE_MAX_LENGTH) {
    errors.push(`The SSH template must be at most ${SSH_TEMPLATE_MAX_LENGTH} characters long`);
  }

  const addPart = (part: TemplateText | TemplatePlaceholder) => {
    const target = optional ? optional.parts : parts;
    const last = target.at(-1);
    if (part.kind === "text" && last?.kind === "text") last.text += part.text;
    else target.push(part);
  };

  let i = 0;
  while (i < template.length) {
    const pair = template.slice(i, i + 2);
    const position = i + 1;
    if (pair === "{{") {
      const close = template.indexOf("}}", i + 2);
      if (close === -1) {
        errors.push(`"{{" at position ${position} is never closed with "}}"`);
        break;
      }
      const name = template.slice(i + 2, close).trim();
      if (isPlaceholder(name)) addPart({ kind: "placeholder", name });
      else errors.push(`Unknown placeholder ${JSON.stringify(`{{${name}}}`)}; use ${placeholderList()}`);
      i = close + 2;
    } else if (pair === "}}") {
      errors.push(`"}}" at position ${position} has no matching "{{"`);
      i += 2;
    } else if (pair === "[[") {
      if (optional) {
        errors.push(`Optional segments cannot be nested ("[[" at position ${position})`);
      } else {
        optional = { kind: "optional", parts: [] };
        optionalStart = position;
      }
      i += 2;
    } else if (pair === "]]") {
      if (optional) {
        parts.push(optional);
        optional = null;
      } else {
        errors.push(`"]]" at position ${position} has no matching "[["`);
      }
      i += 2;
    } else {
      const character = template[i] ?? "";
      if (SAFE_LITERAL.test(character)) {
        addPart({ kind: "text", text: character });
        literal += character;
      } else if (!refusedCharacters.has(character)) {
        refusedCharacters.add(character);
        errors.push(
          `${describeCharacter(character)} at position ${position} is not allowed in an SSH template; use only ${ALLOWED_DESCRIPTION} besides {{placeholders}} and [[optional parts]]`,
        );
      }
      i += 1;
    }
  }
  if (optional) errors.push(`"[[" at position ${optionalStart} is never closed with "]]"`);
  if (COMMAND_OPTION.test(literal)) {
    errors.push("The SSH template must not set ProxyCommand, LocalCommand or KnownHostsCommand: they run local programs");
  }
  return { parts, errors };
}

/** Every problem with a template, in a form a person can fix; empty when it is valid. */
export function validateSshTemplate(template: string): string[] {
  return parseSshTemplate(template).errors;
}

// In a rendered command only an actual "-o<name>" counts: a host may well be called
// localcommand.example.com.
const COMMAND_OPTION_FLAG = /(?:^|\s)-[A-Za-z0-9]*o\s*(proxy|local|permitlocal|knownhosts)command/i;

/** True when a rendered command sets an ssh option that runs a local program. */
export function setsCommandOption(command: string): boolean {
  return COMMAND_OPTION_FLAG.test(command);
}

function isPlaceholder(name: string): name is SshPlaceholder {
  return (SSH_PLACEHOLDERS as readonly string[]).includes(name);
}

function placeholderList(): string {
  return SSH_PLACEHOLDERS.map((name) => `{{${name}}}`).join(", ");
}

function describeCharacter(character: string): string {
  switch (character) {
    case "\n":
      return "A line break";
    case "\r":
      return "A carriage return";
    case "\t":
      return "A tab";
    case '"':
      return "The double quote";
    case "'":
      return "The single quote";
    default:
      return hasControlCharacter(character)
        ? "A control character"
        : `The character ${JSON.stringify(character)}`;
  }
}
