import { Form, Link } from "@remix-run/react";
import { useState } from "react";
import { DateTime } from "./date-time";
import { CsrfField, FormAlert } from "./form-fields";
import type { ArtifactRow, ArtifactsPanelData } from "./host-artifacts-data.server";
import { formatSize, shortSha } from "./host-artifacts-format";
import { ArtifactUploadForm } from "./host-artifacts-upload";
import { useHydrated } from "./host-hydrated";

/** What the host page's action answered for `delete-artifact`. */
export type ArtifactActionResult = { deleted?: string; error?: string } | null;

/**
 * The artifacts panel: a keyset-paginated list with download links (admin, operator,
 * auditor), delete with a confirmation step and the upload form (admin, operator). Every
 * control is a link or a form, so it all works without JavaScript.
 */
export function HostArtifactsPanel({
  hostId,
  csrfToken,
  data,
  result,
}: {
  hostId: number;
  csrfToken: string | null | undefined;
  data: ArtifactsPanelData;
  result: ArtifactActionResult;
}) {
  return (
    <div className="space-y-3" data-testid="artifacts-panel">
      {data.canWrite ? (
        <ArtifactUploadForm hostId={hostId} csrfToken={csrfToken} maxBytes={data.maxBytes} flash={data.flash} />
      ) : null}
      <FormAlert message={result?.deleted ? `Deleted ${result.deleted}.` : null} ok />
      <FormAlert message={result?.error} />
      <FormAlert message={data.cursorError} />
      <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="artifact-total">
        {data.total === 0 ? "No artifacts for this host yet." : `${data.total} ${data.total === 1 ? "artifact" : "artifacts"}`}
      </p>
      {data.items.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="table" aria-label="Artifacts">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Uploaded by</th>
                <th scope="col">Uploaded</th>
                {data.canDownload || data.canWrite ? (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => (
                <ArtifactTableRow key={item.id} item={item} data={data} csrfToken={csrfToken} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data.nextHref || data.firstHref ? (
        <nav className="flex gap-4 text-sm" aria-label="Artifact pages">
          {data.firstHref ? (
            <Link to={data.firstHref} className="link" preventScrollReset>
              ← First page
            </Link>
          ) : null}
          {data.nextHref ? (
            <Link to={data.nextHref} className="link" preventScrollReset>
              Older artifacts →
            </Link>
          ) : null}
        </nav>
      ) : null}
    </div>
  );
}

function ArtifactTableRow({ item, data, csrfToken }: { item: ArtifactRow; data: ArtifactsPanelData; csrfToken: string | null | undefined }) {
  return (
    <tr>
      <td className="break-all">{item.originalName}</td>
      <td className="whitespace-nowrap" title={`${item.sizeBytes} bytes`}>
        {formatSize(item.sizeBytes)}
      </td>
      <td className="whitespace-nowrap">
        <Sha256 value={item.sha256} />
      </td>
      <td className="break-all">{item.uploadedBy}</td>
      <td>
        <DateTime value={item.createdAt} />
      </td>
      {data.canDownload || data.canWrite ? (
        <td className="whitespace-nowrap">
          <div className="flex flex-wrap items-start gap-2">
            {data.canDownload ? (
              <a href={`/artifacts/${item.id}/download`} className="btn" download aria-label={`Download ${item.originalName}`}>
                Download
              </a>
            ) : null}
            {data.canWrite ? (
              <details>
                <summary className="btn btn-danger cursor-pointer list-none">Delete…</summary>
                <Form method="post" preventScrollReset className="mt-2 space-y-2 rounded border border-red-300 p-2 dark:border-red-800">
                  <CsrfField token={csrfToken} />
                  <input type="hidden" name="intent" value="delete-artifact" />
                  <input type="hidden" name="id" value={item.id} />
                  <input type="hidden" name="name" value={item.originalName} />
                  <p className="whitespace-normal text-sm">This removes the file for good.</p>
                  <button type="submit" className="btn btn-danger" aria-label={`Delete ${item.originalName} for good`}>
                    Delete for good
                  </button>
                </Form>
              </details>
            ) : null}
          </div>
        </td>
      ) : null}
    </tr>
  );
}

/**
 * The first 12 hex digits on screen; the whole value is in the title and is what a
 * selection copies (the box only clips it). With JavaScript a Copy button copies it.
 */
function Sha256({ value }: { value: string }) {
  const hydrated = useHydrated();
  const [copied, setCopied] = useState<string | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("Copied");
    } catch {
      setCopied("Select it and press Ctrl+C / ⌘C");
    }
  }

  return (
    <span className="inline-flex items-center gap-1">
      <code
        title={value}
        className="inline-block w-[12ch] select-all overflow-hidden whitespace-nowrap align-bottom font-mono"
        data-testid="artifact-sha"
        data-short={shortSha(value)}
      >
        {value}
      </code>
      {hydrated ? (
        <>
          <button type="button" className="link text-xs" onClick={() => void copy()} aria-label={`Copy SHA-256 ${shortSha(value)}`}>
            Copy
          </button>
          {copied ? (
            <span role="status" className="text-xs">
              {copied}
            </span>
          ) : null}
        </>
      ) : null}
    </span>
  );
}
