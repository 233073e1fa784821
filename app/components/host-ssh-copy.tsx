import { Form } from "@remix-run/react";
import { useEffect, useState } from "react";
import { browserTrpc, preloadBrowserTrpc } from "../trpc/lazy";
import { CsrfField } from "./form-fields";
import { useHydrated } from "./host-hydrated";

type CopyState = { kind: "idle" } | { kind: "copied" } | { kind: "manual"; message: string };

/**
 * The SSH command's Copy button. Without JavaScript it is a form POST (intent `copy`)
 * that records the copy and brings the page back with a hint to copy by hand; with
 * JavaScript it writes to the clipboard and records the copy through tRPC (the client is
 * fetched while the browser is idle, not with the page).
 */
export function SshCopyButton({
  hostId,
  command,
  csrfToken,
  inputId,
}: {
  hostId: number;
  command: string;
  csrfToken: string | null | undefined;
  /** The read-only input holding the command (selected when the clipboard is unavailable). */
  inputId: string;
}) {
  const hydrated = useHydrated();
  const [state, setState] = useState<CopyState>({ kind: "idle" });
  useEffect(() => preloadBrowserTrpc(), []);

  if (!hydrated) {
    return (
      <Form method="post" className="inline">
        <CsrfField token={csrfToken} />
        <input type="hidden" name="intent" value="copy" />
        <button type="submit" className="btn">
          Copy
        </button>
      </Form>
    );
  }

  async function copy() {
    let copied = false;
    try {
      if (navigator.clipboard) {
        await navigator.clipboard.writeText(command);
        copied = true;
      }
    } catch {
      copied = false;
    }
    if (!copied) {
      const input = document.getElementById(inputId);
      if (input instanceof HTMLInputElement) {
        input.focus();
        input.select();
      }
    }
    setState(copied ? { kind: "copied" } : { kind: "manual", message: "Select the command and press Ctrl+C / ⌘C" });
    try {
      const { client } = await browserTrpc(csrfToken ?? null);
      await client.hosts.recordSshCopy.mutate({ id: hostId });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      setState({ kind: "manual", message: `${copied ? "Copied, but the" : "The"} copy was not recorded: ${reason}` });
    }
  }

  return (
    <>
      <button type="button" className="btn" onClick={() => void copy()}>
        Copy
      </button>
      <span role="status" className="text-sm" aria-live="polite">
        {state.kind === "copied" ? "Copied" : state.kind === "manual" ? state.message : ""}
      </span>
    </>
  );
}
