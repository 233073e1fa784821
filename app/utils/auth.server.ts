// Server-only auth helpers for routes. Importing them through a `.server` module keeps
// their dependencies (jose, zod schemas, node:crypto) out of the browser bundle.
export {
  appendCookies,
  clearedSessionCookies,
  deviceCookie,
  mfaPendingCookie,
  readCookie,
  sessionCookies,
} from "../../server/auth/cookies";
export { sameOrigin } from "../../server/auth/csrf";
