/**
 * The typed OpsDesk client for scripts and the `opsdesk` CLI.
 *
 *   import { createOpsDeskClient } from "../server/client"; // from a script in the repo
 *   const client = createOpsDeskClient({ url: "http://127.0.0.1:3000", token: process.env.OPSDESK_TOKEN });
 *   const { items } = await client.hosts.list.query({ environment: "prod" });
 *
 * Procedures (`client.<router>.<procedure>.query|mutate`) are the tRPC contract with
 * end-to-end types from `AppRouter`; they fail with `TRPCClientError<AppRouter>` whose
 * `.data?.code` is the tRPC code. The helpers beside them (`uploadArtifact`,
 * `downloadArtifact`, `updateMetrics`, `exportAudit`, `exportHosts`) call the plain HTTP
 * routes that move files and streams, and fail with `OpsDeskHttpError` (`status`, `code`).
 * A server that cannot be reached at all gives `OpsDeskConnectionError` from the helpers,
 * and a `TRPCClientError` whose cause chain `networkFailureReason()` recognises from
 * procedures. Everything goes through `fetch` (yours, if given), except an upload with the
 * default fetch: that one uses node:http, see node-upload.ts for why.
 *
 * Only types come from the server (`import type`): bundling this file (the CLI does)
 * pulls in nothing of the server's runtime code.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { createTRPCClient, httpBatchLink, type TRPCClient } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../trpc/root";
import { httpErrorFrom, isCutOff, OpsDeskConnectionError, networkFailureReason } from "./errors";
import { multipartFileBody, toWebStream, type UploadProgress } from "./multipart";
import { postStream } from "./node-upload";

export type { AppRouter };
export { TRPCClientError, isTRPCClientError } from "@trpc/client";
export {
  OpsDeskConnectionError,
  OpsDeskHttpError,
  type OpsDeskErrorCode,
  networkFailureReason,
} from "./errors";
export type { UploadProgress } from "./multipart";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
// The list's input is optional, so its inferred type includes void; only the object part has fields.
type HostListInput = Extract<RouterInputs["hosts"]["list"], { sort?: unknown }>;

export type OpsDeskClientOptions = {
  /** Base URL of the app, e.g. http://127.0.0.1:3000 (no /api/trpc). */
  url: string;
  /** An API token from /account (or an access JWT from `auth.login`); omit for `auth.login`. */
  token?: string;
  /** Another fetch (tests, proxies, retries); defaults to the global one. */
  fetch?: typeof globalThis.fetch;
  /** Sent as User-Agent; it shows in the audit log next to each action. */
  userAgent?: string;
};

/** The artifact as the upload route answers it (201). */
export type UploadedArtifact = {
  id: string;
  hostId: number;
  originalName: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  createdAt: string;
};

export type UploadOptions = {
  /** Defaults to the path's base name; required in practice for a stream ("upload" otherwise). */
  fileName?: string;
  /** Declared type of the part; the server sniffs the real one anyway. */
  contentType?: string;
  /** Size of a stream, when known: enables Content-Length and a percentage in progress. */
  size?: number;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
};

/** A streamed response body (download or export), read once. */
export type StreamedBody = {
  status: number;
  headers: Headers;
  /** The file name the server suggests (Content-Disposition), if any. */
  fileName: string | null;
  contentType: string | null;
  /** Bytes in this response (Content-Length), when the server says. */
  contentLength: number | null;
  body: ReadableStream<Uint8Array>;
  /** The body as a Node stream, for `pipeline()`. */
  nodeStream(): Readable;
  /** Streams the body into a file (never whole in memory); resolves to the bytes written. */
  saveTo(filePath: string, options?: { flags?: "w" | "wx" | "a" }): Promise<number>;
};

export type ArtifactDownload = StreamedBody & {
  /** 206 for a range, else 200. */
  partial: boolean;
  /** The whole file's size (from Content-Range on a partial answer). */
  totalBytes: number | null;
  /** The artifact's sha256 in quotes: pass it as `ifRange` when resuming. */
  etag: string | null;
};

export type DownloadOptions = {
  /** Bytes to fetch: `{ start }` resumes from an offset, or a raw `Range` header value. */
  range?: { start: number; end?: number } | string;
  /** Resume only when the file is still this one (the ETag of the first attempt). */
  ifRange?: string;
  signal?: AbortSignal;
};

export type AuditExportFilters = {
  format: "csv" | "jsonl";
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: Date | string;
  to?: Date | string;
  signal?: AbortSignal;
};

export type HostExportFilters = {
  q?: string;
  environment?: string;
  tags?: string[];
  sort?: HostListInput["sort"];
  signal?: AbortSignal;
};

export type MetricsSnapshot = RouterOutputs["metrics"]["update"];

/** The plain HTTP routes (files and streams), beside the procedures. */
export type OpsDeskRouteHelpers = {
  uploadArtifact(
    hostId: number,
    file: string | Readable | ReadableStream<Uint8Array>,
    options?: UploadOptions,
  ): Promise<UploadedArtifact>;
  downloadArtifact(artifactId: string, options?: DownloadOptions): Promise<ArtifactDownload>;
  updateMetrics(hostId: number, options?: { signal?: AbortSignal }): Promise<MetricsSnapshot>;
  exportAudit(filters: AuditExportFilters): Promise<StreamedBody>;
  exportHosts(filters?: HostExportFilters): Promise<StreamedBody>;
  /**
   * A CSV import streamed from a file (`POST /hosts/import.csv`): the file is never read
   * whole, and its bytes reach the server's parser as they are (invalid UTF-8 is reported
   * by line). The result is the one `hosts.importCsv` answers.
   */
  importHostsCsv(file: string, options?: { dryRun?: boolean; delimiter?: "auto" | "," | ";" }): Promise<ImportCsvResult>;
};

export type ImportCsvResult = RouterOutputs["hosts"]["importCsv"];

async function* fileChunks(file: string): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of createReadStream(file)) yield chunk as Buffer;
}

// The helpers share the client object with the routers; a router ever named like a
// helper would be shadowed, so that is a compile error here rather than a surprise.
type RouterNames = keyof AppRouter["_def"]["record"];
type HelperNameClash = Extract<keyof OpsDeskRouteHelpers, RouterNames>;
const noHelperNameClash: [HelperNameClash] extends [never] ? true : ["helper shadows a router", HelperNameClash] = true;
void noHelperNameClash;

export type OpsDeskClient = TRPCClient<AppRouter> & OpsDeskRouteHelpers;

// The tRPC endpoint caps a batch at 20 calls (server/http/trpc-endpoint.ts).
const MAX_BATCH_ITEMS = 20;
// Batched queries travel in the URL; stay well under Node's 16 KiB header limit.
const MAX_URL_LENGTH = 8_000;

export function createOpsDeskClient(options: OpsDeskClientOptions): OpsDeskClient {
  const baseUrl = options.url.replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const baseHeaders = (): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    "user-agent": options.userAgent ?? "opsdesk-client",
  });

  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl}/api/trpc`,
        headers: baseHeaders,
        fetch: fetchImpl,
        maxItems: MAX_BATCH_ITEMS,
        maxURLLength: MAX_URL_LENGTH,
      }),
    ],
  });

  /** A server that cannot be reached becomes OpsDeskConnectionError. */
  async function reach(send: () => Promise<Response>): Promise<Response> {
    try {
      return await send();
    } catch (error) {
      const reason = networkFailureReason(error);
      if (reason) throw new OpsDeskConnectionError(baseUrl, reason, { cause: error });
      throw error;
    }
  }

  /** fetch for the routes; an unexpected status becomes OpsDeskHttpError. */
  async function call(routePath: string, init: RequestInit, okStatuses: number[]): Promise<Response> {
    const response = await reach(() =>
      fetchImpl(`${baseUrl}${routePath}`, {
        ...init,
        headers: { ...baseHeaders(), accept: "application/json", ...(init.headers as Record<string, string> | undefined) },
      }),
    );
    if (!okStatuses.includes(response.status)) throw await httpErrorFrom(response);
    return response;
  }

  /**
   * The upload route refuses (401, 403, 404, 413) before reading the body and closes the
   * connection; when that close arrives while this side is still sending, the answer can
   * be lost and only EPIPE/ECONNRESET remains. The same request without a body is asked
   * instead: the server runs the same checks first, and an empty body stores nothing (it
   * is a 400 once the checks pass, which means the cut-off had another cause).
   */
  async function whyCutOff(routeUrl: string, cause: unknown): Promise<Error> {
    const probe = await fetchImpl(routeUrl, {
      method: "POST",
      headers: { ...baseHeaders(), accept: "application/json", "content-type": "multipart/form-data; boundary=opsdesk-probe" },
      body: "",
    }).catch(() => null);
    if (probe && !probe.ok && probe.status !== 400) return httpErrorFrom(probe);
    await probe?.body?.cancel().catch(() => undefined);
    const code = (cause as { code?: string }).code ?? (cause as { cause?: { code?: string } }).cause?.code ?? "connection closed";
    return new Error(
      `The server closed the connection before the upload finished (${code}); nothing was stored. ` +
        "Try again; a file over the server's upload limit can also end this way.",
      { cause },
    );
  }

  const helpers: OpsDeskRouteHelpers = {
    async importHostsCsv(file, importOptions = {}) {
      const size = (await stat(file)).size; // a missing file fails here, before any request
      const query = new URLSearchParams({
        dryRun: String(importOptions.dryRun ?? true),
        delimiter: importOptions.delimiter ?? "auto",
        fileName: path.basename(file),
      });
      const routeUrl = `${baseUrl}/hosts/import.csv?${query}`;
      const headers = { ...baseHeaders(), accept: "application/json", "content-type": "text/csv", "content-length": String(size) };
      const response = await reach(() =>
        options.fetch
          ? options.fetch(routeUrl, {
              method: "POST",
              headers,
              body: toWebStream(fileChunks(file)),
              duplex: "half",
            } as RequestInit & { duplex: "half" })
          : postStream(routeUrl, headers, createReadStream(file)),
      );
      if (response.status !== 200) throw await httpErrorFrom(response);
      return (await response.json()) as ImportCsvResult;
    },

    async uploadArtifact(hostId, file, uploadOptions = {}) {
      let source: Readable | ReadableStream<Uint8Array>;
      let size = uploadOptions.size ?? null;
      let fileName = uploadOptions.fileName;
      if (typeof file === "string") {
        // Stat first: a missing file fails here, before any request, with the usual ENOENT.
        size = (await stat(file)).size;
        source = createReadStream(file);
        fileName ??= path.basename(file);
      } else source = file;
      const multipart = multipartFileBody({
        source,
        fileName: fileName ?? "upload",
        contentType: uploadOptions.contentType ?? "application/octet-stream",
        size,
        onProgress: uploadOptions.onProgress,
      });
      const headers: Record<string, string> = { ...baseHeaders(), accept: "application/json", "content-type": multipart.contentType };
      // A known length lets the server refuse an oversize file before a byte is sent.
      if (multipart.contentLength !== null) headers["content-length"] = String(multipart.contentLength);
      const routeUrl = `${baseUrl}/artifacts/${encodeURIComponent(String(hostId))}/artifacts`;
      const send = () =>
        options.fetch
          ? // A fetch of the caller's own (tests, proxies) gets the body as a web stream;
            // `duplex: "half"` is how fetch is told the body is a stream.
            options.fetch(routeUrl, {
              method: "POST",
              headers,
              body: toWebStream(multipart.chunks),
              duplex: "half",
              signal: uploadOptions.signal,
            } as RequestInit & { duplex: "half" })
          : postStream(routeUrl, headers, multipart.chunks, uploadOptions.signal);
      const response = await send().catch(async (error: unknown) => {
        // The body may never have been read (no connection at all): close the file anyway.
        if (source instanceof ReadableStream) await source.cancel().catch(() => undefined);
        else source.destroy();
        if (isCutOff(error)) throw await whyCutOff(routeUrl, error);
        const reason = networkFailureReason(error);
        if (reason) throw new OpsDeskConnectionError(baseUrl, reason, { cause: error });
        throw error;
      });
      if (response.status !== 201) throw await httpErrorFrom(response);
      return (await response.json()) as UploadedArtifact;
    },

    async downloadArtifact(artifactId, downloadOptions = {}) {
      const headers: Record<string, string> = {};
      const range = downloadOptions.range;
      if (typeof range === "string") headers.range = range;
      else if (range) headers.range = `bytes=${range.start}-${range.end ?? ""}`;
      if (downloadOptions.ifRange) headers["if-range"] = downloadOptions.ifRange;
      const response = await call(
        `/artifacts/${encodeURIComponent(artifactId)}/download`,
        { method: "GET", headers, signal: downloadOptions.signal },
        [200, 206],
      );
      const streamed = streamedBody(response);
      const totalFromRange = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1];
      return {
        ...streamed,
        partial: response.status === 206,
        totalBytes: totalFromRange !== undefined ? Number(totalFromRange) : response.status === 200 ? streamed.contentLength : null,
        etag: response.headers.get("etag"),
      };
    },

    async updateMetrics(hostId, updateOptions = {}) {
      const response = await call(
        `/hosts/${encodeURIComponent(String(hostId))}/metrics:update`,
        { method: "POST", signal: updateOptions.signal },
        [200],
      );
      return (await response.json()) as MetricsSnapshot;
    },

    async exportAudit({ signal, format, from, to, ...filters }) {
      const query = new URLSearchParams({ format });
      for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
      if (from) query.set("from", from instanceof Date ? from.toISOString() : from);
      if (to) query.set("to", to instanceof Date ? to.toISOString() : to);
      return streamedBody(await call(`/audit/export?${query}`, { method: "GET", signal }, [200]));
    },

    async exportHosts({ signal, tags, ...filters } = {}) {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
      for (const tag of tags ?? []) query.append("tags", tag);
      const suffix = query.toString() ? `?${query}` : "";
      return streamedBody(await call(`/hosts/export.csv${suffix}`, { method: "GET", signal }, [200]));
    },
  };

  // One object for both: procedures stay where every tRPC example puts them
  // (`client.hosts.list.query()`), the helpers sit beside them. The tRPC client is itself
  // a Proxy that turns any property into a procedure path, so the helpers are looked up
  // first.
  return new Proxy(trpc, {
    get(target, property, receiver) {
      if (typeof property === "string" && Object.hasOwn(helpers, property)) {
        return helpers[property as keyof OpsDeskRouteHelpers];
      }
      return Reflect.get(target, property, receiver);
    },
  }) as OpsDeskClient;
}

function streamedBody(response: Response): StreamedBody {
  if (!response.body) throw new Error(`The server answered ${response.status} without a body.`);
  const body = response.body;
  const length = response.headers.get("content-length");
  const nodeStream = () =>
    // Node's and the DOM's ReadableStream types differ only in typing, not at run time.
    Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>);
  return {
    status: response.status,
    headers: response.headers,
    fileName: fileNameFrom(response.headers.get("content-disposition")),
    contentType: response.headers.get("content-type"),
    contentLength: length !== null && /^\d+$/.test(length) ? Number(length) : null,
    body,
    nodeStream,
    async saveTo(filePath, saveOptions = {}) {
      let written = 0;
      await pipeline(
        nodeStream(),
        async function* count(chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            written += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(filePath, { flags: saveOptions.flags ?? "w" }),
      );
      return written;
    },
  };
}

/** `filename*=UTF-8''…` wins over `filename="…"` (RFC 6266), as browsers do it. */
function fileNameFrom(disposition: string | null): string | null {
  if (!disposition) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (extended) {
    try {
      return decodeURIComponent(extended.trim());
    } catch {
      // A malformed escape: fall back to the plain parameter.
    }
  }
  return /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(disposition)?.[1] ?? /filename\s*=\s*([^;\s]+)/i.exec(disposition)?.[1] ?? null;
}
