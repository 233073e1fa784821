import type { HeadersFunction } from "@remix-run/node";

/**
 * For pages that may carry secrets or one-time values (a pending TOTP secret, a token shown
 * once): never cached. A procedure's headers (Retry-After on a 429 …) and cookies are kept.
 */
export const noStoreHeaders: HeadersFunction = ({ actionHeaders, loaderHeaders }) => {
  const out = new Headers(loaderHeaders);
  for (const [name, value] of actionHeaders) {
    if (name === "set-cookie") out.append(name, value);
    else out.set(name, value);
  }
  out.set("Cache-Control", "no-store");
  return out;
};
