import type { Checked } from "./field-rules";

export const MAX_TAGS = 32;
const TAG = /^[a-z0-9][a-z0-9_.:-]{0,49}$/;
// Forms and CSV cells carry tags as one string; both separators are accepted because
// people type "a, b" in a form while the CSV format uses "a;b".
const TAG_SEPARATOR = /[;,]/;

/**
 * Tags as stored: trimmed, lower-cased, without empties or duplicates, first-seen
 * order kept. Accepts an array of strings or one string separated by ";" or ",".
 */
export function normaliseTags(raw: unknown): Checked<string[]> {
  const pieces = splitTags(raw);
  if (pieces === null) return { ok: false, message: "Tags must be a list of words or a text separated by ; or ," };

  const tags: string[] = [];
  const seen = new Set<string>();
  const invalid: string[] = [];
  for (const piece of pieces) {
    const tag = piece.trim().toLowerCase();
    if (tag === "" || seen.has(tag)) continue;
    seen.add(tag);
    if (TAG.test(tag)) tags.push(tag);
    else invalid.push(tag);
  }

  if (invalid.length > 0) {
    const listed = invalid.slice(0, 5).map((tag) => JSON.stringify(tag.length > 30 ? `${tag.slice(0, 27)}...` : tag));
    const more = invalid.length > 5 ? ` and ${invalid.length - 5} more` : "";
    const subject = invalid.length === 1 ? `Tag ${listed[0]} is` : `Tags ${listed.join(", ")}${more} are`;
    return {
      ok: false,
      message: `${subject} not valid: a tag is 1 to 50 characters of letters, digits, "_", ".", ":" and "-", starting with a letter or digit`,
    };
  }
  if (tags.length > MAX_TAGS) {
    return { ok: false, message: `A host can have at most ${MAX_TAGS} tags (got ${tags.length})` };
  }
  return { ok: true, value: tags };
}

function splitTags(raw: unknown): string[] | null {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === "string") return raw.split(TAG_SEPARATOR);
  if (Array.isArray(raw) && raw.every((item): item is string => typeof item === "string")) return raw;
  return null;
}
