import type { RequestContext } from "../server/http/request-context";

// Remix hands every loader and action the per-request context built by the HTTP entry.
declare module "@remix-run/node" {
  interface AppLoadContext extends RequestContext {}
}

// Single Fetch types for useLoaderData/useActionData (remix.config.js enables the flag).
declare module "@remix-run/server-runtime" {
  interface Future {
    v3_singleFetch: true;
  }
}
