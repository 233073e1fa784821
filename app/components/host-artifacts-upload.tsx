import { useRevalidator } from "@remix-run/react";
import { type FormEvent, useEffect, useRef, useState } from "react";
import type { UploadOutcome } from "../../server/domain/artifacts/upload-outcome";
import { CsrfField } from "./form-fields";
import { formatSize, formatSpeed, uploadOutcomeNotice } from "./host-artifacts-format";
import { useHydrated } from "./host-hydrated";

type Phase =
  | { kind: "idle" }
  | { kind: "uploading"; loaded: number; total: number; startedAt: number; now: number }
  | { kind: "storing" };

type Notice = { ok: boolean; text: string } | null;

/**
 * The upload form. Without JavaScript it is a plain multipart form post to
 * `/artifacts/:hostId/artifacts` (the CSRF field comes before the file, so the server can
 * check it before storing a byte); the server redirects back with `?artifact=<outcome>`
 * (`uploaded`, or why it refused the file), which this form words.
 * With JavaScript the same body goes by XMLHttpRequest for a progress bar (bytes, percent,
 * speed) and a Cancel button, then the list is revalidated.
 */
export function ArtifactUploadForm({
  hostId,
  csrfToken,
  maxBytes,
  flash,
}: {
  hostId: number;
  csrfToken: string | null | undefined;
  maxBytes: number;
  flash: UploadOutcome | null;
}) {
  const hydrated = useHydrated();
  const revalidator = useRevalidator();
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const [clientNotice, setNotice] = useState<Notice>(null);
  const notice = clientNotice ?? (flash ? uploadOutcomeNotice(flash, maxBytes) : null);
  const xhrRef = useRef<XMLHttpRequest | null>(null);
  const action = `/artifacts/${hostId}/artifacts`;

  // Leaving the page stops an upload still running.
  useEffect(() => () => xhrRef.current?.abort(), []);

  const busy = phase.kind !== "idle";

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    if (typeof XMLHttpRequest === "undefined" || typeof FormData === "undefined") return; // plain form post
    event.preventDefault();
    if (busy) return;
    const form = event.currentTarget;
    const body = new FormData(form);
    const file = body.get("file");
    if (!(file instanceof File) || file.name === "") {
      setNotice({ ok: false, text: "Choose a file to upload." });
      return;
    }
    if (file.size > maxBytes) {
      setNotice({ ok: false, text: `The file is ${formatSize(file.size)}; the upload limit is ${formatSize(maxBytes)}.` });
      return;
    }
    setNotice(null);
    const xhr = new XMLHttpRequest();
    xhrRef.current = xhr;
    xhr.open("POST", action);
    xhr.setRequestHeader("Accept", "application/json");
    if (csrfToken) xhr.setRequestHeader("x-csrf-token", csrfToken);
    const startedAt = Date.now();
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) setPhase({ kind: "uploading", loaded: e.loaded, total: e.total, startedAt, now: Date.now() });
    };
    xhr.upload.onload = () => setPhase({ kind: "storing" });
    xhr.onload = () => {
      xhrRef.current = null;
      setPhase({ kind: "idle" });
      let answer: { originalName?: unknown; sizeBytes?: unknown; error?: { message?: unknown } } = {};
      try {
        answer = JSON.parse(xhr.responseText) as typeof answer;
      } catch {
        // not JSON (a proxy's error page): reported by status below
      }
      if (xhr.status === 201) {
        const name = typeof answer.originalName === "string" ? answer.originalName : file.name;
        const size = typeof answer.sizeBytes === "number" ? ` (${formatSize(answer.sizeBytes)})` : "";
        setNotice({ ok: true, text: `Uploaded ${name}${size}.` });
        form.reset();
        revalidator.revalidate();
        return;
      }
      if (xhr.status === 401) {
        setNotice({ ok: false, text: "Error 401: your session has ended. Sign in again (in another tab to keep this page), then retry." });
        return;
      }
      const message =
        typeof answer.error?.message === "string" ? answer.error.message : "The upload failed on the server; nothing was stored. Try again.";
      setNotice({ ok: false, text: `Error ${xhr.status}: ${message}` });
    };
    xhr.onerror = () => {
      xhrRef.current = null;
      setPhase({ kind: "idle" });
      setNotice({ ok: false, text: "The upload failed: the connection to the server was lost. Check the network and try again." });
    };
    xhr.onabort = () => {
      xhrRef.current = null;
      setPhase({ kind: "idle" });
      setNotice({ ok: true, text: "Upload cancelled; nothing was stored." });
    };
    setPhase({ kind: "uploading", loaded: 0, total: file.size, startedAt, now: startedAt });
    xhr.send(body);
  }

  return (
    <form
      method="post"
      action={action}
      encType="multipart/form-data"
      onSubmit={onSubmit}
      className="space-y-2"
      data-testid="artifact-upload"
      data-enhanced={hydrated ? "" : undefined}
    >
      {/* Before the file: the server checks it before storing anything. */}
      <CsrfField token={csrfToken} />
      <div className="flex flex-wrap items-end gap-2">
        <div className="min-w-0 flex-1">
          <label className="label" htmlFor="artifact-file">
            Upload a file
          </label>
          <input id="artifact-file" className="input" type="file" name="file" required disabled={busy} />
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Upload
        </button>
        {busy ? (
          <button type="button" className="btn" onClick={() => xhrRef.current?.abort()}>
            Cancel
          </button>
        ) : null}
      </div>
      <p className="text-xs text-slate-500 dark:text-slate-400">At most {formatSize(maxBytes)} per file.</p>
      <UploadProgress phase={phase} />
      {notice ? (
        <p role={notice.ok ? "status" : "alert"} className={notice.ok ? "alert-ok" : "alert-error"} data-testid="artifact-notice">
          {notice.text}
        </p>
      ) : null}
    </form>
  );
}

function UploadProgress({ phase }: { phase: Phase }) {
  if (phase.kind === "idle") return null;
  if (phase.kind === "storing" || phase.total === 0) {
    const label = phase.kind === "storing" ? "Storing the file…" : "Uploading…";
    return (
      <div className="space-y-1" data-testid="upload-progress">
        <progress className="w-full" aria-label={label} />
        <p role="status" className="text-sm">
          {label}
        </p>
      </div>
    );
  }
  const percent = Math.floor((phase.loaded / phase.total) * 100);
  return (
    <div className="space-y-1" data-testid="upload-progress">
      <progress className="w-full" max={phase.total} value={phase.loaded} aria-label="Upload progress" />
      <p role="status" className="text-sm">
        Uploading… {percent}% ({formatSize(phase.loaded)} of {formatSize(phase.total)}, {formatSpeed(phase.loaded, phase.now - phase.startedAt)})
      </p>
    </div>
  );
}
