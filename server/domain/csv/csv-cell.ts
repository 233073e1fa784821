// CSV output cells: RFC 4180 quoting plus protection against formula injection
// (a cell such as `=HYPERLINK(...)` that a spreadsheet would execute on open).

// Spreadsheets treat these as the start of a formula (or strip them and then do).
const FORMULA_START = /^[=+\-@\t\r]/;
// ";" is quoted as well: Excel in many European locales splits on it.
const NEEDS_QUOTES = /[",;\r\n]/;

/**
 * One CSV cell. null/undefined → empty; Date → ISO 8601; plain objects and arrays →
 * JSON. A text starting with = + - @ tab or CR gets a leading `'` so spreadsheets
 * show it as text. Numbers are not prefixed: -5 is a value, not a formula.
 */
export function escapeCsvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = cellText(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, cells separated by "," and ended by CRLF as RFC 4180 asks. */
export function csvLine(values: unknown[]): string {
  return values.map(escapeCsvCell).join(",") + "\r\n";
}

/**
 * Undoes the `'` escapeCsvCell adds, so an exported file imports back unchanged.
 * Only a `'` followed by a formula-start character is removed.
 */
export function unescapeFormulaGuard(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

function cellText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "" : value.toISOString();
  if (typeof value === "object") return JSON.stringify(value) ?? "";
  return String(value);
}
