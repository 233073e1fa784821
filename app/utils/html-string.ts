/**
 * HTML built as a string, for the big read-only tables a page renders with
 * `dangerouslySetInnerHTML` instead of one React element per cell (ADR 028). Every value
 * interpolated into `html\`…\`` is escaped for text and for quoted attribute values
 * alike; only another `html` result (or an array of them) goes in unescaped, so markup
 * can only come from these templates, never from data.
 */

/** Markup made by `html\`…\``; the private field is the brand, so no other object passes for one. */
const MINT = Symbol("html`…`");

export class SafeHtml {
  readonly #markup: string;
  /** Only this module holds MINT: markup cannot be wrapped as safe from outside. */
  constructor(mint: typeof MINT, markup: string) {
    if (mint !== MINT) throw new TypeError("SafeHtml is made by html`…` only");
    this.#markup = markup;
  }
  static is(value: unknown): value is SafeHtml {
    return typeof value === "object" && value !== null && #markup in value;
  }
  get markup(): string {
    return this.#markup;
  }
}

type Interpolated = string | number | null | undefined | false | SafeHtml | readonly SafeHtml[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" };
const NEEDS_ESCAPE = /[&<>"']/g;

export function escapeHtml(text: string): string {
  return text.replace(NEEDS_ESCAPE, (c) => ESCAPES[c]!);
}


function piece(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return "";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return escapeHtml(value);
  if (Array.isArray(value)) return value.map((item) => (SafeHtml.is(item) ? item.markup : "")).join("");
  return SafeHtml.is(value) ? value.markup : "";
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1]!;
  return new SafeHtml(MINT, out);
}

/** The markup, for `dangerouslySetInnerHTML={{ __html: … }}`. */
export const markupOf = (fragment: SafeHtml): string => fragment.markup;
