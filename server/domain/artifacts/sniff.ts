/*
 * The stored content type comes from the file's first bytes, never from what the client
 * claimed: a claimed "image/png" that is really HTML would otherwise be served as HTML.
 * HTML, SVG and XML are deliberately never recognised: they come out as text/plain or
 * application/octet-stream, so nothing we serve can run script in our origin.
 */

/** How many leading bytes to pass to sniffContentType: covers the tar header at 257 and a useful text sample. */
export const SNIFF_HEAD_BYTES = 4096;

export const OCTET_STREAM = "application/octet-stream";
export const TEXT_PLAIN_UTF8 = "text/plain; charset=utf-8";

interface Signature {
  type: string;
  offset: number;
  bytes: readonly number[];
  /** A second fixed part (e.g. "WEBP" after the RIFF size). */
  also?: { offset: number; bytes: readonly number[] };
}

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

const SIGNATURES: readonly Signature[] = [
  { type: "image/png", offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: "image/jpeg", offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { type: "image/gif", offset: 0, bytes: ascii("GIF87a") },
  { type: "image/gif", offset: 0, bytes: ascii("GIF89a") },
  { type: "image/webp", offset: 0, bytes: ascii("RIFF"), also: { offset: 8, bytes: ascii("WEBP") } },
  { type: "application/pdf", offset: 0, bytes: ascii("%PDF-") },
  { type: "application/zip", offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: "application/zip", offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06] }, // empty archive
  { type: "application/zip", offset: 0, bytes: [0x50, 0x4b, 0x07, 0x08] }, // spanned archive
  { type: "application/gzip", offset: 0, bytes: [0x1f, 0x8b] },
  { type: "application/x-bzip2", offset: 0, bytes: ascii("BZh") },
  { type: "application/x-xz", offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { type: "application/zstd", offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { type: "application/x-7z-compressed", offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { type: "application/x-tar", offset: 257, bytes: ascii("ustar") },
  // pcap in both byte orders, microsecond and nanosecond variants; then pcapng.
  { type: "application/vnd.tcpdump.pcap", offset: 0, bytes: [0xa1, 0xb2, 0xc3, 0xd4] },
  { type: "application/vnd.tcpdump.pcap", offset: 0, bytes: [0xd4, 0xc3, 0xb2, 0xa1] },
  { type: "application/vnd.tcpdump.pcap", offset: 0, bytes: [0xa1, 0xb2, 0x3c, 0x4d] },
  { type: "application/vnd.tcpdump.pcap", offset: 0, bytes: [0x4d, 0x3c, 0xb2, 0xa1] },
  { type: "application/x-pcapng", offset: 0, bytes: [0x0a, 0x0d, 0x0d, 0x0a] },
];

function matchesAt(head: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (head.length < offset + bytes.length) return false;
  return bytes.every((byte, index) => head[offset + index] === byte);
}

/** The content type the first bytes of a file show; see SNIFF_HEAD_BYTES for how many to pass. */
export function sniffContentType(head: Uint8Array): string {
  for (const signature of SIGNATURES) {
    if (!matchesAt(head, signature.offset, signature.bytes)) continue;
    if (signature.also && !matchesAt(head, signature.also.offset, signature.also.bytes)) continue;
    return signature.type;
  }
  return looksLikeText(head) ? TEXT_PLAIN_UTF8 : OCTET_STREAM;
}

/**
 * Valid UTF-8 with no NUL and no control bytes other than tab, line breaks, form feed and ESC
 * (ANSI colours in logs). A multi-byte character cut off by the end of the head still counts.
 */
function looksLikeText(head: Uint8Array): boolean {
  for (const byte of head) {
    const allowedControl = byte === 0x09 || byte === 0x0a || byte === 0x0b || byte === 0x0c || byte === 0x0d || byte === 0x1b;
    if ((byte < 0x20 && !allowedControl) || byte === 0x7f) return false;
  }
  try {
    // stream: true tolerates a character split at the end of the sample.
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** Types we may send with their real Content-Type: inert images (no SVG), PDF, archives, plain text. */
const LABELLABLE: ReadonlySet<string> = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "application/pdf",
  "application/zip",
  "application/gzip",
  "application/x-bzip2",
  "application/x-xz",
  "application/zstd",
  "application/x-7z-compressed",
  "application/x-tar",
  "application/vnd.tcpdump.pcap",
  "application/x-pcapng",
  "text/plain",
]);

function essence(type: string): string {
  return type.split(";")[0]!.trim().toLowerCase();
}

export function isSafeToLabel(type: string): boolean {
  return LABELLABLE.has(essence(type));
}

/** The Content-Type to send for a stored type: itself when safe, else application/octet-stream. */
export function servedContentType(type: string): string {
  const kind = essence(type);
  if (!LABELLABLE.has(kind)) return OCTET_STREAM;
  // We only ever sniff UTF-8 text, so say so rather than repeat whatever charset was stored.
  return kind === "text/plain" ? TEXT_PLAIN_UTF8 : kind;
}
