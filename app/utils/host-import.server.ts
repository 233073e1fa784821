import type { AppLoadContext, UploadHandler } from "@remix-run/node";
import { unstable_parseMultipartFormData } from "@remix-run/node";
import { TRPCError } from "@trpc/server";
import { formatBytes } from "../components/host-import-help";
import type { ImportRunData } from "../components/host-import-result";
import { columnOfField } from "../../server/domain/csv/hosts-csv-columns";
import { getImportRun } from "../../server/services/hosts/host-import";
import { getSettings } from "../../server/services/settings.service";
import { callerFor, formError } from "../trpc/caller.server";

/*
 * The server side of the CSV import, shared by the /hosts/import page action (plain form
 * post, works without JavaScript) and the /hosts/import/upload resource route (the same
 * multipart body sent by XMLHttpRequest for a progress bar). Both read the form the same
 * way, with the same limits, and call the same procedures.
 */

/** Room for the multipart framing and the small fields around the file. */
export const FORM_OVERHEAD_BYTES = 64 * 1024;
const SMALL_FIELD_BYTES = 4 * 1024;
const URLENCODED_MAX_BYTES = 64 * 1024;
const FIELDS = new Set(["_csrf", "intent", "runId", "delimiter", "csv", "file"]);
const BIG_FIELDS = new Set(["csv", "file"]);

export const DELIMITERS = ["auto", ",", ";"] as const;
export type ImportDelimiter = (typeof DELIMITERS)[number];
const isDelimiter = (value: unknown): value is ImportDelimiter => DELIMITERS.includes(value as ImportDelimiter);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isRunId = (value: unknown): value is string => typeof value === "string" && UUID.test(value);

/** A failure a person can act on, with the HTTP status it is answered with. */
export type ImportFailure = { ok: false; status: number; message: string; code?: TRPCError["code"] };
export type DryRunOutcome = { ok: true; runId: string } | ImportFailure;
export type ApplyOutcome = { ok: true; runId: string } | ImportFailure;

class ImportRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const failure = (status: number, message: string, code?: TRPCError["code"]): ImportFailure => ({ ok: false, status, message, code });

/** The largest file the import accepts (the `import.maxBytes` setting). */
export async function importMaxBytes(context: AppLoadContext): Promise<number> {
  const settings = await getSettings(context.em, context.runtime.config);
  return settings["import.maxBytes"];
}

/**
 * Refuses a request whose declared size cannot fit, before reading any of it: 413 with
 * the limit in the message. Returns null when the request may be read.
 */
export function tooLarge(request: Request, maxBytes: number): ImportFailure | null {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > maxBytes + FORM_OVERHEAD_BYTES) {
    return failure(
      413,
      `The upload is ${formatBytes(declared)}; the import limit is ${formatBytes(maxBytes)} per file. Split the file into smaller files and import them one by one.`,
      "PAYLOAD_TOO_LARGE",
    );
  }
  return null;
}

/**
 * Reads the submitted form (multipart or URL-encoded) without ever holding more than the
 * limits allow, whatever the request declares: the file or pasted text up to `maxBytes`,
 * other known fields a few KB each, unknown fields dropped; the whole body up to
 * `maxBytes` + 64 KiB.
 */
async function readForm(request: Request, maxBytes: number): Promise<FormData> {
  const contentType = request.headers.get("content-type") ?? "";
  if (contentType.startsWith("multipart/form-data")) {
    let total = 0;
    const budget = maxBytes + FORM_OVERHEAD_BYTES;
    const handler: UploadHandler = async ({ name, filename, contentType: partType, data }) => {
      const keep = FIELDS.has(name);
      const limit = BIG_FIELDS.has(name) ? maxBytes : SMALL_FIELD_BYTES;
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of data) {
        size += chunk.byteLength;
        total += chunk.byteLength;
        if (total > budget || (keep && size > limit)) {
          throw new ImportRequestError(
            413,
            BIG_FIELDS.has(name) || total > budget
              ? `The file is larger than the import limit of ${formatBytes(maxBytes)}. Split it into smaller files and import them one by one.`
              : `The form field "${name}" is too long.`,
          );
        }
        if (keep) chunks.push(chunk);
      }
      if (!keep) return undefined;
      const bytes = Buffer.concat(chunks);
      if (typeof filename === "string") return new File([bytes], filename, { type: partType });
      return bytes.toString("utf8");
    };
    try {
      return await unstable_parseMultipartFormData(request, handler);
    } catch (error) {
      if (error instanceof ImportRequestError) throw error;
      throw new ImportRequestError(400, "The form could not be read (the upload was cut off or malformed). Try again.");
    }
  }
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    const text = await readText(request, URLENCODED_MAX_BYTES);
    const form = new FormData();
    for (const [key, value] of new URLSearchParams(text)) if (FIELDS.has(key)) form.append(key, value);
    return form;
  }
  throw new ImportRequestError(415, "Send the form as multipart/form-data (a file upload) or URL-encoded.");
}

async function readText(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ImportRequestError(413, "The form is too large.");
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Reads the form of a request (after the caller checked who is asking). The size check
 * on Content-Length comes first, so an oversized upload is refused before it is read.
 */
export async function readImportForm(request: Request, maxBytes: number): Promise<{ ok: true; form: FormData } | ImportFailure> {
  const early = tooLarge(request, maxBytes);
  if (early) return early;
  try {
    return { ok: true, form: await readForm(request, maxBytes) };
  } catch (error) {
    if (error instanceof ImportRequestError) return failure(error.status, error.message);
    throw error;
  }
}

const text = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
};

/**
 * The lines (1-based) holding bytes that are not UTF-8, at most `max` of them. The
 * procedure takes text, so such bytes would arrive as U+FFFD and be imported silently;
 * they are refused here instead, with the lines to fix.
 */
function invalidUtf8Lines(bytes: Buffer, max = 5): { lines: number[]; more: boolean } {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    decoder.decode(bytes);
    return { lines: [], more: false };
  } catch {
    // find the lines below
  }
  const lines: number[] = [];
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    try {
      decoder.decode(bytes.subarray(start, end));
    } catch {
      if (lines.length === max) return { lines, more: true };
      lines.push(line);
    }
    start = end + 1;
    line += 1;
  }
  return { lines, more: false };
}

/** What to import: the file, or else the pasted text, and the chosen delimiter. */
async function importInput(form: FormData): Promise<{ ok: true; csv: string; fileName?: string; delimiter: ImportDelimiter } | ImportFailure> {
  const file = form.get("file");
  const pasted = text(form, "csv");
  const hasFile = typeof file === "object" && file !== null && file.size > 0;
  const hasText = pasted.trim() !== "";
  if (hasFile && hasText) {
    return failure(400, "Choose a file or paste CSV text, not both: clear one of them and run the dry run again.");
  }
  if (!hasFile && !hasText) return failure(400, "Choose a CSV file or paste CSV text first.");
  const delimiterValue = text(form, "delimiter") || "auto";
  if (!isDelimiter(delimiterValue)) return failure(400, "Choose the delimiter: automatic, comma or semicolon.");
  if (!hasFile) return { ok: true, csv: pasted, delimiter: delimiterValue };

  const bytes = Buffer.from(await (file as File).arrayBuffer());
  const bad = invalidUtf8Lines(bytes);
  if (bad.lines.length > 0) {
    const where = `line${bad.lines.length > 1 ? "s" : ""} ${bad.lines.join(", ")}${bad.more ? " and more" : ""}`;
    return failure(
      400,
      `The file is not valid UTF-8 (${where}); it may be in Latin-1 or Windows-1252. Save it as UTF-8 and import it again.`,
    );
  }
  const fileName = (file as File).name.slice(0, 255) || undefined;
  return { ok: true, csv: bytes.toString("utf8"), fileName, delimiter: delimiterValue };
}

/** A procedure's error as a failure with its status; field errors folded into the message. */
function procedureFailure(error: TRPCError): ImportFailure {
  const { message, fieldErrors, status } = formError(error);
  const details = fieldErrors
    ? Object.entries(fieldErrors)
        .map(([field, messages]) => `${field}: ${(messages ?? []).join(" ")}`)
        .join("; ")
    : null;
  return failure(status, details ? `${message} ${details}` : message, error.code);
}

/**
 * A dry run of the submitted file: reads the form, checks it and calls
 * `hosts.importCsv` (which validates every row and stores the run for a day).
 */
export async function dryRunFromForm(
  request: Request,
  context: AppLoadContext,
  form: FormData,
  resHeaders?: Headers,
): Promise<DryRunOutcome> {
  const input = await importInput(form);
  if (!input.ok) return input;
  const caller = await callerFor(request, context, resHeaders, { formCsrfToken: form.get("_csrf") });
  try {
    const result = await caller.hosts.importCsv({
      csv: input.csv,
      dryRun: true,
      delimiter: input.delimiter,
      fileName: input.fileName,
    });
    return { ok: true, runId: result.runId };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return procedureFailure(error);
  }
}

/**
 * Starts applying a stored dry run (`hosts.startApplyImport`, all rows or none) and
 * answers as soon as its row says it runs: the page then follows it at
 * /hosts/import?run=<id>, so a big file shows its progress instead of holding the form
 * post open until the end. What the apply ends with (applied, errors found, failed) is
 * read from the run there.
 */
export async function applyFromForm(
  request: Request,
  context: AppLoadContext,
  form: FormData,
  resHeaders?: Headers,
): Promise<ApplyOutcome> {
  const runId = text(form, "runId");
  if (!isRunId(runId)) return failure(400, "That import run is unknown. Upload the file again.");
  const caller = await callerFor(request, context, resHeaders, { formCsrfToken: form.get("_csrf") });
  try {
    await caller.hosts.startApplyImport({ runId });
    return { ok: true, runId };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return procedureFailure(error);
  }
}

/** What the page says when an apply found errors in the file: nothing was written. */
export function rejectedApplyMessage(result: { errorCount: number; errors: { line: number; column: string | null; message: string }[] }): string {
  const first = result.errors
    .slice(0, 3)
    .map((e) => `line ${e.line}${e.column ? ` (${e.column})` : ""}: ${e.message}`)
    .join("; ");
  return `Nothing was written: applying found ${result.errorCount} error${result.errorCount === 1 ? "" : "s"}${first ? ` (${first})` : ""}. Fix the file and run the dry run again.`;
}

export const PREVIEW_SHOWN = 100;

/** The stored run as the page shows it, or null when it expired or is someone else's. */
export async function loadImportRun(context: AppLoadContext, userId: number, runId: string): Promise<ImportRunData | null> {
  if (!isRunId(runId)) return null;
  const run = await getImportRun(context.em, userId, runId);
  if (!run) return null;
  const { summary } = run;
  return {
    id: runId,
    fileName: run.fileName,
    appliedAt: run.appliedAt,
    created: summary.created,
    updated: summary.updated,
    unchanged: summary.unchanged,
    totalRows: summary.totalRows,
    errorCount: summary.errorCount,
    errors: run.errors,
    preview: summary.preview.slice(0, PREVIEW_SHOWN).map((row) => ({
      line: row.line,
      hostname: row.hostname,
      action: row.action,
      changedFields: row.changedFields.map((field) => columnOfField(field) ?? field),
    })),
  };
}

/** The run's errors, unless it expired or belongs to someone else. */
export async function importRunErrors(context: AppLoadContext, userId: number, runId: string) {
  if (!isRunId(runId)) return null;
  const run = await getImportRun(context.em, userId, runId);
  return run ? run.errors : null;
}
