import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config";
import { DomainError } from "../../errors";
import type { Logger } from "../../logger";
import { type AuditActor, type AuditRequestInfo, recordAuditEvent } from "../audit.service";
import type { ArtifactStorage } from "./storage";

export type ArtifactView = {
  id: string;
  hostId: number;
  originalName: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  uploadedBy: { id: number | null; email: string };
  createdAt: string;
};

type ArtifactRow = {
  id: string;
  host_id: number;
  original_name: string;
  stored_name: string;
  size_bytes: string | number;
  sha256: string;
  content_type: string;
  uploaded_by: number | null;
  uploaded_by_email: string;
  created_at: Date;
};

function view(row: ArtifactRow): ArtifactView {
  return {
    id: row.id,
    hostId: row.host_id,
    originalName: row.original_name,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    contentType: row.content_type,
    uploadedBy: { id: row.uploaded_by, email: row.uploaded_by_email },
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export async function listArtifacts(
  em: EntityManager,
  hostId: number,
  page: { cursor?: string; limit: number },
): Promise<{ items: ArtifactView[]; nextCursor: string | null; total: number }> {
  const params: unknown[] = [hostId];
  let where = "host_id = ?";
  if (page.cursor) {
    const [at, id] = decodeCursor(page.cursor);
    where += " and (created_at, id) < (?::timestamptz, ?::uuid)";
    params.push(at, id);
  }
  // The page and the host's total in one statement (one round trip; ADR 025). An empty
  // page still gives one row: the total, with the page's columns null.
  const found = await em.execute<(ArtifactRow & { total: string })[]>(
    `select a.*, c.total from (select count(*) as total from artifacts where host_id = ?) c
     left join lateral (select * from artifacts where ${where} order by created_at desc, id desc limit ?) a on true
     order by a.created_at desc, a.id desc`,
    [hostId, ...params, page.limit + 1],
  );
  const rows = found.filter((row) => row.id !== null);
  const count = { n: found[0]?.total };
  const items = rows.slice(0, page.limit).map(view);
  const last = rows.length > page.limit ? items[items.length - 1]! : null;
  return {
    items,
    nextCursor: last ? Buffer.from(JSON.stringify([last.createdAt, last.id])).toString("base64url") : null,
    total: Number(count?.n ?? 0),
  };
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown;
    if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "string") return [value[0], value[1]];
  } catch {
    // fall through
  }
  throw new DomainError("BAD_REQUEST", "That page link is not valid any more; start from the first page.");
}

/** The row and storage key of an artifact, for downloads. */
export async function findArtifact(em: EntityManager, id: string): Promise<(ArtifactView & { storedName: string }) | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const [row] = await em.execute<ArtifactRow[]>("select * from artifacts where id = ?", [id]);
  return row ? { ...view(row), storedName: row.stored_name } : null;
}

/**
 * A download is a sensitive read. A resumed download (a range not starting at 0) is the
 * same download continuing, so the route records only its first request.
 */
export async function recordArtifactDownload(
  em: EntityManager,
  config: Config,
  actor: AuditActor,
  artifact: Pick<ArtifactView, "id" | "hostId" | "originalName">,
  range: string | null,
  request: AuditRequestInfo,
): Promise<void> {
  await recordAuditEvent(em, config.secret, {
    actor,
    action: "ARTIFACT_DOWNLOADED",
    targetType: "artifact",
    targetId: artifact.id,
    after: { hostId: artifact.hostId, originalName: artifact.originalName, range },
    request,
  });
}

/** Records a stored upload (its file already renamed into place) with its audit event. */
export async function recordUpload(
  em: EntityManager,
  config: Config,
  actor: AuditActor & { id: number; email: string },
  artifact: { id: string; hostId: number; originalName: string; storedName: string; sizeBytes: number; sha256: string; contentType: string },
  request: AuditRequestInfo,
): Promise<ArtifactView> {
  return em.transactional(async (tx) => {
    const [row] = await tx.execute<ArtifactRow[]>(
      `insert into artifacts (id, host_id, original_name, stored_name, size_bytes, sha256, content_type, uploaded_by, uploaded_by_email)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
      [
        artifact.id,
        artifact.hostId,
        artifact.originalName,
        artifact.storedName,
        artifact.sizeBytes,
        artifact.sha256,
        artifact.contentType,
        actor.id,
        actor.email,
      ],
    );
    const stored = view(row!);
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "ARTIFACT_UPLOADED",
      targetType: "artifact",
      targetId: stored.id,
      after: { hostId: stored.hostId, originalName: stored.originalName, sizeBytes: stored.sizeBytes, sha256: stored.sha256 },
      request,
    });
    return stored;
  });
}

/**
 * Deletes an artifact: the row goes (with its audit event and a queued file removal) in
 * one transaction; the file is removed after commit. A failed removal stays queued and is
 * retried by the cleanup job, so a row never points at a missing file and files do not leak.
 */
export async function deleteArtifact(
  em: EntityManager,
  config: Config,
  storage: ArtifactStorage,
  actor: AuditActor,
  id: string,
  request: AuditRequestInfo,
  log?: Logger,
): Promise<{ id: string; hostId: number }> {
  const artifact = await findArtifact(em, id);
  if (!artifact) throw new DomainError("NOT_FOUND", "That artifact does not exist (it may have been deleted).");
  await em.transactional(async (tx) => {
    const deleted = await tx.execute<{ stored_name: string }[]>("delete from artifacts where id = ? returning stored_name", [id]);
    if (deleted.length === 0) throw new DomainError("NOT_FOUND", "That artifact was deleted meanwhile.");
    await tx.execute("insert into artifact_file_deletions (stored_name) values (?) on conflict do nothing", [artifact.storedName]);
    await recordAuditEvent(tx, config.secret, {
      actor,
      action: "ARTIFACT_DELETED",
      targetType: "artifact",
      targetId: id,
      before: { hostId: artifact.hostId, originalName: artifact.originalName, sizeBytes: artifact.sizeBytes, sha256: artifact.sha256 },
      request,
    });
  });
  await processFileDeletions(em, storage, log);
  return { id, hostId: artifact.hostId };
}

/** Removes queued files; what fails stays queued with its error for the next run. */
export async function processFileDeletions(em: EntityManager, storage: ArtifactStorage, log?: Logger): Promise<number> {
  const queued = await em.execute<{ stored_name: string }[]>(
    "select stored_name from artifact_file_deletions order by queued_at limit 1000",
  );
  let removed = 0;
  for (const { stored_name } of queued) {
    try {
      await storage.remove(stored_name);
      await em.execute("delete from artifact_file_deletions where stored_name = ?", [stored_name]);
      removed++;
    } catch (error) {
      log?.warn({ err: error, storedName: stored_name }, "artifact file removal failed; will retry");
      await em.execute(
        "update artifact_file_deletions set attempts = attempts + 1, last_error = ? where stored_name = ?",
        [String((error as Error).message).slice(0, 500), stored_name],
      );
    }
  }
  return removed;
}

/**
 * Files no row knows about: uploads interrupted by a crash (`.upload-*` temp files) and
 * files renamed into place whose row never committed. Only old ones are removed, so an
 * upload in progress on another instance is never touched.
 */
export async function sweepOrphanFiles(em: EntityManager, storage: ArtifactStorage, minAgeMs = 3_600_000): Promise<number> {
  const files = (await storage.list()).filter((f) => f.ageMs > minAgeMs);
  if (files.length === 0) return 0;
  const known = new Set(
    (
      await em.execute<{ stored_name: string }[]>(
        "select stored_name from artifacts where stored_name in (select jsonb_array_elements_text(?::jsonb))",
        [JSON.stringify(files.map((f) => f.key))],
      )
    ).map((r) => r.stored_name),
  );
  let removed = 0;
  for (const file of files) {
    if (known.has(file.key)) continue;
    await storage.remove(file.key);
    removed++;
  }
  return removed;
}
