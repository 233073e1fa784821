/** The import stopped because the file is bigger than allowed; nothing after the limit was read. */
export class CsvLimitError extends Error {
  override readonly name = "CsvLimitError";

  constructor(
    readonly limit: "bytes" | "rows",
    readonly max: number,
  ) {
    super(
      limit === "rows"
        ? `The file has more than ${formatCount(max, "row")}; the limit is ${max.toLocaleString("en-US")}`
        : `The file is larger than ${formatSize(max)}; the limit is ${formatSize(max)}`,
    );
  }
}

function formatCount(count: number, noun: string): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? noun : `${noun}s`}`;
}

function formatSize(bytes: number): string {
  const mebibyte = 1024 * 1024;
  if (bytes >= mebibyte && bytes % mebibyte === 0) return `${bytes / mebibyte} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return formatCount(bytes, "byte");
}
