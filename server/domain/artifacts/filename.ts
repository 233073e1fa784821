/*
 * The original name of an uploaded file is kept for people only: the file is stored under
 * its UUID, so the name is never a path. It is still shown in pages and sent back in
 * Content-Disposition, where path pieces, control characters and bidi tricks
 * ("invoice\u202Efdp.exe") would mislead or break things.
 */

const MAX_NAME_BYTES = 255;
/** An "extension" longer than this is part of the name, not a type hint worth keeping. */
const MAX_EXTENSION_BYTES = 16;
const FALLBACK_NAME = "file";

// Bidi embeddings/overrides/isolates, LRM/RLM, the Arabic letter mark, and every other
// invisible format character (zero-width space, BOM, …) are \p{Cf}; lone surrogates (\p{Cs})
// cannot be encoded as UTF-8 at all; \p{Cc} are the C0/C1 controls including NUL.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;
// Tabs and line breaks become spaces first so "a\tb" stays two words. JS counts the BOM
// (U+FEFF) as whitespace; it is an invisible format character, removed with the others.
const WHITESPACE = /[^\S\uFEFF]+/gu;

export function sanitiseOriginalName(raw: string): string {
  const decoded = percentDecode(String(raw).normalize("NFC"));
  const segments = decoded.split(/[/\\]/).filter((segment) => segment !== "");
  const cleaned = (segments[segments.length - 1] ?? "")
    .replace(WHITESPACE, " ")
    .replace(INVISIBLE, "")
    .replace(WHITESPACE, " ")
    .trim();
  // Names made only of dots ("." "..", "...") mean a directory, not a file.
  if (cleaned === "" || /^\.+$/.test(cleaned)) return FALLBACK_NAME;
  return truncateKeepingExtension(cleaned, MAX_NAME_BYTES);
}

/**
 * Decodes %XX runs repeatedly so "%2e%2e%2f" and double-encoded "%252e%252e%252f" reveal their
 * slashes before we split. Some clients percent-encode names in multipart bodies, so the
 * decoded form is also what the person meant. Invalid sequences stay as typed.
 */
function percentDecode(name: string): string {
  let current = name;
  for (let round = 0; round < 5; round++) {
    const next = current.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
    if (next === current) break;
    current = next;
  }
  return current;
}

const utf8Length = (text: string) => Buffer.byteLength(text, "utf8");

function splitExtension(name: string): { stem: string; extension: string } {
  const dot = name.lastIndexOf(".");
  // A leading dot is a hidden file (".bashrc"), not an extension.
  if (dot <= 0 || utf8Length(name.slice(dot)) > MAX_EXTENSION_BYTES) return { stem: name, extension: "" };
  return { stem: name.slice(0, dot), extension: name.slice(dot) };
}

/** Cuts whole grapheme clusters (never half an emoji or accent) until the name fits. */
function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) return name;
  const { stem, extension } = splitExtension(name);
  const budget = maxBytes - utf8Length(extension);
  let kept = "";
  let used = 0;
  for (const { segment } of new Intl.Segmenter("en", { granularity: "grapheme" }).segment(stem)) {
    const size = utf8Length(segment);
    if (used + size > budget) break;
    kept += segment;
    used += size;
  }
  const trimmed = kept.trimEnd();
  return trimmed === "" ? FALLBACK_NAME + extension : trimmed + extension;
}

/*
 * Extensions kept on the stored file (for operators browsing or restoring the volume). Only
 * inert types: if the store were ever served by a plain web server, none of these would run
 * in a browser. Left out on purpose:
 * - xml, html, htm, svg, xhtml: a browser renders them as active documents (scripts, XSLT).
 *   Downloads are always attachments with a sniffed type, so keeping ".xml" would buy nothing.
 * Kept after weighing:
 * - pem: certificates and keys are plain text; whether such files belong here is a policy
 *   question, not one the extension answers.
 * - sh: a common ops artifact; the store never sets the execute bit, so it is just text.
 */
const SAFE_EXTENSIONS: ReadonlySet<string> = new Set([
  "txt", "log", "csv", "json", "yaml", "yml", "conf", "cfg", "ini", "toml", "md",
  "pdf", "png", "jpg", "jpeg", "gif", "webp",
  "zip", "gz", "tgz", "tar", "bz2", "xz", "zst", "7z",
  "pcap", "pcapng", "pem", "sql", "sh",
]);

/** The lower-cased extension (no dot) if it is on the safe list, else "bin". */
export function storedExtension(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return "bin";
  const extension = base.slice(dot + 1).toLowerCase();
  return SAFE_EXTENSIONS.has(extension) ? extension : "bin";
}

/**
 * RFC 6266 header value: an ASCII fallback for old clients plus the exact UTF-8 name
 * (RFC 8187) for the rest. The name is sanitised again here, so CR/LF can never reach a header.
 */
export function contentDisposition(filename: string): string {
  const name = sanitiseOriginalName(filename);
  return `attachment; filename="${asciiFallback(name)}"; filename*=UTF-8''${encodeRfc8187(name)}`;
}

function asciiFallback(name: string): string {
  const fallback = name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "") // "résumé" → "resume" rather than "r_sum_"
    .replace(/[^\x20-\x7e]/g, "_")
    // Quote and backslash are legal in a quoted-string only escaped, and clients disagree on escapes.
    .replace(/["\\]/g, "_")
    .replace(/%/g, "_"); // some clients percent-decode the plain filename parameter
  return fallback.trim() === "" ? FALLBACK_NAME : fallback;
}

/** encodeURIComponent leaves '()* unescaped, but RFC 8187's attr-char does not allow them. */
function encodeRfc8187(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}
