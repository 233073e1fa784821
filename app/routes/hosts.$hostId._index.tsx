import { type ActionFunctionArgs, data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { TRPCError } from "@trpc/server";
import type { ReactNode } from "react";
import { roleCan } from "../../server/auth/roles";
import { DateTime } from "../components/date-time";
import { FormAlert } from "../components/form-fields";
import { loadArtifactsPanel } from "../components/host-artifacts-data.server";
import { HostArtifactsPanel } from "../components/host-artifacts-panel";
import { loadMetricsPanel } from "../components/host-metrics-data.server";
import { HostMetricsPanel } from "../components/host-metrics-panel";
import { hostPageSettings } from "../components/host-metrics-settings.server";
import { SshCopyButton } from "../components/host-ssh-copy";
import { hostFilterParams } from "../components/host-utils";
import { callerFor, formError, pageError } from "../trpc/caller.server";
import { requireCapability } from "../utils/guards.server";
import { hostIdOr404 } from "../utils/host-params.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.host.hostname} · Hosts · OpsDesk` : "Host · OpsDesk" },
];

type SshSection =
  | { ok: true; command: string; template: string; templateSource: "host" | "default" }
  | { ok: false; message: string };

/**
 * Everything the page shows, one key per section: panels added later (metrics,
 * artifacts) add their own keys here.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireCapability(request, context, "hosts.view");
  const id = hostIdOr404(params.hostId, request);
  const identity = await context.identity();
  const caller = await callerFor(request, context);
  const host = await caller.hosts.get({ id }).catch((e) => pageError(e, request));
  const ssh: SshSection = await caller.hosts.sshCommand({ id }).then(
    (result) => ({ ok: true as const, ...result }),
    (error: unknown) => {
      // A template or field that cannot make a safe command is shown, not a broken page.
      if (error instanceof TRPCError && error.code === "PRECONDITION_FAILED") return { ok: false as const, message: error.message };
      return pageError(error, request);
    },
  );
  const url = new URL(request.url);
  const settings = await hostPageSettings(context);
  const metrics = await loadMetricsPanel(caller, {
    hostId: id,
    role: user.role,
    instance: host.effectivePrometheusInstance,
    settings,
    url,
  }).catch((e) => pageError(e, request));
  const artifacts = await loadArtifactsPanel(caller, { hostId: id, role: user.role, settings, url }).catch((e) =>
    pageError(e, request),
  );
  return {
    host,
    ssh,
    metrics,
    artifacts,
    canWrite: roleCan(user.role, "hosts.write"),
    csrfToken: identity.csrfToken,
  };
}

type ActionResult = { intent: string; copied?: boolean; deleted?: string; error?: string };

export async function action({ request, context, params }: ActionFunctionArgs) {
  const id = hostIdOr404(params.hostId, request);
  const form = await request.formData();
  const headers = new Headers();
  const caller = await callerFor(request, context, headers, { formCsrfToken: form.get("_csrf") });
  const intent = String(form.get("intent") ?? "");
  try {
    if (intent === "copy") {
      await caller.hosts.recordSshCopy({ id });
      return data<ActionResult>({ intent, copied: true }, { headers });
    }
    if (intent === "delete-artifact") {
      const artifactId = String(form.get("id") ?? "");
      const name = String(form.get("name") ?? "").slice(0, 255);
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(artifactId)) {
        return data<ActionResult>({ intent, error: "That artifact does not exist. Reload the page." }, { status: 400, headers });
      }
      await caller.artifacts.delete({ id: artifactId });
      return data<ActionResult>({ intent, deleted: name || "the artifact" }, { headers });
    }
    return data<ActionResult>({ intent, error: "Unknown action. Reload the page and try again." }, { status: 400, headers });
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") pageError(error, request);
    const failure = formError(error);
    return data<ActionResult>({ intent, error: failure.message }, { status: failure.status, headers });
  }
}

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-2 py-1.5">
      <dt className="font-medium text-slate-600 dark:text-slate-400">{label}</dt>
      <dd className="col-span-2 break-words">{children}</dd>
    </div>
  );
}

const Unset = () => <span className="text-slate-500 dark:text-slate-400">—</span>;

export default function HostPage() {
  const { host, ssh, metrics, artifacts, canWrite, csrfToken } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();

  return (
    <div className="space-y-6">
      <div>
        <p className="mb-2 text-sm">
          <Link to="/hosts" className="link">
            ← Hosts
          </Link>
        </p>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="break-all text-2xl font-bold">{host.hostname}</h1>
          {host.environment ? (
            <span className="rounded bg-sky-100 px-2 py-0.5 text-xs font-medium text-sky-900 dark:bg-sky-900 dark:text-sky-100">
              {host.environment}
            </span>
          ) : null}
          {canWrite ? (
            <div className="ml-auto flex gap-2">
              <Link to={`/hosts/${host.id}/edit`} className="btn">
                Edit
              </Link>
              <Link to={`/hosts/${host.id}/delete`} className="btn btn-danger">
                Delete
              </Link>
            </div>
          ) : null}
        </div>
      </div>

      <section className="card" aria-labelledby="ssh-heading">
        <h2 id="ssh-heading" className="mb-2 text-lg font-semibold">
          SSH command
        </h2>
        {ssh.ok ? (
          <>
            <label htmlFor="ssh-command" className="sr-only">
              SSH command for {host.hostname}
            </label>
            <div className="flex flex-wrap items-center gap-2">
              <input
                id="ssh-command"
                className="input min-w-0 flex-1 font-mono"
                readOnly
                value={ssh.command}
                spellCheck={false}
                onFocus={(event) => event.currentTarget.select()}
              />
              <SshCopyButton hostId={host.id} command={ssh.command} csrfToken={csrfToken} inputId="ssh-command" />
            </div>
            {result?.intent === "copy" && result.copied ? (
              <p role="status" className="alert-ok mt-2">
                Select the command and press Ctrl+C / ⌘C
              </p>
            ) : null}
            <FormAlert message={result?.intent === "copy" ? result.error : undefined} />
            <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
              {ssh.templateSource === "host" ? "From this host's own template" : "From the default template in settings"}:{" "}
              <code className="break-all">{ssh.template}</code>
            </p>
          </>
        ) : (
          <p role="alert" className="alert-error">
            {ssh.message}
          </p>
        )}
      </section>

      <section className="card" aria-labelledby="details-heading">
        <h2 id="details-heading" className="mb-2 text-lg font-semibold">
          Details
        </h2>
        <dl className="divide-y divide-slate-100 text-sm dark:divide-slate-700">
          <Detail label="Hostname">{host.hostname}</Detail>
          <Detail label="IP address">{host.ip ? <span className="font-mono">{host.ip}</span> : <Unset />}</Detail>
          <Detail label="Port">{host.port}</Detail>
          <Detail label="SSH user">{host.sshUser ?? <Unset />}</Detail>
          <Detail label="Bastion">{host.bastion ? <span className="font-mono">{host.bastion}</span> : <Unset />}</Detail>
          <Detail label="Environment">{host.environment ?? <Unset />}</Detail>
          <Detail label="OS">{host.os ?? <Unset />}</Detail>
          <Detail label="Tags">
            {host.tags.length ? (
              <ul className="flex flex-wrap gap-1" aria-label="Tags">
                {host.tags.map((tag) => (
                  <li key={tag}>
                    <Link
                      to={`/hosts?${hostFilterParams({ tags: [tag] })}`}
                      className="rounded-full bg-slate-100 px-2 py-0.5 text-xs hover:underline dark:bg-slate-700"
                    >
                      {tag}
                    </Link>
                  </li>
                ))}
              </ul>
            ) : (
              <Unset />
            )}
          </Detail>
          <Detail label="Prometheus instance">
            <span className="font-mono">{host.effectivePrometheusInstance}</span>
            {host.prometheusInstance ? null : <span className="ml-1 text-xs text-slate-500 dark:text-slate-400">(default)</span>}
          </Detail>
          <Detail label="SSH template">
            {host.sshTemplate ? <code className="break-all">{host.sshTemplate}</code> : <span className="text-slate-500 dark:text-slate-400">Default from settings</span>}
          </Detail>
          <Detail label="Created">
            <DateTime value={host.createdAt} />
          </Detail>
          <Detail label="Updated">
            <DateTime value={host.updatedAt} /> <span className="text-xs text-slate-500 dark:text-slate-400">(version {host.version})</span>
          </Detail>
        </dl>
        <h3 className="mb-1 mt-4 font-semibold">Notes</h3>
        {host.notes ? (
          <p className="whitespace-pre-wrap break-words text-sm" data-testid="host-notes">
            {host.notes}
          </p>
        ) : (
          <p className="text-sm text-slate-500 dark:text-slate-400">No notes.</p>
        )}
      </section>

      <section className="card" aria-labelledby="metrics-heading" data-panel="metrics">
        <h2 id="metrics-heading" className="mb-2 text-lg font-semibold">
          Metrics
        </h2>
        <HostMetricsPanel hostId={host.id} csrfToken={csrfToken} data={metrics} />
      </section>

      <section id="artifacts" className="card scroll-mt-4" aria-labelledby="artifacts-heading" data-panel="artifacts">
        <h2 id="artifacts-heading" className="mb-2 text-lg font-semibold">
          Artifacts
        </h2>
        <HostArtifactsPanel
          hostId={host.id}
          csrfToken={csrfToken}
          data={artifacts}
          result={result?.intent === "delete-artifact" ? { deleted: result.deleted, error: result.error } : null}
        />
      </section>
    </div>
  );
}
