import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { Transform, type TransformCallback } from "node:stream";
import busboy from "busboy";
import type { Request, Response, Router } from "express";
import express from "express";
import { CSRF_FIELD, CSRF_HEADER, csrfTokenMatches } from "../auth/csrf";
import { contentDisposition, sanitiseOriginalName, storedExtension } from "../domain/artifacts/filename";
import { contentRange, parseRangeHeader, unsatisfiedContentRange } from "../domain/artifacts/range";
import { servedContentType, SNIFF_HEAD_BYTES, sniffContentType } from "../domain/artifacts/sniff";
import { type UploadOutcome, uploadFailureOfStatus } from "../domain/artifacts/upload-outcome";
import { findArtifact, recordArtifactDownload, recordUpload } from "../services/artifacts/artifacts.service";
import { type ArtifactStorage, type ArtifactUpload, hostFolder } from "../services/artifacts/storage";
import { getHost } from "../services/hosts/hosts.service";
import { getSettings } from "../services/settings.service";
import { DomainError } from "../errors";
import {
  HttpProblem,
  requireRouteCapability,
  type ResolveIdentity,
  type RouteAuth,
  sendProblem,
  wantsJson,
} from "./route-guard";
import { artifactStorage, type Runtime } from "./runtime";

/**
 * Artifact upload and download, served by Express directly: bytes flow as Node streams
 * (busboy → hash → file, file → socket) without the Web-stream round trip a Remix
 * resource route would add. Authorization is the same as the procedures' (roles table).
 */
export function artifactRoutes(runtime: Runtime, resolveIdentity: ResolveIdentity): Router {
  const router = express.Router();
  router.post("/artifacts/:hostId/artifacts", (req, res, next) => void upload(runtime, resolveIdentity, req, res).catch(next));
  router.get("/artifacts/:artifactId/download", (req, res, next) => void download(runtime, resolveIdentity, req, res).catch(next));
  router.head("/artifacts/:artifactId/download", (req, res, next) => void download(runtime, resolveIdentity, req, res).catch(next));
  return router;
}

/**
 * Counts bytes, hashes them and keeps the first few KB for content sniffing. Refuses the
 * first byte over the limit, so an oversize file fails while streaming and is never stored.
 */
class Inspector extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;
  head: Buffer[] = [];
  private headBytes = 0;
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new HttpProblem(413, `The file is larger than the upload limit of ${formatBytes(this.maxBytes)}.`));
      return;
    }
    this.hash.update(chunk);
    if (this.headBytes < SNIFF_HEAD_BYTES) {
      this.head.push(chunk.subarray(0, SNIFF_HEAD_BYTES - this.headBytes));
      this.headBytes += Math.min(chunk.length, SNIFF_HEAD_BYTES - this.headBytes);
    }
    done(null, chunk);
  }
}

async function upload(runtime: Runtime, resolveIdentity: ResolveIdentity, req: Request, res: Response) {
  const hostId = Number(req.params.hostId);
  const hostPage = `/hosts/${hostId}`;
  let auth: RouteAuth;
  try {
    auth = await requireRouteCapability(runtime, resolveIdentity, req, res, "artifacts.write");
    if (!Number.isInteger(hostId) || hostId <= 0) throw new HttpProblem(404, "No such host.");
    await getHost(auth.em, hostId).catch((e: unknown) => {
      throw e instanceof DomainError ? new HttpProblem(404, e.message) : e;
    });
  } catch (error) {
    if (error instanceof HttpProblem) return sendProblem(req, res, error.status, error.message, hostPage);
    throw error;
  }
  const { identity, em, user } = auth;
  // From here on a browser's form post is sent back to the host page, which says what happened.
  const backTo = (outcome: UploadOutcome) => `${hostPage}?artifact=${outcome}#artifacts`;
  const refuse = (status: number, message: string) =>
    sendProblem(req, res, status, message, hostPage, backTo(uploadFailureOfStatus(status)));
  const maxBytes = (await getSettings(em, runtime.config))["artifacts.maxBytes"];
  const declared = Number(req.get("content-length") ?? Number.NaN);
  if (declared > maxBytes + 64 * 1024) {
    return refuse(413, `The file is larger than the upload limit of ${formatBytes(maxBytes)}.`);
  }
  const storage = artifactStorage(runtime);
  let result: Received;
  try {
    result = await receiveFile(req, storage, hostId, maxBytes, runtime.config.uploadIdleTimeoutMs, (field) =>
      identity.authMethod !== "cookie" || csrfTokenMatches(identity.csrfToken, req.get(CSRF_HEADER) ?? field),
    );
  } catch (error) {
    if (error instanceof HttpProblem) return refuse(error.status, error.message);
    if (req.destroyed || req.readableAborted) return; // the client went away; nothing is left behind
    runtime.log.error({ err: error }, "upload failed");
    return refuse(500, "The upload failed on the server; nothing was stored. Try again.");
  }
  let artifact: Awaited<ReturnType<typeof recordUpload>>;
  try {
    await result.upload.commit();
    artifact = await recordUpload(
      em,
      runtime.config,
      user,
      {
        id: result.id,
        hostId,
        originalName: result.originalName,
        storedName: result.key,
        sizeBytes: result.sizeBytes,
        sha256: result.sha256,
        contentType: result.contentType,
      },
      auth.info,
    );
  } catch (error) {
    // The row did not commit: the bytes must not stay behind.
    await result.upload.abort().catch(() => undefined);
    await storage.remove(result.key).catch(() => undefined);
    throw error;
  }
  if (wantsJson(req)) {
    res.status(201).json({
      id: artifact.id,
      hostId: artifact.hostId,
      originalName: artifact.originalName,
      sizeBytes: artifact.sizeBytes,
      sha256: artifact.sha256,
      contentType: artifact.contentType,
      createdAt: artifact.createdAt,
    });
  } else {
    res.redirect(303, backTo("uploaded"));
  }
}

type Received = {
  id: string;
  key: string;
  upload: ArtifactUpload;
  originalName: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
};

/**
 * Streams the multipart body's `file` into the store under its final key, enforcing the
 * size limit while streaming. Any failure, a client abort or a stalled client (no bytes for
 * `idleTimeoutMs`: 408) aborts the upload, which removes whatever was written.
 */
function receiveFile(
  req: Request,
  storage: ArtifactStorage,
  hostId: number,
  maxBytes: number,
  idleTimeoutMs: number,
  csrfOk: (field: string | undefined) => boolean,
): Promise<Received> {
  return new Promise<Received>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // One byte over the limit is read so an oversize file is detected, not silently cut.
      bb = busboy({
        headers: req.headers,
        defParamCharset: "utf8",
        limits: { fileSize: maxBytes + 1, files: 1, fields: 10, fieldSize: 4096 },
      });
    } catch {
      reject(new HttpProblem(400, "Send the file as multipart/form-data in a field named \"file\"."));
      return;
    }
    let csrfField: string | undefined;
    let upload: ArtifactUpload | null = null;
    let settled = false;
    let writing: Promise<Received> | null = null;
    let fileStream: (NodeJS.ReadableStream & { destroy(error?: Error): void }) | null = null;
    // No default server timeout cuts a slow upload (requestTimeout is off): a client that
    // stops sending is answered 408 after this long without a byte instead.
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        finish(
          new HttpProblem(
            408,
            `The upload stalled: nothing arrived for ${Math.round(idleTimeoutMs / 1000)} s, so nothing was stored. Try again.`,
          ),
        );
      }, idleTimeoutMs);
      idle.unref();
    };
    const finish = (error: unknown, value?: Received) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      req.off("data", touch);
      req.unpipe(bb);
      if (error) {
        // Stop writing, then remove what was written (temporary file, parts or object).
        fileStream?.destroy(error instanceof Error ? error : new Error(String(error)));
        void (writing ?? Promise.resolve())
          .catch(() => undefined)
          .then(() => upload?.abort())
          .catch(() => undefined)
          .finally(() => reject(error));
        req.resume(); // drain what is left so the response can be sent
      } else resolve(value!);
    };
    touch();
    req.on("data", touch);
    req.on("aborted", () => finish(new Error("client aborted the upload")));
    req.on("close", () => {
      if (!req.complete) finish(new Error("client aborted the upload"));
    });
    bb.on("field", (name, value) => {
      if (name === CSRF_FIELD) csrfField = value;
    });
    bb.on("file", (name, file, info) => {
      if (name !== "file" || writing) {
        file.resume();
        return;
      }
      if (!csrfOk(csrfField)) {
        file.resume();
        finish(new HttpProblem(403, "This upload did not come from an OpsDesk page (missing or invalid CSRF token). Reload the page and try again."));
        return;
      }
      fileStream = file;
      const originalName = sanitiseOriginalName(info.filename ?? "file");
      const id = randomUUID();
      const key = `${hostFolder(hostId)}/${id}.${storedExtension(originalName)}`;
      writing = (async () => {
        upload = await storage.beginUpload(key);
        const inspector = new Inspector(maxBytes);
        await pipeline(file, inspector, upload.stream);
        return {
          id,
          key,
          upload,
          originalName,
          sizeBytes: inspector.bytes,
          sha256: inspector.hash.digest("hex"),
          contentType: sniffContentType(Buffer.concat(inspector.head)),
        };
      })();
      writing.catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOSPC" || code === "EDQUOT") {
          finish(new HttpProblem(507, "The artifact store is full; nothing was stored. Ask an admin to free space."));
        } else finish(error);
      });
    });
    bb.on("error", (error) => finish(error instanceof Error ? new HttpProblem(400, `The upload could not be read: ${error.message}`) : error));
    bb.on("close", () => {
      if (!writing) {
        finish(new HttpProblem(400, 'No file was sent: use a multipart field named "file".'));
        return;
      }
      writing.then(
        (value) => finish(null, value),
        () => undefined, // handled above
      );
    });
    req.pipe(bb);
  });
}

async function download(runtime: Runtime, resolveIdentity: ResolveIdentity, req: Request, res: Response) {
  let auth: RouteAuth;
  try {
    auth = await requireRouteCapability(runtime, resolveIdentity, req, res, "artifacts.download");
  } catch (error) {
    if (error instanceof HttpProblem) return sendProblem(req, res, error.status, error.message);
    throw error;
  }
  const artifact = await findArtifact(auth.em, String(req.params.artifactId));
  if (!artifact) return sendProblem(req, res, 404, "That artifact does not exist (it may have been deleted).");
  const storage = artifactStorage(runtime);
  const size = await storage.size(artifact.storedName);
  if (size === null) {
    runtime.log.error({ artifactId: artifact.id }, "artifact file missing");
    return sendProblem(req, res, 500, "The artifact's file is missing from the store; an admin has been told in the logs.");
  }
  const etag = `"${artifact.sha256}"`;
  res.setHeader("Content-Type", servedContentType(artifact.contentType));
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Content-Disposition", contentDisposition(artifact.originalName));
  res.setHeader("ETag", etag);
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("Cache-Control", "private, no-cache");
  res.setHeader("Content-Security-Policy", "default-src 'none'; sandbox");
  if (etagMatches(req.get("if-none-match"), etag)) {
    res.status(304).end();
    return;
  }
  // If-Range: resume only when the file is still the one the client started with.
  const ifRange = req.get("if-range");
  const rangeHeader = ifRange && ifRange !== etag ? undefined : req.get("range");
  const range = parseRangeHeader(rangeHeader, size);
  if (range.kind === "unsatisfiable") {
    res.setHeader("Content-Range", unsatisfiedContentRange(size));
    res.status(416).end();
    return;
  }
  const span = range.kind === "partial" ? { start: range.start, end: range.end } : size > 0 ? { start: 0, end: size - 1 } : null;
  if (range.kind === "partial") {
    res.status(206);
    res.setHeader("Content-Range", contentRange(range, size));
  } else res.status(200);
  res.setHeader("Content-Length", String(span ? span.end - span.start + 1 : 0));
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  // Only a download's first request is audited, not each range of a resume.
  if (!span || span.start === 0) {
    await recordArtifactDownload(auth.em, runtime.config, auth.user, artifact, rangeHeader ?? null, auth.info);
  }
  if (!span) {
    res.end();
    return;
  }
  const body = await storage.read(artifact.storedName, span);
  await pipeline(body, res).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") runtime.log.warn({ err: error }, "download interrupted");
  });
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const value = candidate.trim().replace(/^W\//, "");
    return value === "*" || (value.length === etag.length && timingSafeEqual(Buffer.from(value), Buffer.from(etag)));
  });
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
