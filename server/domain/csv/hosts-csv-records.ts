import { checkHostname } from "../hosts/field-rules";
import { checkHostFields, type HostFieldName, type HostFields, HostFieldsMemo } from "../hosts/host-fields";
import { unescapeFormulaGuard } from "./csv-cell";
import { CsvLimitError } from "./csv-limits";
import { HostnameLines } from "./hostname-lines";
import { columnOfField, type HostsCsvHeader, readHostsCsvHeader } from "./hosts-csv-columns";
import type { InvalidUtf8, Utf8LineScanner } from "./utf8-scanner";

/** A valid host from the file. `presentFields` are the fields the file has a column for. */
export type HostsCsvRow = {
  kind: "row";
  line: number;
  fields: HostFields;
  presentFields: readonly HostFieldName[];
};
/** One problem; `line` is where the record starts (header = 1), `column` a CSV column name. */
export type HostsCsvError = { kind: "error"; line: number; column: string | null; message: string };
export type HostsCsvItem = HostsCsvRow | HostsCsvError;

// What a UTF-8 decoder puts where bytes were not UTF-8.
const REPLACEMENT_CHARACTER = "\uFFFD";
// The damaged fields of a row without encoding problems (shared: most rows).
const NOTHING_DAMAGED: ReadonlySet<HostFieldName | null> = new Set();

/**
 * Turns parsed CSV records, in file order, into rows and errors. Keeps only what a
 * streaming import must: the header, the current line and one entry per hostname seen.
 */
export class HostsCsvRecords {
  private header: HostsCsvHeader | null = null;
  private presentFields: HostFieldName[] = [];
  private nextLine = 1;
  private rowCount = 0;
  private sawUnreadable = false;
  private readonly firstLineOfHostname = new HostnameLines();
  // Rows share their values' checked results (tags arrays included: never modified).
  private readonly memo = new HostFieldsMemo();
  /** Set when the header makes the rows meaningless (no hostname column). */
  stopped = false;

  constructor(
    private readonly utf8: Utf8LineScanner,
    private readonly limits: { maxRows: number; delimiter: string },
  ) {}

  get rows(): number {
    return this.rowCount;
  }

  /**
   * Adds the record's row or errors to `out`. (Pushed, not yielded: a generator per
   * record allocates more than many a row's own checks.)
   */
  record(cells: string[], out: HostsCsvItem[]): void {
    const line = this.nextLine;
    const lastLine = line + countLineFeeds(cells);
    this.nextLine = lastLine + 1;
    const encodingProblems = this.utf8.takeUpTo(lastLine);

    if (cells.every((cell) => cell.trim() === "")) {
      // Blank lines (and the ",,,," rows spreadsheets leave behind) carry nothing.
      for (const error of encodingErrors(encodingProblems, () => null)) out.push(error);
    } else if (this.header === null) {
      for (const item of this.readHeader(cells, line, encodingProblems)) out.push(item);
    } else {
      this.rowCount += 1;
      if (this.rowCount > this.limits.maxRows) throw new CsvLimitError("rows", this.limits.maxRows);
      this.readRow(this.header, cells, line, encodingProblems, out);
    }
  }

  /** A record csv-parse gave up on: only an unclosed quote at the end of the file does that. */
  *unreadableRecord(): Generator<HostsCsvItem, void, undefined> {
    this.sawUnreadable = true;
    yield {
      kind: "error",
      line: this.nextLine,
      column: null,
      message: 'A quoted value starting on this line is never closed; check for a missing or extra double quote (")',
    };
  }

  /** Call after the last record, once the UTF-8 scanner has seen the end of input. */
  *finish(): Generator<HostsCsvItem, void, undefined> {
    yield* encodingErrors(this.utf8.takeUpTo(Number.POSITIVE_INFINITY), () => null);
    if (this.header === null && !this.sawUnreadable) {
      yield { kind: "error", line: 1, column: null, message: "The file is empty" };
    }
  }

  private *readHeader(
    cells: string[],
    line: number,
    encodingProblems: InvalidUtf8[],
  ): Generator<HostsCsvItem, void, undefined> {
    const header = readHostsCsvHeader(cells);
    this.header = header;
    this.presentFields = header.fields.filter((field): field is HostFieldName => field !== null);
    yield* encodingErrors(encodingProblems, () => null);
    for (const problem of header.problems) yield { kind: "error", line, ...problem };
    if (!header.hasHostname) this.stopped = true;
  }

  private readRow(header: HostsCsvHeader, cells: string[], line: number, encodingProblems: InvalidUtf8[], out: HostsCsvItem[]): void {
    const errors: HostsCsvError[] = [];
    // Fields whose text was damaged by undecodable bytes: the encoding error covers
    // them, and "invalid hostname" on top would only distract.
    let damaged: ReadonlySet<HostFieldName | null> = NOTHING_DAMAGED;
    if (encodingProblems.length > 0) {
      const fields = new Set<HostFieldName | null>();
      cells.forEach((cell, index) => {
        if (cell.includes(REPLACEMENT_CHARACTER)) fields.add(header.fields[index] ?? null);
      });
      damaged = fields;
      const firstDamaged = [...fields].find((field) => field !== null) ?? null;
      errors.push(...encodingErrors(encodingProblems, () => (firstDamaged ? columnOfField(firstDamaged) : null)));
    }

    if (cells.length !== header.fields.length) {
      errors.push({ kind: "error", line, column: null, message: this.raggedMessage(cells.length) });
      out.push(...errors);
      return;
    }

    const raw: Partial<Record<HostFieldName, string>> = {};
    for (let index = 0; index < cells.length; index++) {
      const field = header.fields[index];
      const cell = cells[index];
      if (field && cell.trim() !== "") raw[field] = unescapeFormulaGuard(cell);
    }
    const parsed = checkHostFields(raw, this.memo);
    if (!parsed.ok) {
      for (const issue of parsed.issues) {
        if (damaged.has(issue.field)) continue;
        errors.push({ kind: "error", line, column: columnOfField(issue.field), message: issue.message });
      }
    }
    const hostname = parsed.ok ? parsed.value.hostname : hostnameOrNull(raw.hostname);
    const duplicate = hostname === null || damaged.has("hostname") ? null : this.duplicateError(hostname, line);
    if (duplicate) errors.push(duplicate);

    if (parsed.ok && errors.length === 0) {
      out.push({ kind: "row", line, fields: parsed.value, presentFields: this.presentFields });
    } else {
      out.push(...errors);
    }
  }

  private duplicateError(hostname: string, line: number): HostsCsvError | null {
    const firstLine = this.firstLineOfHostname.firstLineOrAdd(hostname, line);
    if (firstLine === undefined) return null;
    return {
      kind: "error",
      line,
      column: "hostname",
      message: `Hostname "${hostname}" already appears on line ${firstLine}; each host may appear only once`,
    };
  }

  private raggedMessage(fieldCount: number): string {
    const columns = this.header?.fields.length ?? 0;
    return (
      `This row has ${fieldCount} ${fieldCount === 1 ? "field" : "fields"} but the header has ${columns} ` +
      `${columns === 1 ? "column" : "columns"}; a value containing "${this.limits.delimiter}" must be in double quotes`
    );
  }
}

function* encodingErrors(problems: InvalidUtf8[], columnOf: () => string | null): Generator<HostsCsvError> {
  for (const problem of problems) {
    const byte = problem.byte.toString(16).toUpperCase().padStart(2, "0");
    yield {
      kind: "error",
      line: problem.line,
      column: columnOf(),
      message: `This line has bytes that are not valid UTF-8 (0x${byte}); the file may be in Latin-1 or Windows-1252: save it as UTF-8 and import it again`,
    };
  }
}

// A row with other errors still claims its hostname, so a later duplicate is reported.
function hostnameOrNull(cell: string | undefined): string | null {
  const hostname = checkHostname(cell ?? "");
  return hostname.ok ? hostname.value : null;
}

function countLineFeeds(cells: string[]): number {
  let count = 0;
  for (const cell of cells) {
    let index = cell.indexOf("\n");
    while (index !== -1) {
      count += 1;
      index = cell.indexOf("\n", index + 1);
    }
  }
  return count;
}
