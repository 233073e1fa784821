import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import {
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  NavLink,
  Outlet,
  Scripts,
  ScrollRestoration,
  useRouteError,
  useRouteLoaderData,
} from "@remix-run/react";
import type { ReactNode } from "react";
import type { SessionUser } from "../server/auth/session-user";
import { type Capability, roleCan } from "../server/auth/roles";
import { CsrfField } from "./components/form-fields";
import { InlineStylesheet } from "./components/inline-stylesheet";
import { useNonce } from "./components/nonce";

// The stylesheet is inlined by <InlineStylesheet> (ADR 024), not linked.
export const links: LinksFunction = () => [{ rel: "icon", href: "/favicon.svg", type: "image/svg+xml" }];
export const meta: MetaFunction = () => [{ title: "OpsDesk" }];

export async function loader({ context }: LoaderFunctionArgs) {
  const identity = await context.identity();
  return { user: identity.user, csrfToken: identity.csrfToken };
}

const NAV: { to: string; label: string; capability: Capability }[] = [
  { to: "/hosts", label: "Hosts", capability: "hosts.view" },
  { to: "/audit", label: "Audit", capability: "audit.view" },
  { to: "/users", label: "Users", capability: "admin.manage" },
  { to: "/settings", label: "Settings", capability: "admin.manage" },
  { to: "/account", label: "Account", capability: "account.own" },
];

function Shell({ user, csrfToken, children }: { user: SessionUser | null; csrfToken?: string | null; children: ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
        <InlineStylesheet nonce={nonce} />
      </head>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 dark:bg-slate-900 dark:text-slate-100">
        <header className="border-b border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-800">
          <nav className="mx-auto flex max-w-6xl flex-wrap items-center gap-4 px-4 py-2" aria-label="Main">
            <Link to="/" className="font-bold">
              OpsDesk
            </Link>
            {user &&
              NAV.filter((item) => roleCan(user.role, item.capability)).map((item) => (
                <NavLink
                  key={item.to}
                  to={item.to}
                  className={({ isActive }) => (isActive ? "font-semibold underline" : "link")}
                >
                  {item.label}
                </NavLink>
              ))}
            <span className="ml-auto text-sm">
              {user ? (
                <form method="post" action="/logout" className="inline">
                  <CsrfField token={csrfToken} />
                  <span className="mr-2 text-slate-600 dark:text-slate-400">
                    {user.email} ({user.role})
                  </span>
                  <button type="submit" className="link">
                    Sign out
                  </button>
                </form>
              ) : (
                <Link to="/login" className="link">
                  Sign in
                </Link>
              )}
            </span>
          </nav>
        </header>
        <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  const data = useRouteLoaderData<typeof loader>("root");
  return (
    <Shell user={data?.user ?? null} csrfToken={data?.csrfToken}>
      <Outlet />
    </Shell>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const data = useRouteLoaderData<typeof loader>("root");
  let status = 500;
  let message = "Something went wrong on our side. The error was logged; try again in a moment.";
  if (isRouteErrorResponse(error)) {
    status = error.status;
    if (status === 404) message = "There is nothing at this address. Check the link, or go back to the host list.";
    else if (status === 403) message = typeof error.data === "string" && error.data ? error.data : "Your role does not allow this page.";
    else if (typeof error.data === "string" && error.data) message = error.data;
  }
  const title =
    status === 404
      ? "Not found"
      : status === 403
        ? "Forbidden"
        : status === 503
          ? "Temporarily unavailable"
          : status >= 500
            ? "Server error"
            : "Error";
  return (
    <Shell user={data?.user ?? null} csrfToken={data?.csrfToken}>
      <section className="card max-w-xl">
        <h1 className="mb-2 text-xl font-bold">
          {status} · {title}
        </h1>
        <p className="mb-4">{message}</p>
        <Link to="/" className="link">
          Go to the start page
        </Link>
      </section>
    </Shell>
  );
}
