import { TRPCError } from "@trpc/server";
import { roleCan, type Role } from "../../server/auth/roles";
import { parseUploadOutcome, type UploadOutcome } from "../../server/domain/artifacts/upload-outcome";
import type { EffectiveSettings } from "../../server/services/settings.service";
import type { callerFor } from "../trpc/caller.server";

type Caller = Awaited<ReturnType<typeof callerFor>>;

/** Artifacts per page of the host page's list. */
const PAGE_SIZE = 20;
/** Search parameters that report one event and must not follow the reader to another page. */
const ONE_SHOT_PARAMS = ["metrics", "artifact", "index", "artifactsCursor"];

export type ArtifactRow = {
  id: string;
  originalName: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  uploadedBy: string;
  createdAt: string;
};

export type ArtifactsPanelData = {
  canWrite: boolean;
  canDownload: boolean;
  maxBytes: number;
  items: ArtifactRow[];
  total: number;
  /** Link to the next page (keeps the page's other parameters), or null on the last page. */
  nextHref: string | null;
  /** Link back to the first page when this is a later one. */
  firstHref: string | null;
  /** A cursor that no longer works: the first page is shown with this message. */
  cursorError: string | null;
  /** What the upload form post just did (`?artifact=`), worded by the upload form. */
  flash: UploadOutcome | null;
};

function pageHref(url: URL, cursor: string | null): string {
  const params = new URLSearchParams(url.search);
  for (const name of ONE_SHOT_PARAMS) params.delete(name);
  if (cursor) params.set("artifactsCursor", cursor);
  const search = params.toString();
  return `${url.pathname}${search ? `?${search}` : ""}#artifacts`;
}

/** The artifacts panel's list page (keyset cursor `?artifactsCursor=`) and what the viewer may do. */
export async function loadArtifactsPanel(
  caller: Caller,
  options: { hostId: number; role: Role; settings: EffectiveSettings; url: URL },
): Promise<ArtifactsPanelData> {
  const { hostId, url } = options;
  const cursor = url.searchParams.get("artifactsCursor") || undefined;
  let cursorError: string | null = null;
  let page: Awaited<ReturnType<Caller["artifacts"]["list"]>>;
  try {
    page = await caller.artifacts.list({ hostId, cursor, limit: PAGE_SIZE });
  } catch (error) {
    if (!(cursor && error instanceof TRPCError && error.code === "BAD_REQUEST")) throw error;
    cursorError = error.message;
    page = await caller.artifacts.list({ hostId, limit: PAGE_SIZE });
  }
  return {
    canWrite: roleCan(options.role, "artifacts.write"),
    canDownload: roleCan(options.role, "artifacts.download"),
    maxBytes: options.settings["artifacts.maxBytes"],
    items: page.items.map((item) => ({
      id: item.id,
      originalName: item.originalName,
      sizeBytes: item.sizeBytes,
      sha256: item.sha256,
      contentType: item.contentType,
      uploadedBy: item.uploadedBy.email,
      createdAt: item.createdAt,
    })),
    total: page.total,
    nextHref: page.nextCursor ? pageHref(url, page.nextCursor) : null,
    firstHref: cursor && !cursorError ? pageHref(url, null) : null,
    cursorError,
    flash: parseUploadOutcome(url.searchParams.get("artifact")),
  };
}
