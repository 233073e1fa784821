import { Form, useNavigate } from "@remix-run/react";
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { CsrfField, Field, FormAlert } from "./form-fields";
import { formatBytes } from "./host-import-help";

type Phase =
  | { kind: "idle" }
  | { kind: "uploading"; loaded: number; total: number }
  | { kind: "checking" }
  | { kind: "opening" };

const UPLOAD_URL = "/hosts/import/upload";

/**
 * The dry-run form. Without JavaScript it is a plain multipart form post to the page's
 * action, which answers with the result page when the server is done. With JavaScript
 * the same body goes to /hosts/import/upload by XMLHttpRequest, which reports upload
 * progress (a bar with percent and bytes), then "Checking rows…" while the server works,
 * and can be cancelled; the result page opens when the run is stored.
 */
export function HostImportForm({
  csrfToken,
  maxBytes,
  error,
  submitLabel = "Dry run",
}: {
  csrfToken: string | null;
  maxBytes: number;
  error?: string | null;
  submitLabel?: string;
}) {
  const navigate = useNavigate();
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const [clientError, setClientError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const xhrRef = useRef<XMLHttpRequest | null>(null);

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
    setClientError(null);
    setNotice(null);
    if (file instanceof File && file.size > maxBytes) {
      setClientError(
        `The file is ${formatBytes(file.size)}; the import limit is ${formatBytes(maxBytes)}. Split it into smaller files and import them one by one.`,
      );
      return;
    }

    const xhr = new XMLHttpRequest();
    xhrRef.current = xhr;
    xhr.open("POST", UPLOAD_URL);
    xhr.setRequestHeader("Accept", "application/json");
    if (csrfToken) xhr.setRequestHeader("x-csrf-token", csrfToken);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) setPhase({ kind: "uploading", loaded: e.loaded, total: e.total });
    };
    xhr.upload.onload = () => setPhase({ kind: "checking" });
    xhr.onload = () => {
      xhrRef.current = null;
      let answer: { runId?: unknown; error?: unknown } = {};
      try {
        answer = JSON.parse(xhr.responseText) as typeof answer;
      } catch {
        // not JSON (a proxy's error page): reported by status below
      }
      if (xhr.status >= 200 && xhr.status < 300 && typeof answer.runId === "string") {
        setPhase({ kind: "opening" });
        navigate(`/hosts/import?run=${encodeURIComponent(answer.runId)}`);
        return;
      }
      setPhase({ kind: "idle" });
      if (xhr.status === 401) {
        setClientError("Error 401: your session has ended. Sign in again (in another tab to keep this page), then retry.");
        return;
      }
      const message = typeof answer.error === "string" ? answer.error : "The server could not check the file. Try again.";
      setClientError(`Error ${xhr.status}: ${message}`);
    };
    xhr.onerror = () => {
      xhrRef.current = null;
      setPhase({ kind: "idle" });
      setClientError("The upload failed: the connection to the server was lost. Check the network and try again.");
    };
    xhr.onabort = () => {
      xhrRef.current = null;
      setPhase({ kind: "idle" });
      setNotice("Upload cancelled. Nothing was checked or stored.");
    };
    setPhase({ kind: "uploading", loaded: 0, total: 0 });
    xhr.send(body);
  }

  return (
    <Form method="post" encType="multipart/form-data" className="card" onSubmit={onSubmit} replace>
      <CsrfField token={csrfToken} />
      <input type="hidden" name="intent" value="dry-run" />
      <FormAlert message={clientError ?? error} />
      <FormAlert message={notice} ok />
      <Field
        label="CSV file"
        name="file"
        hint={`UTF-8, at most ${formatBytes(maxBytes)}. A dry run checks every row and writes nothing.`}
      >
        <input className="input" id="file" name="file" type="file" accept=".csv,text/csv,text/plain" />
      </Field>
      <Field label="…or paste CSV" name="csv" hint="Instead of a file, not both. The first line names the columns.">
        <textarea
          className="input font-mono"
          id="csv"
          name="csv"
          rows={6}
          spellCheck={false}
          placeholder="hostname,ip,environment,tags"
        />
      </Field>
      <Field label="Delimiter" name="delimiter">
        <select className="input w-auto" id="delimiter" name="delimiter" defaultValue="auto">
          <option value="auto">Detect from the first line</option>
          <option value=",">Comma (,)</option>
          <option value=";">Semicolon (;)</option>
        </select>
      </Field>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {submitLabel}
        </button>
        {busy && phase.kind !== "opening" ? (
          <button type="button" className="btn" onClick={() => xhrRef.current?.abort()}>
            Cancel
          </button>
        ) : null}
      </div>
      <UploadProgress phase={phase} />
    </Form>
  );
}

function UploadProgress({ phase }: { phase: Phase }) {
  if (phase.kind === "idle") return null;
  let label: string;
  let bar: ReactNode;
  if (phase.kind === "uploading" && phase.total > 0) {
    const percent = Math.floor((phase.loaded / phase.total) * 100);
    label = `Uploading… ${percent}% (${formatBytes(phase.loaded)} of ${formatBytes(phase.total)})`;
    bar = <progress className="w-full" max={phase.total} value={phase.loaded} aria-label="Upload progress" />;
  } else {
    label = phase.kind === "uploading" ? "Uploading…" : phase.kind === "checking" ? "Checking rows…" : "Opening the results…";
    bar = <progress className="w-full" aria-label={label} />;
  }
  return (
    <div className="mt-3 space-y-1" data-testid="upload-progress">
      {bar}
      <p role="status" className="text-sm">
        {label}
      </p>
    </div>
  );
}
