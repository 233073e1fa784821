import { PrometheusError } from "./prometheus-error";

export type FetchLike = typeof fetch;

/** Where to reach Prometheus, with any credentials moved out of the URL. */
export interface PrometheusEndpoint {
  /** Base URL ending in "/" and without user:password, so API paths resolve under any prefix. */
  base: URL;
  /** Basic credentials taken from the URL: fetch refuses URLs that carry them. */
  authorization: string | undefined;
  /** What messages show: never includes the password. */
  display: string;
}

export function resolvePrometheusEndpoint(baseUrl: string | null | undefined): PrometheusEndpoint {
  const raw = baseUrl?.trim() ?? "";
  if (raw === "") {
    throw new PrometheusError(
      "not_configured",
      "No Prometheus URL is configured. Set PROMETHEUS_URL or the Prometheus URL in Settings.",
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PrometheusError(
      "not_configured",
      `The Prometheus URL "${raw}" is not a valid URL. Use a full address such as http://prometheus:9090.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PrometheusError(
      "not_configured",
      `The Prometheus URL must start with http:// or https:// (got ${url.protocol}//).`,
    );
  }
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`
      : undefined;
  url.username = "";
  url.password = "";
  url.search = "";
  url.hash = "";
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return { base: url, authorization, display: url.href.replace(/\/$/, "") };
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export interface DeadlineOptions {
  endpoint: PrometheusEndpoint;
  timeoutMs: number;
}

/**
 * Runs `work` under one local deadline shared by all its requests. When one request fails
 * the others are aborted too, so a failed refresh leaves no sockets behind.
 */
export async function withDeadline<T>(options: DeadlineOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const siblings = new AbortController();
  try {
    return await work(AbortSignal.any([deadline, siblings.signal]));
  } catch (error) {
    if (error instanceof PrometheusError) throw error;
    if (deadline.aborted) {
      throw new PrometheusError(
        "timeout",
        `Prometheus did not answer within ${formatSeconds(options.timeoutMs)} (${options.endpoint.display}). It may be overloaded; try again or raise the timeout.`,
        { cause: error },
      );
    }
    throw unreachable(options.endpoint, error);
  } finally {
    siblings.abort();
  }
}

function unreachable(endpoint: PrometheusEndpoint, error: unknown): PrometheusError {
  const code = errorCode(error);
  // fetch refuses some ports outright (the "bad ports" list, e.g. 9 or 6000).
  const badPort = /bad port/i.test(String((error as Error)?.cause ?? "") + String((error as Error)?.message ?? ""));
  const why = code ? describeNetworkCode(code) : badPort ? "that port is blocked by fetch; use another port" : "the connection failed";
  return new PrometheusError(
    "unreachable",
    `Could not reach Prometheus at ${endpoint.display}: ${why}. Check the Prometheus URL and that Prometheus is running.`,
    { cause: error },
  );
}

/** undici wraps the socket error ("fetch failed") with the useful code in `cause`. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

function describeNetworkCode(code: string): string {
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host name not found",
    EAI_AGAIN: "host name lookup failed",
    ECONNRESET: "connection reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
  };
  return `${known[code] ?? "network error"} (${code})`;
}

export interface GetJsonOptions {
  endpoint: PrometheusEndpoint;
  params: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  fetchImpl: FetchLike;
}

/** GETs an API path and returns parsed JSON; HTTP and JSON failures become PrometheusErrors. */
export async function getPrometheusJson(path: string, options: GetJsonOptions): Promise<unknown> {
  const url = new URL(path, options.endpoint.base);
  for (const [key, value] of Object.entries(options.params)) url.searchParams.set(key, value);
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.endpoint.authorization) headers.authorization = options.endpoint.authorization;

  const response = await options.fetchImpl(url, { method: "GET", headers, signal: options.signal, redirect: "follow" });
  const body = await response.text();
  const json = parseJson(body);
  if (!response.ok) throw httpError(response.status, json, options);
  if (json === undefined) {
    throw new PrometheusError(
      "bad_response",
      `${options.endpoint.display} answered with something that is not Prometheus API JSON. Check that the URL points to Prometheus itself.`,
    );
  }
  return json;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function httpError(status: number, json: unknown, options: GetJsonOptions): PrometheusError {
  const where = options.endpoint.display;
  const detail = prometheusErrorDetail(json);
  // Prometheus answers 503 with errorType "timeout" when its own query timeout is hit.
  if (status === 503 && detail?.type === "timeout") {
    return new PrometheusError(
      "timeout",
      `Prometheus gave up on the query after ${formatSeconds(options.timeoutMs)} (HTTP 503). It may be overloaded; try again later.`,
      { status },
    );
  }
  const hint =
    status === 401 || status === 403
      ? " Check the credentials in the Prometheus URL."
      : status === 404
        ? " Check that the URL points to Prometheus, including any path prefix."
        : "";
  const said = detail?.message ? `: ${detail.message.slice(0, 200)}` : "";
  return new PrometheusError("http_error", `Prometheus at ${where} answered HTTP ${status}${said}.${hint}`, { status });
}

function prometheusErrorDetail(json: unknown): { type?: string; message?: string } | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const record = json as Record<string, unknown>;
  return {
    type: typeof record.errorType === "string" ? record.errorType : undefined,
    message: typeof record.error === "string" ? record.error : undefined,
  };
}
